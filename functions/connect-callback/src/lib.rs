//! Unipile's `notify_url` call (`POST /unipile/notify?state=...`, behind a function URL).

use lambda_http::{Body, Error, Request, Response};
use serde_json::json;
use std::sync::Arc;
use unipile_connect::config::{self, ConfigError, EnvSource};
use unipile_connect::deps::{self, Deps};
use unipile_connect::flows::connect_callback::{CallbackOutcome, CallbackPorts, record_callback};
use unipile_connect::http::{Problem, StateKey, json_response, query_param};
use unipile_connect::ports::RetryScheduler;

pub struct ConnectCallback {
    pub deps: Deps,
    pub state_key: StateKey,
    /// Deletes the schedules of a cookie reconnect that a confirmed healthy connection ends.
    pub scheduler: Arc<dyn RetryScheduler>,
}

impl ConnectCallback {
    pub async fn from_env(env: impl EnvSource) -> Result<Self, ConfigError> {
        let aws = config::aws_sdk_config(&env).await;
        Ok(Self {
            state_key: config::state_key(&env)?,
            scheduler: deps::event_bridge_scheduler(&env, &aws)?,
            deps: Deps::from_env(&env, &aws)?,
        })
    }
}

pub async fn handler(app: &ConnectCallback, request: Request) -> Result<Response<Body>, Error> {
    Ok(handle(app, request)
        .await
        .unwrap_or_else(Problem::into_response))
}

async fn handle(app: &ConnectCallback, request: Request) -> Result<Response<Body>, Problem> {
    if request.method() != http::Method::POST {
        return Err(Problem::method_not_allowed("use POST"));
    }
    let state = query_param(&request, "state");
    let ports = CallbackPorts {
        store: app.deps.store.as_ref(),
        unipile: app.deps.unipile.as_ref(),
        clock: app.deps.clock.as_ref(),
        scheduler: app.scheduler.as_ref(),
    };
    let outcome = record_callback(
        ports,
        &app.state_key,
        state.as_deref(),
        request.body().as_ref(),
    )
    .await?;
    Ok(match outcome {
        CallbackOutcome::Recorded(account) => json_response(
            200,
            &json!({"status": "recorded", "account_id": account.account_id.as_str()}),
        ),
        CallbackOutcome::Ignored(status) => {
            json_response(200, &json!({"status": "ignored", "event": status.as_str()}))
        }
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::{Duration, TimeZone, Utc};
    use unipile_connect::domain::{AccountId, AccountStatus, LinkPurpose, Provider, UserId};
    use unipile_connect::memory_world::MemoryWorld;
    use unipile_connect::ports::{AccountStore, Clock};

    const KEY: &[u8] = b"test-state-key-0123456789abcdef-0123";

    fn world() -> MemoryWorld {
        let world = MemoryWorld::at(
            Utc.with_ymd_and_hms(2026, 3, 1, 12, 0, 0)
                .single()
                .expect("date"),
        );
        for id in ["acc_1", "acc_2"] {
            world
                .unipile
                .add_account(&AccountId::parse(id).expect("id"), Provider::Whatsapp);
        }
        world
    }

    fn app(world: &MemoryWorld) -> ConnectCallback {
        ConnectCallback {
            deps: world.deps(),
            state_key: StateKey::new(KEY.to_vec()).expect("key"),
            scheduler: world.scheduler.clone(),
        }
    }

    fn account(id: &str) -> AccountId {
        AccountId::parse(id).expect("id")
    }

    fn sign(world: &MemoryWorld, user: &str, purpose: &LinkPurpose) -> String {
        StateKey::new(KEY.to_vec())
            .expect("key")
            .sign(
                &UserId::parse(user).expect("user"),
                purpose,
                world.clock.now() + Duration::minutes(45),
            )
            .expect("signed")
    }

    /// The state of a create link `user` asked for.
    fn state_for(world: &MemoryWorld, user: &str) -> String {
        sign(world, user, &LinkPurpose::Create)
    }

    /// The state of a link to reconnect `id`.
    fn reconnect_state_for(world: &MemoryWorld, user: &str, id: &str) -> String {
        sign(
            world,
            user,
            &LinkPurpose::Reconnect {
                account_id: account(id),
            },
        )
    }

    fn notify(state: Option<&str>, body: &str) -> Request {
        let uri = match state {
            Some(state) => format!("/unipile/notify?state={}", url_encode(state)),
            None => "/unipile/notify".to_owned(),
        };
        http::Request::builder()
            .method("POST")
            .uri(uri)
            .body(Body::from(body))
            .expect("request")
    }

    fn url_encode(text: &str) -> String {
        text.bytes()
            .map(|b| match b {
                b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' => {
                    (b as char).to_string()
                }
                _ => format!("%{b:02X}"),
            })
            .collect()
    }

    fn callback(status: &str, id: &str, name: &str) -> String {
        format!(r#"{{"status":"{status}","account_id":"{id}","name":"{name}"}}"#)
    }

    const SUCCESS: &str = r#"{"status":"CREATION_SUCCESS","account_id":"acc_1","name":"user_42"}"#;

    async fn deliver(app: &ConnectCallback, state: Option<&str>, body: &str) -> u16 {
        handler(app, notify(state, body))
            .await
            .expect("handled")
            .status()
            .as_u16()
    }

    async fn stored(world: &MemoryWorld) -> Vec<unipile_connect::domain::Account> {
        world
            .store
            .accounts_of(&UserId::parse("user_42").expect("user"))
            .await
            .expect("store")
    }

    async fn stored_anywhere(world: &MemoryWorld, id: &str) -> bool {
        world
            .store
            .get_account(&account(id))
            .await
            .expect("store")
            .is_some()
    }

    /// The record of the state's single use, if it was spent.
    fn spent(world: &MemoryWorld, state: &str) -> Option<AccountId> {
        let token = StateKey::new(KEY.to_vec())
            .expect("key")
            .verify(state, world.clock.now())
            .expect("valid");
        world
            .store
            .state_use(&token.nonce)
            .map(|used| used.account_id)
    }

    #[tokio::test]
    async fn a_confirmed_callback_records_the_account_with_unipile_type() {
        let world = world();
        let state = state_for(&world, "user_42");
        let response = handler(&app(&world), notify(Some(&state), SUCCESS))
            .await
            .expect("handled");
        assert_eq!(response.status(), 200);
        let accounts = stored(&world).await;
        assert_eq!(accounts.len(), 1);
        assert_eq!(accounts[0].account_type, Provider::Whatsapp);
        assert_eq!(accounts[0].status, AccountStatus::Ok);
        assert_eq!(accounts[0].created_on, world.clock.now());
        assert_eq!(spent(&world, &state), Some(account("acc_1")));
    }

    #[tokio::test]
    async fn given_one_delivery_when_unipile_sends_it_again_then_both_are_200_and_there_is_one_account()
     {
        let world = world();
        let app = app(&world);
        let state = state_for(&world, "user_42");
        let created = world.clock.now();
        assert_eq!(deliver(&app, Some(&state), SUCCESS).await, 200);
        world.clock.advance(Duration::minutes(2));
        assert_eq!(deliver(&app, Some(&state), SUCCESS).await, 200);
        let accounts = stored(&world).await;
        assert_eq!(accounts.len(), 1);
        assert_eq!(accounts[0].created_on, created);
        assert_eq!(accounts[0].last_update, world.clock.now());
    }

    #[tokio::test]
    async fn given_a_used_notify_url_when_it_is_replayed_with_another_account_then_409_and_nothing_is_written()
     {
        let world = world();
        let app = app(&world);
        let state = state_for(&world, "user_42");
        assert_eq!(deliver(&app, Some(&state), SUCCESS).await, 200);

        let replay = callback("CREATION_SUCCESS", "acc_2", "user_42");
        let response = handler(&app, notify(Some(&state), &replay))
            .await
            .expect("handled");
        assert_eq!(response.status(), 409);
        let problem: serde_json::Value =
            serde_json::from_slice(response.body().as_ref()).expect("json");
        assert_eq!(problem["status"], 409);
        assert!(!stored_anywhere(&world, "acc_2").await);
        assert_eq!(stored(&world).await.len(), 1);
        assert_eq!(spent(&world, &state), Some(account("acc_1")));
    }

    #[tokio::test]
    async fn given_the_recording_failing_after_the_link_was_spent_then_unipile_s_retry_records_it()
    {
        let world = world();
        let app = app(&world);
        let state = state_for(&world, "user_42");
        world.store.fail_next_connections(1);
        assert_eq!(deliver(&app, Some(&state), SUCCESS).await, 503);
        assert!(stored(&world).await.is_empty());
        assert_eq!(spent(&world, &state), Some(account("acc_1")));

        assert_eq!(deliver(&app, Some(&state), SUCCESS).await, 200);
        assert_eq!(stored(&world).await.len(), 1);
        // ...and the link is still refused to any other account.
        let replay = callback("CREATION_SUCCESS", "acc_2", "user_42");
        assert_eq!(deliver(&app, Some(&state), &replay).await, 409);
    }

    #[tokio::test]
    async fn given_a_callback_without_name_or_with_another_name_then_401_and_nothing_is_written() {
        let world = world();
        let app = app(&world);
        let state = state_for(&world, "user_42");
        for body in [
            r#"{"status":"CREATION_SUCCESS","account_id":"acc_1"}"#,
            r#"{"status":"CREATION_SUCCESS","account_id":"acc_1","name":null}"#,
            r#"{"AccountStatus":{"account_id":"acc_1","account_type":"WHATSAPP","message":"CREATION_SUCCESS"}}"#,
            &callback("CREATION_SUCCESS", "acc_1", "someone_else"),
        ] {
            assert_eq!(deliver(&app, Some(&state), body).await, 401, "{body}");
        }
        assert!(stored(&world).await.is_empty());
        assert_eq!(spent(&world, &state), None);
    }

    #[tokio::test]
    async fn given_a_reconnect_link_when_the_callback_names_another_account_then_401_and_nothing_is_written()
     {
        let world = world();
        let app = app(&world);
        let state = reconnect_state_for(&world, "user_42", "acc_1");
        for status in ["RECONNECTED", "CREATION_SUCCESS"] {
            let body = callback(status, "acc_2", "user_42");
            assert_eq!(deliver(&app, Some(&state), &body).await, 401, "{status}");
        }
        assert!(!stored_anywhere(&world, "acc_2").await);
        assert_eq!(spent(&world, &state), None);
    }

    #[tokio::test]
    async fn given_a_reconnect_link_when_its_account_is_reconnected_then_it_is_recorded() {
        let world = world();
        let app = app(&world);
        let state = reconnect_state_for(&world, "user_42", "acc_1");
        let body = callback("RECONNECTED", "acc_1", "user_42");
        assert_eq!(deliver(&app, Some(&state), &body).await, 200);
        // Tolerated on a reconnect link, for its own account only (LinkPurpose::check_callback).
        let relabelled = callback("CREATION_SUCCESS", "acc_1", "user_42");
        assert_eq!(deliver(&app, Some(&state), &relabelled).await, 200);
        assert_eq!(stored(&world).await.len(), 1);
    }

    #[tokio::test]
    async fn given_a_create_link_when_the_callback_says_reconnected_then_401_and_nothing_is_written()
     {
        let world = world();
        let app = app(&world);
        let state = state_for(&world, "user_42");
        let body = callback("RECONNECTED", "acc_1", "user_42");
        assert_eq!(deliver(&app, Some(&state), &body).await, 401);
        assert!(stored(&world).await.is_empty());
        assert_eq!(spent(&world, &state), None);
    }

    #[tokio::test]
    async fn forged_expired_or_missing_state_is_401_and_writes_nothing() {
        let world = world();
        let app = app(&world);
        let forged = StateKey::new(vec![9u8; 32])
            .expect("key")
            .sign(
                &UserId::parse("user_42").expect("user"),
                &LinkPurpose::Create,
                world.clock.now() + Duration::minutes(45),
            )
            .expect("signed");
        let expired = StateKey::new(KEY.to_vec())
            .expect("key")
            .sign(
                &UserId::parse("user_42").expect("user"),
                &LinkPurpose::Create,
                world.clock.now() - Duration::seconds(1),
            )
            .expect("signed");
        let other_user = state_for(&world, "someone_else");
        for state in [
            Some(forged.as_str()),
            Some(expired.as_str()),
            Some("garbage"),
            None,
            Some(other_user.as_str()),
        ] {
            let response = handler(&app, notify(state, SUCCESS))
                .await
                .expect("handled");
            assert_eq!(response.status(), 401, "{state:?}");
        }
        assert!(stored(&world).await.is_empty());
    }

    #[tokio::test]
    async fn malformed_bodies_are_400_problems() {
        let world = world();
        let state = state_for(&world, "user_42");
        for body in ["{oops", r#"{"hello":"world"}"#, ""] {
            let response = handler(&app(&world), notify(Some(&state), body))
                .await
                .expect("handled");
            assert_eq!(response.status(), 400, "{body:?}");
            let problem: serde_json::Value =
                serde_json::from_slice(response.body().as_ref()).expect("json");
            assert_eq!(problem["status"], 400);
        }
        assert!(stored(&world).await.is_empty());
    }

    #[tokio::test]
    async fn an_account_unipile_does_not_know_or_another_user_owns_is_refused() {
        let world = world();
        let app = app(&world);
        let unknown = r#"{"status":"CREATION_SUCCESS","account_id":"acc_404","name":"user_42"}"#;
        let state = state_for(&world, "user_42");
        let response = handler(&app, notify(Some(&state), unknown))
            .await
            .expect("handled");
        assert_eq!(response.status(), 404);
        // Refused before the link was spent: the real account can still arrive.
        assert_eq!(spent(&world, &state), None);

        handler(&app, notify(Some(&state), SUCCESS))
            .await
            .expect("handled");
        let thief_state = state_for(&world, "thief");
        let theft = r#"{"status":"CREATION_SUCCESS","account_id":"acc_1","name":"thief"}"#;
        let items = world.store.item_count();
        let response = handler(&app, notify(Some(&thief_state), theft))
            .await
            .expect("handled");
        // Answered as for an account that does not exist: nothing tells it is someone's.
        assert_eq!(response.status(), 404);
        let owner = world
            .store
            .get_account(&account("acc_1"))
            .await
            .expect("store");
        assert_eq!(
            owner.map(|a| a.user_id.to_string()),
            Some("user_42".to_owned())
        );
        // Refused before anything is written: the thief's link is not spent on the account.
        assert_eq!(world.store.item_count(), items);
        assert_eq!(spent(&world, &thief_state), None);
        let own = r#"{"status":"CREATION_SUCCESS","account_id":"acc_2","name":"thief"}"#;
        assert_eq!(deliver(&app, Some(&thief_state), own).await, 200);
    }

    #[tokio::test]
    async fn statuses_other_than_success_are_acknowledged_and_ignored() {
        let world = world();
        let body = r#"{"status":"CREATION_FAILED","account_id":"acc_1","name":"user_42"}"#;
        let state = state_for(&world, "user_42");
        let response = handler(&app(&world), notify(Some(&state), body))
            .await
            .expect("handled");
        assert_eq!(response.status(), 200);
        assert!(stored(&world).await.is_empty());
        assert_eq!(spent(&world, &state), None);
    }
}
