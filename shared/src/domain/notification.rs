//! The emails we send, rendered from the template files in `shared/templates/` (edit those to
//! change the wording; they are compiled in). `{{name}}` placeholders are filled in, escaped
//! for HTML in the HTML part.

use super::{Account, Email};
use url::Url;

const CREDENTIALS_TEXT: &str = include_str!("../../templates/credentials_needed.txt");
const CREDENTIALS_HTML: &str = include_str!("../../templates/credentials_needed.html");
const DETAIL_RECONNECT_FAILED: &str = include_str!("../../templates/detail_reconnect_failed.txt");
const DETAIL_EXTENSION_STALE: &str = include_str!("../../templates/detail_extension_stale.txt");
const DETAIL_CHECKPOINT: &str = include_str!("../../templates/detail_checkpoint.txt");

/// What else the email says about how the account got here.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Detail {
    /// The hourly cookie reconnects all failed.
    ReconnectFailed,
    /// The extension's newest cookie is from `since`: it may have stopped syncing.
    ExtensionStale {
        since: chrono::DateTime<chrono::Utc>,
    },
    /// The provider asked for a verification (`2FA`, `OTP`, `CAPTCHA`...).
    Checkpoint { kind: String },
}

/// An email ready to hand to a mailer.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OutgoingEmail {
    pub to: Email,
    pub subject: String,
    pub text: String,
    pub html: String,
}

/// Where a user reconnects an account: `APP_BASE_URL` joined with a path in which
/// `{account_id}` stands for the account.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ReconnectLink {
    pub app_base_url: Url,
    pub path: String,
}

impl ReconnectLink {
    pub fn for_account(&self, account: &Account) -> String {
        let id: String =
            url::form_urlencoded::byte_serialize(account.account_id.as_str().as_bytes()).collect();
        let path = self.path.replace("{account_id}", &id);
        let base = self.app_base_url.as_str().trim_end_matches('/');
        format!("{base}/{}", path.trim_start_matches('/'))
    }
}

/// Text made safe inside HTML (element content and quoted attributes).
pub fn escape_html(text: &str) -> String {
    text.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
        .replace('\'', "&#39;")
}

fn fill(template: &str, values: &[(&str, &str)], escape: bool) -> String {
    values
        .iter()
        .fold(template.to_owned(), |text, (name, value)| {
            let value = if escape {
                escape_html(value)
            } else {
                (*value).to_owned()
            };
            text.replace(&format!("{{{{{name}}}}}"), &value)
        })
}

/// The text template starts with a `Subject:` line; the rest is the body.
fn split_subject(text: &str) -> (String, String) {
    match text.split_once('\n') {
        Some((first, rest)) if first.starts_with("Subject:") => (
            first.trim_start_matches("Subject:").trim().to_owned(),
            rest.trim_start_matches('\n').to_owned(),
        ),
        _ => (String::new(), text.to_owned()),
    }
}

/// "Your account needs reconnecting", for an account Unipile reported in CREDENTIALS, with
/// what we know of why.
pub fn credentials_needed(
    to: Email,
    account: &Account,
    link: &ReconnectLink,
    details: &[Detail],
) -> OutgoingEmail {
    let reconnect_url = link.for_account(account);
    let provider = account.account_type.display_name();
    let paragraphs: Vec<String> = details
        .iter()
        .map(|detail| {
            let (template, since, kind) = match detail {
                Detail::ReconnectFailed => (DETAIL_RECONNECT_FAILED, String::new(), ""),
                Detail::ExtensionStale { since } => (
                    DETAIL_EXTENSION_STALE,
                    since.format("%Y-%m-%d %H:%M UTC").to_string(),
                    "",
                ),
                Detail::Checkpoint { kind } => (DETAIL_CHECKPOINT, String::new(), kind.as_str()),
            };
            let values = [
                ("provider", provider),
                ("last_cookie", since.as_str()),
                ("checkpoint", kind),
            ];
            fill(template.trim(), &values, false)
        })
        .collect();
    let details_text: String = paragraphs.iter().map(|p| format!("{p}\n\n")).collect();
    let details_html: String = paragraphs
        .iter()
        .map(|p| format!("<p>{}</p>\n  ", escape_html(p)))
        .collect();
    let values = [
        ("provider", provider),
        (
            "account_name",
            account
                .display_name
                .as_deref()
                .unwrap_or(account.account_id.as_str()),
        ),
        ("account_id", account.account_id.as_str()),
        ("reconnect_url", reconnect_url.as_str()),
    ];
    let (subject, text) = split_subject(&fill(CREDENTIALS_TEXT, &values, false));
    // Filled last, so that the placeholders inside them are not filled again.
    let text = text.replace("{{details}}", &details_text);
    let html = fill(CREDENTIALS_HTML, &values, true).replace("{{details}}", &details_html);
    OutgoingEmail {
        to,
        subject,
        text,
        html,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{AccountId, AccountStatus, Provider, UserId};
    use chrono::Utc;

    fn account(id: &str) -> Account {
        Account {
            account_id: AccountId::parse(id).expect("id"),
            user_id: UserId::parse("u1").expect("user"),
            account_type: Provider::Linkedin,
            display_name: Some("Jane Doe".into()),
            status: AccountStatus::Credentials,
            last_update: Utc::now(),
            created_on: Utc::now(),
            pending: None,
            restart_attempted_at: None,
            linkedin_member_id: None,
            linkedin_profile_id: None,
            cookie_reconnect: None,
            outage: None,
            emailed_outage: None,
            emailed_by: None,
            email_sent_at: None,
            email_uncertain_at: None,
            outbox: Default::default(),
        }
    }

    fn link() -> ReconnectLink {
        ReconnectLink {
            app_base_url: Url::parse("https://app.example.com/").expect("url"),
            path: "/accounts?reconnect={account_id}".into(),
        }
    }

    #[test]
    fn the_email_names_the_provider_the_account_and_the_reconnect_link() {
        let email = credentials_needed(
            Email::parse("jane@example.com").expect("email"),
            &account("acc_1"),
            &link(),
            &[],
        );
        assert!(!email.text.contains("extension"));
        assert_eq!(
            email.subject,
            "Your LinkedIn account needs to be reconnected"
        );
        assert!(
            email
                .text
                .contains("https://app.example.com/accounts?reconnect=acc_1")
        );
        assert!(email.text.contains("acc_1") && !email.text.contains("{{"));
        assert!(email.text.contains("(Jane Doe)"));
        assert!(
            email
                .html
                .contains("href=\"https://app.example.com/accounts?reconnect=acc_1\"")
        );
        assert!(!email.html.contains("{{"));
    }

    #[test]
    fn after_failed_reconnects_with_a_stale_extension_the_email_says_so() {
        let since = chrono::TimeZone::with_ymd_and_hms(&Utc, 2026, 2, 27, 8, 30, 0)
            .single()
            .expect("date");
        let details = [Detail::ReconnectFailed, Detail::ExtensionStale { since }];
        let email = credentials_needed(
            Email::parse("jane@example.com").expect("email"),
            &account("acc_1"),
            &link(),
            &details,
        );
        assert!(email.text.contains("once an hour for four hours"));
        assert!(
            email
                .text
                .contains("has not sent us your LinkedIn session since 2026-02-27 08:30 UTC")
        );
        assert!(
            email
                .html
                .contains("<p>The browser extension has not sent us")
        );
        assert!(!email.text.contains("{{") && !email.html.contains("{{"));

        let fresh = credentials_needed(
            Email::parse("jane@example.com").expect("email"),
            &account("acc_1"),
            &link(),
            &[Detail::ReconnectFailed],
        );
        assert!(!fresh.text.contains("has not sent us"));
        let checkpoint = credentials_needed(
            Email::parse("jane@example.com").expect("email"),
            &account("acc_1"),
            &link(),
            &[Detail::Checkpoint { kind: "2FA".into() }],
        );
        assert!(checkpoint.text.contains("asked for a verification (2FA)"));
    }

    #[test]
    fn values_are_escaped_in_html_and_encoded_in_links() {
        let email = credentials_needed(
            Email::parse("jane@example.com").expect("email"),
            &account("a<b>&c"),
            &link(),
            &[],
        );
        assert!(email.html.contains("a&lt;b&gt;&amp;c"));
        assert!(!email.html.contains("a<b>"));
        assert!(email.text.contains("reconnect=a%3Cb%3E%26c"));
    }
}
