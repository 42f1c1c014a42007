//! The emails we send, rendered from the template files in `shared/templates/` (edit those to
//! change the wording; they are compiled in). `{{name}}` placeholders are filled in, escaped
//! for HTML in the HTML part.

use super::{Account, Email};
use url::Url;

const CREDENTIALS_TEXT: &str = include_str!("../../templates/credentials_needed.txt");
const CREDENTIALS_HTML: &str = include_str!("../../templates/credentials_needed.html");

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

fn escape_html(text: &str) -> String {
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

/// "Your account needs reconnecting", for an account Unipile reported in CREDENTIALS.
pub fn credentials_needed(to: Email, account: &Account, link: &ReconnectLink) -> OutgoingEmail {
    let reconnect_url = link.for_account(account);
    let values = [
        ("provider", account.account_type.display_name()),
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
    OutgoingEmail {
        to,
        subject,
        text,
        html: fill(CREDENTIALS_HTML, &values, true),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::{AccountId, AccountStatus, Provider, UserId};
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
        );
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
    fn values_are_escaped_in_html_and_encoded_in_links() {
        let email = credentials_needed(
            Email::parse("jane@example.com").expect("email"),
            &account("a<b>&c"),
            &link(),
        );
        assert!(email.html.contains("a&lt;b&gt;&amp;c"));
        assert!(!email.html.contains("a<b>"));
        assert!(email.text.contains("reconnect=a%3Cb%3E%26c"));
    }
}
