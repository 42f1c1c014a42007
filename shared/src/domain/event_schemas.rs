//! The events' JSON Schemas (`infra/events/`, what the team's backend is promised), compiled
//! in so the local stack serves the very files OpenAPI's `webhooks` section points at.

use super::events::EventType;

impl EventType {
    /// This type's JSON Schema, as in `infra/events/<type>.json`.
    pub fn schema(self) -> &'static str {
        match self {
            Self::Connected => include_str!("../../../infra/events/account.connected.json"),
            Self::Reconnected => include_str!("../../../infra/events/account.reconnected.json"),
            Self::StatusChanged => {
                include_str!("../../../infra/events/account.status_changed.json")
            }
            Self::CredentialsNeeded => {
                include_str!("../../../infra/events/account.credentials_needed.json")
            }
            Self::ReconnectExhausted => {
                include_str!("../../../infra/events/account.reconnect_exhausted.json")
            }
            Self::Disconnected => include_str!("../../../infra/events/account.disconnected.json"),
            Self::Deleted => include_str!("../../../infra/events/account.deleted.json"),
        }
    }

    /// The type whose schema file is `file` (`account.connected.json`...).
    pub fn by_schema_file(file: &str) -> Option<Self> {
        let kind = file.strip_suffix(".json")?;
        Self::ALL.into_iter().find(|k| k.as_str() == kind)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_type_has_a_schema_titled_after_it_and_found_by_its_file() {
        for kind in EventType::ALL {
            let schema: serde_json::Value = serde_json::from_str(kind.schema()).expect("JSON");
            assert_eq!(schema["title"], kind.as_str());
            assert_eq!(schema["properties"]["type"]["const"], kind.as_str());
            assert_eq!(
                EventType::by_schema_file(&format!("{}.json", kind.as_str())),
                Some(kind)
            );
        }
        assert_eq!(EventType::by_schema_file("account.connected"), None);
        assert_eq!(EventType::by_schema_file("../template.yaml"), None);
    }
}
