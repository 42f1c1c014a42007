use crate::open_string_enum;

open_string_enum!(
    /// An account's status as Unipile reports it: the account-status webhook `message`
    /// values and the `sources[].status` values (contract §5b, §6).
    AccountStatus {
        Ok => "OK",
        Error => "ERROR",
        Stopped => "STOPPED",
        Credentials => "CREDENTIALS",
        Permissions => "PERMISSIONS",
        Connecting => "CONNECTING",
        Deleted => "DELETED",
        CreationSuccess => "CREATION_SUCCESS",
        Reconnected => "RECONNECTED",
        SyncSuccess => "SYNC_SUCCESS",
    }
);

impl AccountStatus {
    /// The two events that mean "this account is now connected", whichever channel
    /// (notify_url or webhook) brought them.
    pub fn is_connection_success(&self) -> bool {
        matches!(self, Self::CreationSuccess | Self::Reconnected)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_documented_status_parses_to_its_own_variant() {
        for text in AccountStatus::KNOWN {
            let status = AccountStatus::from(*text);
            assert!(!matches!(status, AccountStatus::Unknown(_)), "{text}");
            assert_eq!(status.as_str(), *text);
        }
        assert_eq!(
            AccountStatus::from("PAUSED"),
            AccountStatus::Unknown("PAUSED".to_owned())
        );
    }

    #[test]
    fn only_creation_and_reconnection_count_as_connection_success() {
        assert!(AccountStatus::CreationSuccess.is_connection_success());
        assert!(AccountStatus::Reconnected.is_connection_success());
        assert!(!AccountStatus::Ok.is_connection_success());
    }
}
