use super::{AccountId, AccountStatus, IdError, Provider};
use serde::Deserialize;

/// An account event from Unipile, whichever of its two shapes carried it (contract §3, §5b):
/// the hosted-auth `notify_url` call `{"status","account_id","name"}` or the account-status
/// webhook `{"AccountStatus":{"account_id","account_type","message"}}`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UnipileEvent {
    pub account_id: AccountId,
    pub status: AccountStatus,
    /// Only the webhook shape names the account type.
    pub account_type: Option<Provider>,
    /// Only the notify shape echoes the link's `name` (our user id).
    pub name: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum UnipileEventError {
    #[error("the body is not JSON: {0}")]
    NotJson(String),
    #[error("the body is neither a notify_url callback nor an AccountStatus webhook")]
    UnknownShape,
    #[error("`account_id`: {0}")]
    BadAccountId(IdError),
}

// Unipile owns these shapes: unknown fields are ignored, not refused.
#[derive(Deserialize)]
#[serde(untagged)]
enum Shape {
    Webhook {
        #[serde(rename = "AccountStatus")]
        account_status: WebhookBody,
    },
    Notify {
        status: String,
        account_id: String,
        #[serde(default)]
        name: Option<String>,
    },
}

#[derive(Deserialize)]
struct WebhookBody {
    account_id: String,
    #[serde(default)]
    account_type: Option<String>,
    message: String,
}

impl UnipileEvent {
    pub fn parse(body: &[u8]) -> Result<Self, UnipileEventError> {
        let value: serde_json::Value =
            serde_json::from_slice(body).map_err(|e| UnipileEventError::NotJson(e.to_string()))?;
        let shape: Shape =
            serde_json::from_value(value).map_err(|_| UnipileEventError::UnknownShape)?;
        let (account_id, status, account_type, name) = match shape {
            Shape::Webhook { account_status: w } => (w.account_id, w.message, w.account_type, None),
            Shape::Notify {
                status,
                account_id,
                name,
            } => (account_id, status, None, name),
        };
        Ok(Self {
            account_id: AccountId::parse(account_id).map_err(UnipileEventError::BadAccountId)?,
            status: AccountStatus::from(status),
            account_type: account_type.map(Provider::from),
            name,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_notify_shape_carries_status_account_and_name() {
        let event = UnipileEvent::parse(
            br#"{"status":"CREATION_SUCCESS","account_id":"e54m8LR22bA7G5qsAc8w","name":"myuser1234"}"#,
        )
        .expect("parses");
        assert_eq!(event.status, AccountStatus::CreationSuccess);
        assert_eq!(event.account_id.as_str(), "e54m8LR22bA7G5qsAc8w");
        assert_eq!(event.name.as_deref(), Some("myuser1234"));
        assert_eq!(event.account_type, None);
    }

    #[test]
    fn the_webhook_shape_carries_message_and_type() {
        let event = UnipileEvent::parse(
            br#"{"AccountStatus":{"account_id":"h_EKCy2lRLef5NzHp0iw4A","account_type":"LINKEDIN","message":"RECONNECTED","webhook_name":"x"}}"#,
        )
        .expect("parses");
        assert_eq!(event.status, AccountStatus::Reconnected);
        assert_eq!(event.account_type, Some(Provider::Linkedin));
        assert_eq!(event.name, None);
    }

    #[test]
    fn unknown_statuses_are_kept_and_extra_fields_ignored() {
        let event = UnipileEvent::parse(
            br#"{"status":"CREATION_FAILED","account_id":"a1","name":"u","extra":1}"#,
        )
        .expect("parses");
        assert_eq!(
            event.status,
            AccountStatus::Unknown("CREATION_FAILED".into())
        );
    }

    #[test]
    fn malformed_bodies_say_what_is_wrong() {
        assert!(matches!(
            UnipileEvent::parse(b"{nope"),
            Err(UnipileEventError::NotJson(_))
        ));
        assert_eq!(
            UnipileEvent::parse(br#"{"hello":1}"#),
            Err(UnipileEventError::UnknownShape)
        );
        assert!(matches!(
            UnipileEvent::parse(br#"{"status":"OK","account_id":""}"#),
            Err(UnipileEventError::BadAccountId(_))
        ));
    }
}
