//! `GET /_local/mail`: the emails the in-memory mailer sent, newest first, as their reader
//! would see them: the HTML body rendered, the text body with its links clickable.

use chrono::SecondsFormat;
use unipile_connect::adapters::memory::SentEmail;

use unipile_connect::domain::notification::escape_html as escape;

/// The text body, escaped, with each http(s) address made a link (as mail readers do).
fn text_with_links(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let mut rest = text;
    while let Some(start) = ["https://", "http://"]
        .iter()
        .filter_map(|scheme| rest.find(scheme))
        .min()
    {
        out.push_str(&escape(&rest[..start]));
        let tail = &rest[start..];
        let end = tail
            .find(|c: char| c.is_whitespace() || matches!(c, '<' | '>' | '"'))
            .unwrap_or(tail.len());
        // A sentence's closing punctuation is not part of the address.
        let url = tail[..end].trim_end_matches(['.', ',', ';', ':', ')', '!', '?']);
        out.push_str(&format!(
            "<a href=\"{0}\" target=\"_top\">{0}</a>",
            escape(url)
        ));
        rest = &tail[url.len()..];
    }
    out.push_str(&escape(rest));
    out
}

/// The HTML body for an iframe's `srcdoc`: its links open in this tab, like a mail reader
/// following a link, rather than inside the frame.
fn framed_html(html: &str) -> String {
    let base = "<base target=\"_top\">";
    match html.find("<head>") {
        Some(at) => format!("{}{base}{}", &html[..at + 6], &html[at + 6..]),
        None => format!("{base}{html}"),
    }
}

pub fn render(sent: &[SentEmail]) -> String {
    let mut emails = sent.to_vec();
    emails.sort_by_key(|email| std::cmp::Reverse(email.sent_at));
    let mut body = String::new();
    if emails.is_empty() {
        body.push_str("<p class=\"empty\">No email sent yet.</p>");
    }
    for (index, email) in emails.iter().enumerate() {
        let subject = escape(&email.subject);
        let sent_at = email.sent_at.to_rfc3339_opts(SecondsFormat::Secs, true);
        body.push_str(&format!(
            "<article class=\"email\" aria-labelledby=\"mail-{index}\">\
             <h2 id=\"mail-{index}\">{subject}</h2>\
             <dl><div><dt>To</dt><dd class=\"to\">{to}</dd></div>\
             <div><dt>Sent</dt><dd><time datetime=\"{sent_at}\">{sent_at}</time></dd></div></dl>\
             <h3>As HTML</h3>\
             <iframe title=\"HTML body of: {subject}\" \
             sandbox=\"allow-popups allow-popups-to-escape-sandbox allow-top-navigation-by-user-activation\" \
             srcdoc=\"{html}\"></iframe>\
             <h3>As text</h3><pre class=\"text\">{text}</pre></article>",
            to = escape(&email.to),
            html = escape(&framed_html(&email.html)),
            text = text_with_links(&email.text),
        ));
    }
    format!(
        "<!doctype html><html lang=\"en\"><head><meta charset=\"utf-8\">\
         <meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\
         <title>Emails sent (local stack)</title><style>{STYLE}</style></head><body><main>\
         <h1>Emails sent</h1>\
         <p>What the local stack's mailer sent, newest first ({count}). \
         <a href=\"/\">Back to your accounts</a> · as JSON: <a href=\"/_local/emails\">/_local/emails</a></p>\
         {body}</main></body></html>",
        count = emails.len(),
    )
}

const STYLE: &str = "body{font-family:system-ui,sans-serif;color:#1f1f1f;max-width:48rem;margin:0 auto;padding:1.5rem 1rem}\
a{color:#0b57d0}a:focus-visible{outline:3px solid #0b57d0;outline-offset:2px}\
.email{border:1px solid #c4c7cc;border-radius:8px;padding:1rem;margin:1rem 0}\
.email h2{font-size:1.15rem;margin:0 0 .5rem}.email h3{font-size:.95rem;color:#5c5f63;margin:1rem 0 .25rem}\
dl{margin:0;display:flex;flex-wrap:wrap;gap:.25rem 1.5rem}dl div{display:flex;gap:.35rem}dt{color:#5c5f63}dd{margin:0;overflow-wrap:anywhere}\
iframe{width:100%;height:22rem;border:1px solid #c4c7cc;border-radius:4px;resize:vertical}\
pre{white-space:pre-wrap;overflow-wrap:anywhere;background:#f6f7f9;padding:.75rem;border-radius:4px;margin:0}";

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::{TimeZone, Utc};

    fn email(subject: &str, minute: u32) -> SentEmail {
        SentEmail {
            to: "demo@example.com".into(),
            subject: subject.into(),
            text: "Reconnect: http://127.0.0.1:8787/?reconnect=acc_1.\nThanks <team>".into(),
            html: "<html><head></head><body><a href=\"http://127.0.0.1:8787/?reconnect=acc_1\">Reconnect</a></body></html>".into(),
            sent_at: Utc
                .with_ymd_and_hms(2026, 3, 1, 12, minute, 0)
                .single()
                .expect("date"),
        }
    }

    #[test]
    fn emails_are_listed_newest_first_with_links_that_leave_the_frame() {
        let page = render(&[email("older", 1), email("newer <b>", 2)]);
        let newer = page.find("newer &lt;b&gt;").expect("escaped subject");
        let older = page.find(">older<").expect("older subject");
        assert!(newer < older);
        assert!(page.contains(
            "<a href=\"http://127.0.0.1:8787/?reconnect=acc_1\" target=\"_top\">http://127.0.0.1:8787/?reconnect=acc_1</a>."
        ));
        assert!(page.contains("Thanks &lt;team&gt;"));
        assert!(
            page.contains("srcdoc=\"&lt;html&gt;&lt;head&gt;&lt;base target=&quot;_top&quot;&gt;")
        );
    }

    #[test]
    fn no_email_says_so() {
        assert!(render(&[]).contains("No email sent yet."));
    }
}
