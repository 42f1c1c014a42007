use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

/// One stretch of an account's ill health: it begins when a status other than OK is recorded
/// (the account needs its user, a restart, or is reconnecting) and ends when the account is
/// healthy again or gone. Its id scopes what must happen at most once per outage: the owner's
/// email and the reconnect schedules.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Outage {
    /// 12 hex characters: short enough for schedule names, unique enough per account.
    pub id: String,
    pub since: DateTime<Utc>,
}

impl Outage {
    pub fn begin(now: DateTime<Utc>) -> Result<Self, String> {
        Ok(Self {
            id: super::pending::random_hex::<6>()?,
            since: now,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn outage_ids_are_short_hex_and_differ() {
        let now = Utc::now();
        let (a, b) = (
            Outage::begin(now).expect("id"),
            Outage::begin(now).expect("id"),
        );
        assert_eq!(a.id.len(), 12);
        assert!(a.id.chars().all(|c| c.is_ascii_hexdigit()));
        assert_ne!(a.id, b.id);
    }
}
