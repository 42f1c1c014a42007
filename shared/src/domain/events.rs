//! Lifecycle events: what the team's own backend hears about its users' accounts.
//!
//! A fact is recorded on the account item in the same conditional write as the change it
//! reports (the item's outbox, [`Outbox`]), and published after; a write that changes nothing
//! records nothing, so a repeated delivery, a late notify or a replayed webhook yields no
//! second event. Each recorded fact becomes at most one [`LifecycleEvent`], whose id is the
//! fact's own: the same on every retry and redelivery.

use super::{AccountId, AccountStatus, Outage, Provider, UserId};
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

/// A fact's id: `evt_`, the epoch milliseconds it was recorded at (13 digits), `_`, 12 random
/// hex characters. Ids sort in the order facts were recorded (to the millisecond).
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct EventId(String);

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("not an event id (evt_, 13 digits, _, 12 hex characters)")]
pub struct EventIdError;

impl EventId {
    const PREFIX: &'static str = "evt_";

    /// A new id for a fact recorded at `at`.
    pub fn new(at: DateTime<Utc>) -> Result<Self, String> {
        let millis = at.timestamp_millis().clamp(0, 9_999_999_999_999);
        Ok(Self(format!(
            "{}{millis:013}_{}",
            Self::PREFIX,
            super::pending::random_hex::<6>()?
        )))
    }

    pub fn parse(text: &str) -> Result<Self, EventIdError> {
        let rest = text.strip_prefix(Self::PREFIX).ok_or(EventIdError)?;
        let (millis, random) = rest.split_once('_').ok_or(EventIdError)?;
        let valid = millis.len() == 13
            && millis.bytes().all(|b| b.is_ascii_digit())
            && random.len() == 12
            && random
                .bytes()
                .all(|b| matches!(b, b'0'..=b'9' | b'a'..=b'f'));
        valid.then(|| Self(text.to_owned())).ok_or(EventIdError)
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// When the fact was recorded, as the id says.
    pub fn recorded_at(&self) -> Option<DateTime<Utc>> {
        let millis = self.0.get(Self::PREFIX.len()..Self::PREFIX.len() + 13)?;
        DateTime::from_timestamp_millis(millis.parse().ok()?)
    }
}

impl TryFrom<String> for EventId {
    type Error = EventIdError;
    fn try_from(text: String) -> Result<Self, EventIdError> {
        Self::parse(&text)
    }
}

impl From<EventId> for String {
    fn from(id: EventId) -> Self {
        id.0
    }
}

impl std::fmt::Display for EventId {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

/// How an account came to be connected, or back to health.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum How {
    /// Through a hosted-auth link (create or reconnect).
    Hosted,
    /// With the extension's LinkedIn cookie.
    Cookie,
    /// Through the team's own authentication page.
    Custom,
    /// After the automatic restart.
    Restart,
    /// Unipile changed it by itself (reported by its webhook, or found by the reconciliation).
    Unipile,
}

impl How {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Hosted => "hosted",
            Self::Cookie => "cookie",
            Self::Custom => "custom",
            Self::Restart => "restart",
            Self::Unipile => "unipile",
        }
    }
}

/// What the bundle did when an account needed its user.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum CredentialsAction {
    /// The owner was emailed (the mail service accepted the email).
    Emailed,
    /// The mail service did not say whether it sent the email.
    EmailUncertain,
    /// A reconnect with the extension's newest cookie started.
    CookieReconnectStarted,
    /// Nobody could be emailed: no verified address is known for the owner.
    NoVerifiedEmail,
}

/// Who disconnected an account.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Disconnector {
    /// The account's owner (`DELETE /accounts/{id}`).
    User,
    /// The team's backend (`DELETE /service/accounts/{id}`).
    Service,
}

/// A fact as recorded in the outbox.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "fact", rename_all = "snake_case")]
pub enum Fact {
    /// A status confirmed with Unipile was written (`how` it came about). Which event it is
    /// (connected, reconnected, status changed, deleted, or none) depends on the status the
    /// same write replaced ([`RecordedFact::previous`]).
    Status { how: How },
    /// The account needs its user, and this is what the bundle did about it.
    CredentialsNeeded { action: CredentialsAction },
    /// Every cookie reconnect of the outage failed.
    ReconnectExhausted,
    /// The account was disconnected (deleted at Unipile and here).
    Disconnected { by: Disconnector },
}

/// One recorded fact, waiting in the outbox to be published.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RecordedFact {
    pub id: EventId,
    pub at: DateTime<Utc>,
    pub fact: Fact,
    /// The account's status once the fact was written: filled by the store (the status a
    /// [`Fact::Status`] write wrote; the others change no status).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub status: Option<AccountStatus>,
    /// The status the write replaced (`None`: the write created the account), filled by the
    /// store from the same write.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub previous: Option<AccountStatus>,
    /// The outage open once the fact was written, filled by the store from the same write.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub outage: Option<Outage>,
}

impl RecordedFact {
    /// A fact recorded now; the store fills in the rest from the write that records it.
    pub fn new(fact: Fact, now: DateTime<Utc>) -> Result<Self, String> {
        Ok(Self {
            id: EventId::new(now)?,
            at: now,
            fact,
            status: None,
            previous: None,
            outage: None,
        })
    }

    /// The fact as the write that recorded it left the account: `previous` the status it
    /// replaced (`None`: it created the account), `after` the account once written.
    pub fn written(
        mut self,
        previous: Option<AccountStatus>,
        status: &AccountStatus,
        outage: Option<&Outage>,
    ) -> Self {
        self.previous = previous;
        self.status = Some(status.clone());
        self.outage = outage.cloned();
        self
    }

    /// The event this fact is, for its account, at `sequence`; `None` when it reports no
    /// change (a status written again).
    pub fn event(&self, account: &EventSubject, sequence: u64) -> Option<LifecycleEvent> {
        let status = self.status.clone().or_else(|| self.previous.clone())?;
        let (kind, how) = match &self.fact {
            Fact::Status { how } => (status_event(self.previous.as_ref(), &status)?, Some(*how)),
            Fact::CredentialsNeeded { .. } => (EventType::CredentialsNeeded, None),
            Fact::ReconnectExhausted => (EventType::ReconnectExhausted, None),
            Fact::Disconnected { .. } => (EventType::Disconnected, None),
        };
        let (action, by) = match &self.fact {
            Fact::CredentialsNeeded { action } => (Some(*action), None),
            Fact::Disconnected { by } => (None, Some(*by)),
            _ => (None, None),
        };
        Some(LifecycleEvent {
            id: self.id.clone(),
            kind,
            timestamp: self.at,
            data: EventData {
                user_id: account.user_id.clone(),
                account_id: account.account_id.clone(),
                provider: account.provider.clone(),
                outage: self.outage.clone().filter(|_| !outage_is_over(&status)),
                status,
                previous_status: self.previous.clone(),
                sequence,
                how,
                action,
                by,
            },
        })
    }
}

/// OK or DELETED: the outage (if any) is over.
fn outage_is_over(status: &AccountStatus) -> bool {
    matches!(status, AccountStatus::Ok | AccountStatus::Deleted)
}

/// Which event a status written over `previous` is.
fn status_event(previous: Option<&AccountStatus>, now: &AccountStatus) -> Option<EventType> {
    use AccountStatus as S;
    match previous {
        None => Some(EventType::Connected),
        Some(before) if before == now => None,
        Some(_) if *now == S::Deleted => Some(EventType::Deleted),
        // Back to health from an outage (a first CONNECTING turning OK is no reconnection).
        Some(before) if *now == S::Ok && *before != S::Connecting => Some(EventType::Reconnected),
        Some(_) => Some(EventType::StatusChanged),
    }
}

/// Whose account an event is about.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EventSubject {
    pub user_id: UserId,
    pub account_id: AccountId,
    pub provider: Provider,
}

/// The outbox on an account item: how many facts were ever recorded for the account, and
/// those not yet published, oldest first. Publishing removes facts from the front only, so
/// the facts still waiting are always the last ones recorded and each one's sequence number
/// follows from its place.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Outbox {
    pub recorded: u64,
    pub waiting: Vec<RecordedFact>,
}

impl Outbox {
    /// The outbox after `fact` is recorded.
    pub fn with(mut self, fact: RecordedFact) -> Self {
        self.recorded += 1;
        self.waiting.push(fact);
        self
    }

    /// The sequence number of the waiting fact at `index` (the first fact recorded is 1).
    pub fn sequence_of(&self, index: usize) -> u64 {
        self.recorded + 1 + index as u64 - self.waiting.len() as u64
    }

    /// The events the waiting facts are, in order.
    pub fn events(&self, subject: &EventSubject) -> Vec<LifecycleEvent> {
        self.waiting
            .iter()
            .enumerate()
            .filter_map(|(i, fact)| fact.event(subject, self.sequence_of(i)))
            .collect()
    }

    /// The outbox once the first `published` facts are gone.
    pub fn without_first(mut self, published: usize) -> Self {
        self.waiting.drain(..published.min(self.waiting.len()));
        self
    }

    pub fn ids(&self) -> Vec<EventId> {
        self.waiting.iter().map(|f| f.id.clone()).collect()
    }
}

/// The event types, as the `type` field and EventBridge's `DetailType` name them.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum EventType {
    #[serde(rename = "account.connected")]
    Connected,
    #[serde(rename = "account.reconnected")]
    Reconnected,
    #[serde(rename = "account.status_changed")]
    StatusChanged,
    #[serde(rename = "account.credentials_needed")]
    CredentialsNeeded,
    #[serde(rename = "account.reconnect_exhausted")]
    ReconnectExhausted,
    #[serde(rename = "account.disconnected")]
    Disconnected,
    #[serde(rename = "account.deleted")]
    Deleted,
}

impl EventType {
    pub const ALL: [Self; 7] = [
        Self::Connected,
        Self::Reconnected,
        Self::StatusChanged,
        Self::CredentialsNeeded,
        Self::ReconnectExhausted,
        Self::Disconnected,
        Self::Deleted,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Self::Connected => "account.connected",
            Self::Reconnected => "account.reconnected",
            Self::StatusChanged => "account.status_changed",
            Self::CredentialsNeeded => "account.credentials_needed",
            Self::ReconnectExhausted => "account.reconnect_exhausted",
            Self::Disconnected => "account.disconnected",
            Self::Deleted => "account.deleted",
        }
    }
}

/// An event as the team's backend receives it (EventBridge `Detail`, webhook body, feed
/// entry). It names the user and the account, never a secret nor an email address.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct LifecycleEvent {
    pub id: EventId,
    #[serde(rename = "type")]
    pub kind: EventType,
    pub timestamp: DateTime<Utc>,
    pub data: EventData,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct EventData {
    pub user_id: UserId,
    pub account_id: AccountId,
    pub provider: Provider,
    pub status: AccountStatus,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub previous_status: Option<AccountStatus>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub outage: Option<Outage>,
    /// Grows with each fact recorded for the account: an event whose sequence is lower than
    /// one already handled for the same account is stale.
    pub sequence: u64,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub how: Option<How>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub action: Option<CredentialsAction>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub by: Option<Disconnector>,
}

#[cfg(test)]
mod tests {
    use super::*;

    fn subject() -> EventSubject {
        EventSubject {
            user_id: UserId::parse("u1").expect("user"),
            account_id: AccountId::parse("acc1").expect("account"),
            provider: Provider::from("LINKEDIN"),
        }
    }

    fn status_fact(previous: Option<AccountStatus>, now: AccountStatus, how: How) -> RecordedFact {
        RecordedFact::new(Fact::Status { how }, Utc::now())
            .expect("fact")
            .written(previous, &now, None)
    }

    #[test]
    fn event_ids_parse_back_sort_by_time_and_differ() {
        let earlier = EventId::new(DateTime::from_timestamp_millis(1_000).expect("t")).expect("id");
        let later = EventId::new(DateTime::from_timestamp_millis(2_000).expect("t")).expect("id");
        assert!(earlier < later);
        assert_eq!(EventId::parse(earlier.as_str()), Ok(earlier.clone()));
        assert_eq!(
            earlier.recorded_at(),
            DateTime::from_timestamp_millis(1_000)
        );
        let now = Utc::now();
        assert_ne!(
            EventId::new(now).expect("id"),
            EventId::new(now).expect("id")
        );
        for bad in [
            "",
            "evt_",
            "evt_123_abc",
            "evt_0000000001000_ABCDEF012345",
            "x_0000000001000_abcdef012345",
        ] {
            assert_eq!(EventId::parse(bad), Err(EventIdError), "{bad}");
        }
    }

    #[test]
    fn a_status_fact_is_the_event_its_previous_status_makes_it() {
        use AccountStatus as S;
        let cases = [
            (None, S::Ok, Some(EventType::Connected)),
            (None, S::Credentials, Some(EventType::Connected)),
            (Some(S::Ok), S::Ok, None),
            (Some(S::Credentials), S::Ok, Some(EventType::Reconnected)),
            (Some(S::Deleted), S::Ok, Some(EventType::Reconnected)),
            (Some(S::Connecting), S::Ok, Some(EventType::StatusChanged)),
            (Some(S::Ok), S::Credentials, Some(EventType::StatusChanged)),
            (Some(S::Ok), S::Deleted, Some(EventType::Deleted)),
        ];
        for (previous, now, expected) in cases {
            let fact = status_fact(previous.clone(), now.clone(), How::Unipile);
            let kind = fact.event(&subject(), 1).map(|e| e.kind);
            assert_eq!(kind, expected, "{previous:?} -> {now}");
        }
    }

    #[test]
    fn waiting_facts_number_on_from_those_already_published() {
        let fact = |s| status_fact(Some(AccountStatus::Ok), s, How::Unipile);
        let outbox = Outbox::default()
            .with(fact(AccountStatus::Credentials))
            .with(fact(AccountStatus::Error))
            .with(fact(AccountStatus::Stopped));
        let rest = outbox.clone().without_first(1);
        assert_eq!((rest.sequence_of(0), rest.sequence_of(1)), (2, 3));
        let next = rest.with(fact(AccountStatus::Permissions));
        let sequences: Vec<u64> = next
            .events(&subject())
            .iter()
            .map(|e| e.data.sequence)
            .collect();
        assert_eq!(sequences, vec![2, 3, 4]);
    }

    #[test]
    fn the_body_holds_the_documented_fields_and_no_more() {
        let mut fact = status_fact(
            Some(AccountStatus::Ok),
            AccountStatus::Credentials,
            How::Unipile,
        );
        fact.outage = Some(Outage {
            id: "0123456789ab".into(),
            since: fact.at,
        });
        let event = fact.event(&subject(), 7).expect("an event");
        let body = serde_json::to_value(&event).expect("json");
        assert_eq!(body["type"], "account.status_changed");
        assert_eq!(body["id"], fact.id.as_str());
        let data = body["data"].as_object().expect("data");
        let mut keys: Vec<&str> = data.keys().map(String::as_str).collect();
        keys.sort_unstable();
        assert_eq!(
            keys,
            [
                "account_id",
                "how",
                "outage",
                "previous_status",
                "provider",
                "sequence",
                "status",
                "user_id"
            ]
        );
        assert_eq!(data["sequence"], 7);
    }

    #[test]
    fn a_healthy_or_gone_account_shows_no_outage() {
        let mut fact = status_fact(
            Some(AccountStatus::Credentials),
            AccountStatus::Ok,
            How::Cookie,
        );
        fact.outage = Some(Outage {
            id: "0123456789ab".into(),
            since: fact.at,
        });
        let event = fact.event(&subject(), 2).expect("an event");
        assert_eq!(event.kind, EventType::Reconnected);
        assert_eq!(event.data.outage, None);
    }

    #[test]
    fn every_type_names_itself_as_serde_does() {
        for kind in EventType::ALL {
            assert_eq!(serde_json::to_value(kind).expect("json"), kind.as_str());
        }
    }
}
