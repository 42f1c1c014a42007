//! `GET /_local/mail`: the emails the in-memory mailer sent, newest first, as their reader
//! would see them: the HTML body rendered, the text body with its links clickable; and
//! beside them the account events the team's backend would have received.

use chrono::SecondsFormat;
use unipile_connect::adapters::memory::SentEmail;
use unipile_connect::domain::events::LifecycleEvent;

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

/// A value as the event's JSON writes it (`emailed`, `service`...).
fn word(value: &impl serde::Serialize) -> String {
    serde_json::to_value(value)
        .ok()
        .and_then(|v| v.as_str().map(str::to_owned))
        .unwrap_or_default()
}

/// The events, newest first, one item each: type, status and sequence, then when, whose
/// account, and what the event adds.
fn events_table(events: &[LifecycleEvent]) -> String {
    if events.is_empty() {
        return "<p class=\"empty\">No event published yet.</p>".to_owned();
    }
    let mut rows = String::new();
    for event in events.iter().rev() {
        let at = event.timestamp.to_rfc3339_opts(SecondsFormat::Secs, true);
        let shown = event.timestamp.format("%Y-%m-%d %H:%M:%S");
        let data = &event.data;
        let mut more = Vec::new();
        if let Some(previous) = &data.previous_status {
            more.push(format!("from {}", previous.as_str()));
        }
        if let Some(how) = data.how {
            more.push(format!("how: {}", how.as_str()));
        }
        if let Some(action) = data.action {
            more.push(format!("action: {}", word(&action)));
        }
        if let Some(by) = data.by {
            more.push(format!("by: {}", word(&by)));
        }
        rows.push_str(&format!(
            "<li><p class=\"what\"><code>{kind}</code> <span class=\"status\">{status}</span> \
             <span class=\"seq\">#{sequence}</span></p>\
             <p class=\"about\"><time datetime=\"{at}\">{shown}</time> · {account} ({provider}) \
             of {user}{more}</p></li>",
            kind = event.kind.as_str(),
            account = escape(data.account_id.as_str()),
            provider = escape(data.provider.as_str()),
            user = escape(data.user_id.as_str()),
            status = escape(data.status.as_str()),
            more = if more.is_empty() {
                String::new()
            } else {
                format!(" · {}", escape(&more.join(", ")))
            },
            sequence = data.sequence,
        ));
    }
    format!("<ol class=\"events\" aria-label=\"Account events, newest first (UTC)\">{rows}</ol>")
}

pub fn render(sent: &[SentEmail], events: &[LifecycleEvent]) -> String {
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
         {body}\
         <h1>Account events</h1>\
         <p>What the team's backend would receive on the event bus ({events_count}). \
         As JSON: <a href=\"/_local/events\">/_local/events</a></p>{events}</main></body></html>",
        count = emails.len(),
        events_count = events.len(),
        events = events_table(events),
    )
}

const STYLE: &str = "body{font-family:system-ui,sans-serif;color:#1f1f1f;max-width:48rem;margin:0 auto;padding:1.5rem 1rem}\
a{color:#0b57d0}a:focus-visible{outline:3px solid #0b57d0;outline-offset:2px}\
.email{border:1px solid #c4c7cc;border-radius:8px;padding:1rem;margin:1rem 0}\
.email h2{font-size:1.15rem;margin:0 0 .5rem}.email h3{font-size:.95rem;color:#5c5f63;margin:1rem 0 .25rem}\
dl{margin:0;display:flex;flex-wrap:wrap;gap:.25rem 1.5rem}dl div{display:flex;gap:.35rem}dt{color:#5c5f63}dd{margin:0;overflow-wrap:anywhere}\
iframe{width:100%;height:22rem;border:1px solid #c4c7cc;border-radius:4px;resize:vertical}\
pre{white-space:pre-wrap;overflow-wrap:anywhere;background:#f6f7f9;padding:.75rem;border-radius:4px;margin:0}\
.events{list-style:none;padding:0;margin:0}.events li{border-bottom:1px solid #c4c7cc;padding:.5rem 0}\
.events p{margin:0}.events .about{color:#5c5f63;font-size:.9rem;overflow-wrap:anywhere}\
.events .status{font-weight:600}.events .seq{color:#5c5f63}";

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
        let page = render(&[email("older", 1), email("newer <b>", 2)], &[]);
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
        let empty = render(&[], &[]);
        assert!(empty.contains("No email sent yet.") && empty.contains("No event published yet."));
    }

    #[test]
    fn the_events_are_listed_newest_first_with_what_they_add_escaped() {
        use unipile_connect::domain::events::{
            Disconnector, EventSubject, Fact, How, RecordedFact,
        };
        use unipile_connect::domain::{AccountId, AccountStatus, Provider, UserId};
        let subject = EventSubject {
            user_id: UserId::parse("u<1>").expect("user"),
            account_id: AccountId::parse("acc_1").expect("account"),
            provider: Provider::Whatsapp,
        };
        let at = |minute| {
            Utc.with_ymd_and_hms(2026, 3, 1, 12, minute, 0)
                .single()
                .expect("date")
        };
        let connected = RecordedFact::new(Fact::Status { how: How::Hosted }, at(1))
            .expect("fact")
            .written(None, &AccountStatus::Ok, None)
            .event(&subject, 1)
            .expect("an event");
        let gone = RecordedFact::new(
            Fact::Disconnected {
                by: Disconnector::Service,
            },
            at(2),
        )
        .expect("fact")
        .written(Some(AccountStatus::Ok), &AccountStatus::Ok, None)
        .event(&subject, 2)
        .expect("an event");
        let page = render(&[], &[connected, gone]);
        let newest = page.find("account.disconnected").expect("listed");
        let oldest = page.find("account.connected").expect("listed");
        assert!(newest < oldest);
        assert!(page.contains("by: service") && page.contains("how: hosted"));
        assert!(page.contains("of u&lt;1&gt;"));
    }
}
