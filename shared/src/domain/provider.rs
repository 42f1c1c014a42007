use crate::open_string_enum;

open_string_enum!(
    /// A messaging or mail provider: the names the hosted-auth link takes in `providers`
    /// and the `type` values Unipile gives an account (contract §2 and §6).
    Provider {
        Linkedin => "LINKEDIN",
        Whatsapp => "WHATSAPP",
        Instagram => "INSTAGRAM",
        Messenger => "MESSENGER",
        Telegram => "TELEGRAM",
        Twitter => "TWITTER",
        Google => "GOOGLE",
        Outlook => "OUTLOOK",
        Mail => "MAIL",
        Mobile => "MOBILE",
        GoogleOauth => "GOOGLE_OAUTH",
        Icloud => "ICLOUD",
        GoogleCalendar => "GOOGLE_CALENDAR",
        Slack => "SLACK",
        Exchange => "EXCHANGE",
    }
);

impl Provider {
    /// Only these may be named in a hosted-auth link's `providers` array (contract §2);
    /// the others are account `type` values Unipile reports back.
    pub fn offered_by_hosted_auth(&self) -> bool {
        matches!(
            self,
            Self::Linkedin
                | Self::Whatsapp
                | Self::Instagram
                | Self::Messenger
                | Self::Telegram
                | Self::Twitter
                | Self::Google
                | Self::Outlook
                | Self::Mail
        )
    }
}

impl Provider {
    /// The name a user knows the provider by, for emails and pages.
    pub fn display_name(&self) -> &str {
        match self {
            Self::Linkedin => "LinkedIn",
            Self::Whatsapp => "WhatsApp",
            Self::Instagram => "Instagram",
            Self::Messenger => "Messenger",
            Self::Telegram => "Telegram",
            Self::Twitter => "X",
            Self::Google | Self::GoogleOauth => "Google",
            Self::GoogleCalendar => "Google Calendar",
            Self::Outlook => "Outlook",
            Self::Mail => "email (IMAP)",
            Self::Mobile => "mobile",
            Self::Icloud => "iCloud",
            Self::Slack => "Slack",
            Self::Exchange => "Exchange",
            Self::Unknown(other) => other,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn known_values_round_trip_and_unknown_ones_are_kept() {
        for text in Provider::KNOWN {
            assert_eq!(Provider::from(*text).as_str(), *text);
            assert!(!matches!(Provider::from(*text), Provider::Unknown(_)));
        }
        assert_eq!(
            Provider::from("BLUESKY"),
            Provider::Unknown("BLUESKY".into())
        );
        let json = serde_json::to_string(&Provider::from("BLUESKY")).expect("serializes");
        assert_eq!(json, "\"BLUESKY\"");
    }

    #[test]
    fn account_types_that_are_not_hosted_auth_providers_are_refused_in_links() {
        assert!(Provider::Linkedin.offered_by_hosted_auth());
        assert!(Provider::Mail.offered_by_hosted_auth());
        assert!(!Provider::GoogleOauth.offered_by_hosted_auth());
        assert!(!Provider::Unknown("X".into()).offered_by_hosted_auth());
    }
}
