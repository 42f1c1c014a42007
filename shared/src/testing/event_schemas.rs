//! Holds every event the stories produce to its type's JSON Schema (`infra/events/`).

use crate::domain::events::{EventType, LifecycleEvent};

/// What in `event` its type's schema refuses (nothing: it is as documented).
pub fn problems(event: &LifecycleEvent) -> Vec<String> {
    let schema: serde_json::Value = serde_json::from_str(event.kind.schema()).expect("JSON");
    let validator = jsonschema::options()
        .should_validate_formats(true)
        .build(&schema)
        .expect("a schema that compiles");
    let body = serde_json::to_value(event).expect("JSON");
    validator
        .iter_errors(&body)
        .map(|e| {
            format!(
                "{} {}: {e} ({body})",
                event.kind.as_str(),
                e.instance_path()
            )
        })
        .collect()
}

#[test]
fn a_schema_refuses_what_its_type_does_not_carry() {
    use crate::domain::events::{EventSubject, Fact, How, RecordedFact};
    use crate::domain::{AccountId, AccountStatus, Provider, UserId};
    let subject = EventSubject {
        user_id: UserId::parse("u1").expect("user"),
        account_id: AccountId::parse("acc1").expect("account"),
        provider: Provider::Whatsapp,
    };
    let fact = |previous| {
        RecordedFact::new(Fact::Status { how: How::Hosted }, chrono::Utc::now())
            .expect("fact")
            .written(previous, &AccountStatus::Ok, None)
    };
    let connected = fact(None).event(&subject, 1).expect("an event");
    assert_eq!(problems(&connected), Vec::<String>::new());
    // A connection carries no previous status: relabelled, the same data is refused.
    let mut relabelled = fact(Some(AccountStatus::Credentials))
        .event(&subject, 1)
        .expect("an event");
    relabelled.kind = EventType::Connected;
    assert!(!problems(&relabelled).is_empty());
}
