//! The extension's API, for the signed-in user: `POST /extension/cookies` (the newest LinkedIn
//! cookie), `DELETE /extension/cookies` (every stored cookie), `POST /extension/checkpoint`
//! (the answer to a LinkedIn verification), `GET /extension/identities` and
//! `PUT /extension/identities/{member_id}` (pause, or turn syncing back on). Cookies never
//! appear in a response, a log line or an error.

use lambda_http::{Body, Error, Request, Response};
use serde::Deserialize;
use std::sync::Arc;
use unipile_connect::config::{self, ConfigError, EnvSource};
use unipile_connect::deps::{self, Deps};
use unipile_connect::domain::LinkedinMemberId;
use unipile_connect::domain::checkpoint::{CheckpointAnswer, CheckpointBody};
use unipile_connect::domain::cookies::{self, CookieSyncBody};
use unipile_connect::flows::checkpoint::solve_checkpoint;
use unipile_connect::flows::cookie_sync::{CookieSettings, CookieSyncPorts, sync_cookies};
use unipile_connect::flows::extension_identities::{delete_cookies, list_identities, set_paused};
use unipile_connect::http::{
    Caller, ClaimNames, CookiesDeletedView, ExtensionStepView, Problem, caller, json_body,
    json_response, path_param,
};
use unipile_connect::ports::{Cipher, RetryScheduler};

pub struct CookieSync {
    pub deps: Deps,
    pub scheduler: Arc<dyn RetryScheduler>,
    pub cipher: Arc<dyn Cipher>,
    pub settings: CookieSettings,
    pub claims: ClaimNames,
}

impl CookieSync {
    pub async fn from_env(env: impl EnvSource) -> Result<Self, ConfigError> {
        let aws = config::aws_sdk_config(&env).await;
        Ok(Self {
            scheduler: deps::event_bridge_scheduler(&env, &aws)?,
            cipher: deps::kms_cipher(&env, &aws)?,
            settings: config::cookie_settings(&env)?,
            claims: config::claim_names(&env),
            deps: Deps::from_env(&env, &aws)?,
        })
    }

    fn ports(&self) -> CookieSyncPorts<'_> {
        CookieSyncPorts {
            store: self.deps.store.as_ref(),
            unipile: self.deps.unipile.as_ref(),
            scheduler: self.scheduler.as_ref(),
            cipher: self.cipher.as_ref(),
            clock: self.deps.clock.as_ref(),
        }
    }
}

pub async fn handler(app: &CookieSync, request: Request) -> Result<Response<Body>, Error> {
    Ok(handle(app, request)
        .await
        .unwrap_or_else(Problem::into_response))
}

/// The routes, told apart by the path's end: API Gateway, function URLs and the local stack
/// all hand the path as the user called it.
enum Route {
    Cookies,
    Checkpoint,
    Identities,
    Identity(String),
}

fn route(request: &Request) -> Option<Route> {
    let path = request.uri().path().trim_end_matches('/');
    if path.ends_with("/extension/cookies") {
        Some(Route::Cookies)
    } else if path.ends_with("/extension/checkpoint") {
        Some(Route::Checkpoint)
    } else if path.ends_with("/extension/identities") {
        Some(Route::Identities)
    } else {
        path_param(request, "member_id", "/extension/identities/").map(Route::Identity)
    }
}

const ROUTES: &str = "use POST or DELETE /extension/cookies, POST /extension/checkpoint, \
    GET /extension/identities or PUT /extension/identities/{member_id}";

async fn handle(app: &CookieSync, request: Request) -> Result<Response<Body>, Problem> {
    let method = request.method().as_str();
    let Some(route) = route(&request) else {
        return Err(Problem::not_found("no such route"));
    };
    let caller = caller(&request, &app.claims)?;
    let now = app.deps.clock.now();
    let store = app.deps.store.as_ref();
    match (method, route) {
        ("POST", Route::Cookies) => sync(app, &caller, &request).await,
        ("DELETE", Route::Cookies) => {
            let deleted = delete_cookies(store, &caller.user_id).await?;
            Ok(json_response(200, &CookiesDeletedView { deleted }))
        }
        ("POST", Route::Checkpoint) => checkpoint(app, &caller, &request).await,
        ("GET", Route::Identities) => Ok(json_response(
            200,
            &list_identities(store, &caller.user_id, now).await?,
        )),
        ("PUT", Route::Identity(raw)) => {
            let member =
                LinkedinMemberId::parse(raw).map_err(|e| Problem::bad_request(e.to_string()))?;
            let body: PauseBody = json_body(request.body())?;
            let view = set_paused(store, &caller.user_id, &member, body.paused, now).await?;
            Ok(json_response(200, &view))
        }
        _ => Err(Problem::method_not_allowed(ROUTES)),
    }
}

/// `PUT /extension/identities/{member_id}`.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct PauseBody {
    paused: bool,
}

async fn sync(
    app: &CookieSync,
    caller: &Caller,
    request: &Request,
) -> Result<Response<Body>, Problem> {
    let body: CookieSyncBody = json_body(request.body())?;
    let sync = cookies::CookieSync::parse(body).map_err(|e| Problem::bad_request(e.to_string()))?;
    let member = sync.member_id.clone();
    let outcome = sync_cookies(app.ports(), &app.settings, caller, sync).await?;
    let (status, view) = ExtensionStepView::of_sync(outcome, &member);
    Ok(json_response(status, &view))
}

async fn checkpoint(
    app: &CookieSync,
    caller: &Caller,
    request: &Request,
) -> Result<Response<Body>, Problem> {
    let body: CheckpointBody = json_body(request.body())?;
    let (member, answer) =
        CheckpointAnswer::parse(body).map_err(|e| Problem::bad_request(e.to_string()))?;
    let outcome = solve_checkpoint(app.ports(), caller, &member, answer).await?;
    let (status, view) = ExtensionStepView::of_checkpoint(outcome);
    Ok(json_response(status, &view))
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::{Duration, TimeZone, Utc};
    use std::collections::HashMap;
    use unipile_connect::adapters::cipher::LocalCipher;
    use unipile_connect::adapters::memory::CookieOutcome;
    use unipile_connect::domain::{
        AccountId, AccountStatus, CookieRecord, LinkedinMemberId, Provider, UserId,
    };
    use unipile_connect::flows::account_reconciler::{
        ReconcilePorts, ReconcileSettings, adopt, survey,
    };
    use unipile_connect::http::with_jwt_claims;
    use unipile_connect::memory_world::MemoryWorld;
    use unipile_connect::ports::{
        AccountStore, Clock, ConnectedAccount, Unipile, UnipileError, UnipileErrorType,
    };

    const UA: &str = "Mozilla/5.0 (Macintosh) Chrome/131.0";

    fn world() -> MemoryWorld {
        MemoryWorld::at(
            Utc.with_ymd_and_hms(2026, 3, 1, 12, 0, 0)
                .single()
                .expect("date"),
        )
    }

    fn app(world: &MemoryWorld) -> CookieSync {
        app_with_cap(world, 3)
    }

    fn app_with_cap(world: &MemoryWorld, cap: u32) -> CookieSync {
        CookieSync {
            deps: world.deps(),
            scheduler: world.scheduler.clone(),
            cipher: Arc::new(LocalCipher::random().expect("key")),
            settings: CookieSettings {
                cookie_ttl: chrono::Duration::days(30),
                connect_throttle: Duration::minutes(5),
                max_linkedin_identities: cap,
            },
            claims: ClaimNames::default(),
        }
    }

    fn post(user: Option<&str>, body: &str) -> Request {
        let request: Request = http::Request::builder()
            .method("POST")
            .uri("/extension/cookies")
            .body(Body::from(body))
            .expect("request");
        match user {
            Some(user) => with_jwt_claims(
                request,
                HashMap::from([("sub".to_owned(), user.to_owned())]),
            ),
            None => request,
        }
    }

    fn cookies(li_at: &str, member: &str) -> String {
        format!(r#"{{"li_at":"{li_at}","user_agent":"{UA}","linkedin_member_id":"{member}"}}"#)
    }

    fn text(response: &Response<Body>) -> String {
        String::from_utf8_lossy(response.body().as_ref()).into_owned()
    }

    #[tokio::test]
    async fn a_paused_identity_stores_nothing_and_connects_nothing_until_turned_back_on() {
        let world = world();
        let app = app(&world);
        let first = handler(&app, post(Some("u1"), &cookies("secret-a", "42")))
            .await
            .expect("handled");
        assert_eq!(first.status(), 201);
        let pause = |paused: bool| {
            with_jwt_claims(
                http::Request::builder()
                    .method("PUT")
                    .uri("/extension/identities/42")
                    .body(Body::from(format!(r#"{{"paused":{paused}}}"#)))
                    .expect("request"),
                HashMap::from([("sub".to_owned(), "u1".to_owned())]),
            )
        };
        let paused = handler(&app, pause(true)).await.expect("handled");
        assert_eq!(paused.status(), 200, "{}", text(&paused));
        let items = world.store.item_count();

        world.clock.advance(Duration::minutes(10));
        let sync = handler(&app, post(Some("u1"), &cookies("secret-b", "42")))
            .await
            .expect("handled");
        assert_eq!(sync.status(), 200);
        assert!(
            text(&sync).contains(r#""status":"paused""#),
            "{}",
            text(&sync)
        );
        assert_eq!(world.store.item_count(), items, "nothing written");
        assert_eq!(world.unipile.cookie_logins().len(), 1, "nothing connected");
        let user = UserId::parse("u1").expect("user");
        let member = LinkedinMemberId::parse("42").expect("member");
        assert_eq!(
            world.store.cookie(&user, &member).await.expect("read"),
            None
        );

        let resumed = handler(&app, pause(false)).await.expect("handled");
        assert_eq!(resumed.status(), 200);
        let sync = handler(&app, post(Some("u1"), &cookies("secret-c", "42")))
            .await
            .expect("handled");
        assert_eq!(sync.status(), 200, "linked to the account it had");
        assert!(
            text(&sync).contains(r#""status":"linked""#),
            "{}",
            text(&sync)
        );
    }

    #[tokio::test]
    async fn the_first_sync_connects_and_later_syncs_only_store() {
        let world = world();
        let app = app(&world);
        let first = handler(&app, post(Some("u1"), &cookies("secret-a", "42")))
            .await
            .expect("handled");
        assert_eq!(first.status(), 201);
        assert!(!text(&first).contains("secret-a"));
        let logins = world.unipile.cookie_logins();
        assert_eq!(logins.len(), 1);
        assert_eq!(
            secrecy::ExposeSecret::expose_secret(&logins[0].1.cookies.li_at),
            "secret-a"
        );

        world.clock.advance(Duration::minutes(10));
        let later = handler(&app, post(Some("u1"), &cookies("secret-b", "42")))
            .await
            .expect("handled");
        assert_eq!(later.status(), 200);
        assert_eq!(
            world.unipile.cookie_logins().len(),
            1,
            "an account exists: nothing to connect"
        );
        let user = UserId::parse("u1").expect("user");
        let member = LinkedinMemberId::parse("42").expect("member");
        let record = world
            .store
            .cookie(&user, &member)
            .await
            .expect("read")
            .expect("record");
        let opened = app
            .cipher
            .open(&record.li_at, &user, &member)
            .await
            .expect("opens");
        assert_eq!(
            secrecy::ExposeSecret::expose_secret(&opened),
            "secret-b",
            "the newest cookie is kept"
        );
    }

    #[tokio::test]
    async fn refused_cookies_are_a_422_then_the_throttle_holds_the_next_try() {
        let world = world();
        let app = app(&world);
        world
            .unipile
            .script_cookie_outcomes([CookieOutcome::Fail(UnipileError::Api {
                status: 401,
                error_type: UnipileErrorType::InvalidCredentials,
                title: "bad cookie".into(),
                detail: None,
            })]);
        let refused = handler(&app, post(Some("u1"), &cookies("expired", "42")))
            .await
            .expect("handled");
        assert_eq!(refused.status(), 422);
        let throttled = handler(&app, post(Some("u1"), &cookies("expired2", "42")))
            .await
            .expect("handled");
        assert_eq!(throttled.status(), 200);
        assert!(text(&throttled).contains("throttled"));
        assert_eq!(world.unipile.cookie_logins().len(), 1);
        world.clock.advance(Duration::minutes(6));
        let retried = handler(&app, post(Some("u1"), &cookies("fresh", "42")))
            .await
            .expect("handled");
        assert_eq!(retried.status(), 201);
    }

    #[tokio::test]
    async fn a_login_the_invocation_cannot_wait_for_is_not_started_and_not_throttled() {
        let world = world();
        let app = app(&world);
        // 20 s left: less than a cookie login may take.
        let deadline = tokio::time::Instant::now() + std::time::Duration::from_secs(20);
        let refused = unipile_connect::deadline::within(
            deadline,
            handler(&app, post(Some("u1"), &cookies("secret-a", "42"))),
        )
        .await
        .expect("handled");
        assert_eq!(refused.status(), 503);
        assert!(refused.headers().contains_key(http::header::RETRY_AFTER));
        assert!(world.unipile.cookie_logins().is_empty(), "no login started");
        assert!(!text(&refused).contains("secret-a"));

        // The extension's retry, with time enough, connects at once: no throttle was taken.
        let retried = handler(&app, post(Some("u1"), &cookies("secret-a", "42")))
            .await
            .expect("handled");
        assert_eq!(retried.status(), 201);
        assert_eq!(world.unipile.cookie_logins().len(), 1);
    }

    #[tokio::test]
    async fn bad_input_is_a_400_that_never_echoes_the_cookie_and_stores_nothing() {
        let world = world();
        let app = app(&world);
        let cases = [
            r#"{"li_at":"has space secret-x","user_agent":"ua","linkedin_member_id":"1"}"#
                .to_owned(),
            r#"{"li_at":"secret-x","user_agent":"ua","linkedin_member_id":"1","country":"ZZ"}"#
                .to_owned(),
            r#"{"li_at":"secret-x","user_agent":"ua","linkedin_member_id":"1","ip":"not-an-ip"}"#
                .to_owned(),
            r#"{"li_at":"secret-x","user_agent":"ua","linkedin_member_id":"1","ip":"2001:db8::7"}"#
                .to_owned(),
            r#"{"li_at":"secret-x","user_agent":"ua","linkedin_member_id":"1","extra":"secret-x"}"#
                .to_owned(),
            r#"{"li_at":["secret-x"],"user_agent":"ua","linkedin_member_id":"1"}"#.to_owned(),
            r#"{"li_at":"secret-x","user_agent":"ua"}"#.to_owned(),
            "{not json secret-x".to_owned(),
        ];
        for body in cases {
            let response = handler(&app, post(Some("u1"), &body))
                .await
                .expect("handled");
            assert_eq!(response.status(), 400, "{body}");
            assert!(
                !text(&response).contains("secret-x"),
                "{body}: {}",
                text(&response)
            );
        }
        let record = world
            .store
            .cookie(
                &UserId::parse("u1").expect("user"),
                &LinkedinMemberId::parse("1").expect("member"),
            )
            .await
            .expect("read");
        assert!(record.is_none());
        assert!(world.unipile.cookie_logins().is_empty());
    }

    #[tokio::test]
    async fn without_identity_nothing_is_read() {
        let world = world();
        let response = handler(&app(&world), post(None, &cookies("secret", "42")))
            .await
            .expect("handled");
        assert_eq!(response.status(), 401);
        assert!(world.unipile.cookie_logins().is_empty());
    }

    fn body(response: &Response<Body>) -> serde_json::Value {
        serde_json::from_slice(response.body().as_ref()).expect("JSON")
    }

    fn ids(list: &[&str]) -> Vec<AccountId> {
        list.iter()
            .map(|id| AccountId::parse(*id).expect("id"))
            .collect()
    }

    async fn record(world: &MemoryWorld, user: &str, member: &str) -> Option<CookieRecord> {
        world
            .store
            .cookie(
                &UserId::parse(user).expect("user"),
                &LinkedinMemberId::parse(member).expect("member"),
            )
            .await
            .expect("read")
    }

    #[tokio::test]
    async fn given_a_connect_whose_answer_was_lost_then_the_next_sync_does_not_create_a_second_account()
     {
        let world = world();
        let app = app(&world);
        world
            .unipile
            .script_cookie_outcomes([CookieOutcome::CreatedThenLost(UnipileError::Transport(
                "operation timed out".into(),
            ))]);
        let lost = handler(&app, post(Some("u1"), &cookies("secret-a", "42")))
            .await
            .expect("handled");
        assert_eq!(lost.status(), 504);
        assert_eq!(
            world.unipile.account_ids(),
            ids(&["li_1"]),
            "Unipile made one"
        );
        let marked = record(&world, "u1", "42").await.expect("record");
        assert_eq!(marked.unipile_account_id, None);
        assert!(marked.connect_started_at.is_some(), "the connect is marked");

        world.clock.advance(Duration::minutes(10));
        let next = handler(&app, post(Some("u1"), &cookies("secret-b", "42")))
            .await
            .expect("handled");
        assert_eq!(next.status(), 200);
        assert_eq!(body(&next)["connect"], "settling");
        assert_eq!(world.unipile.cookie_logins().len(), 1, "no second connect");
        assert_eq!(world.unipile.account_ids(), ids(&["li_1"]));

        // The reconciliation reports it with its likely owner; the operator adopts it.
        world.clock.advance(Duration::minutes(10));
        let ports = ReconcilePorts {
            store: world.store.as_ref(),
            unipile: world.unipile.as_ref(),
            clock: world.clock.as_ref(),
        };
        let report = survey(ports, &ReconcileSettings::default())
            .await
            .expect("surveyed");
        assert_eq!(report.unattributed.len(), 1);
        assert_eq!(report.unattributed[0].possible_connects.len(), 1);
        let member = LinkedinMemberId::parse("42").expect("member");
        let adopted = adopt(
            ports,
            &ids(&["li_1"])[0],
            &UserId::parse("u1").expect("user"),
            Some(&member),
        )
        .await
        .expect("adopted");
        assert!(adopted.cookie_record_linked);
        let settled = record(&world, "u1", "42").await.expect("record");
        assert_eq!(settled.unipile_account_id, Some(ids(&["li_1"])[0].clone()));
        assert_eq!(settled.connect_started_at, None);

        world.clock.advance(Duration::minutes(10));
        let later = handler(&app, post(Some("u1"), &cookies("secret-c", "42")))
            .await
            .expect("handled");
        assert_eq!(later.status(), 200);
        assert_eq!(body(&later)["status"], "stored");
        assert_eq!(world.unipile.cookie_logins().len(), 1);
    }

    #[tokio::test]
    async fn given_a_record_naming_a_gone_account_and_a_lost_reconnect_answer_then_no_third_account()
     {
        let world = world();
        let app = app(&world);
        let first = handler(&app, post(Some("u1"), &cookies("secret-a", "42")))
            .await
            .expect("handled");
        assert_eq!(first.status(), 201);
        // The account goes (deleted at Unipile, its row with it); the record still names it.
        let gone = ids(&["li_1"])[0].clone();
        world.unipile.delete_account(&gone).await.expect("deleted");
        // The row lost, as if it was never recorded (its disconnection's fact goes elsewhere).
        let row = world
            .store
            .get_account(&gone)
            .await
            .expect("read")
            .expect("stored");
        unipile_connect::flows::accounts::record_disconnection(
            world.store.as_ref(),
            row,
            unipile_connect::domain::events::Disconnector::Service,
            world.clock.now(),
        )
        .await
        .expect("row removed");
        world
            .unipile
            .script_cookie_outcomes([CookieOutcome::CreatedThenLost(UnipileError::Transport(
                "operation timed out".into(),
            ))]);
        world.clock.advance(Duration::minutes(10));
        let lost = handler(&app, post(Some("u1"), &cookies("secret-b", "42")))
            .await
            .expect("handled");
        assert_eq!(lost.status(), 504);
        assert_eq!(world.unipile.account_ids(), ids(&["li_2"]));

        world.clock.advance(Duration::minutes(10));
        let next = handler(&app, post(Some("u1"), &cookies("secret-c", "42")))
            .await
            .expect("handled");
        assert_eq!(next.status(), 200, "{}", text(&next));
        assert_eq!(body(&next)["connect"], "settling");
        assert_eq!(
            world.unipile.account_ids(),
            ids(&["li_2"]),
            "no third account"
        );
    }

    #[tokio::test]
    async fn given_a_connect_whose_record_write_failed_after_unipile_answered_then_no_second_account()
     {
        let world = world();
        let app = app(&world);
        // Every try of the answer's write fails (the table throttles).
        world.store.fail_next_cookie_results(3);
        let failed = handler(&app, post(Some("u1"), &cookies("secret-a", "42")))
            .await
            .expect("handled");
        assert_eq!(failed.status(), 503);
        assert_eq!(world.unipile.account_ids(), ids(&["li_1"]));

        world.clock.advance(Duration::minutes(10));
        let next = handler(&app, post(Some("u1"), &cookies("secret-b", "42")))
            .await
            .expect("handled");
        assert_eq!(next.status(), 200, "{}", text(&next));
        assert_eq!(body(&next)["connect"], "settling");
        assert_eq!(world.unipile.cookie_logins().len(), 1, "no second connect");
    }

    #[tokio::test]
    async fn given_one_failed_write_of_the_connect_s_answer_then_the_retry_records_it() {
        let world = world();
        let app = app(&world);
        world.store.fail_next_cookie_results(1);
        let connected = handler(&app, post(Some("u1"), &cookies("secret-a", "42")))
            .await
            .expect("handled");
        assert_eq!(connected.status(), 201, "{}", text(&connected));
        let stored = record(&world, "u1", "42").await.expect("record");
        assert_eq!(stored.unipile_account_id, Some(ids(&["li_1"])[0].clone()));
        assert_eq!(stored.connect_started_at, None);
    }

    #[tokio::test]
    async fn given_a_connect_that_failed_without_creating_anything_then_the_next_sync_connects() {
        let world = world();
        let app = app(&world);
        world
            .unipile
            .script_cookie_outcomes([CookieOutcome::Fail(UnipileError::Api {
                status: 503,
                error_type: UnipileErrorType::NetworkDown,
                title: "down".into(),
                detail: None,
            })]);
        let failed = handler(&app, post(Some("u1"), &cookies("secret-a", "42")))
            .await
            .expect("handled");
        assert_eq!(failed.status(), 502);
        world.clock.advance(Duration::minutes(10));
        let next = handler(&app, post(Some("u1"), &cookies("secret-b", "42")))
            .await
            .expect("handled");
        assert_eq!(next.status(), 201, "{}", text(&next));
        assert_eq!(world.unipile.account_ids(), ids(&["li_2"]));
    }

    #[tokio::test]
    async fn given_a_user_at_the_cap_when_a_new_linkedin_member_syncs_then_409_and_nothing_is_stored()
     {
        let world = world();
        let app = app_with_cap(&world, 2);
        for member in ["1", "2"] {
            let response = handler(&app, post(Some("u1"), &cookies("secret", member)))
                .await
                .expect("handled");
            assert_eq!(response.status(), 201);
        }
        let items = world.store.item_count();
        let refused = handler(&app, post(Some("u1"), &cookies("secret-x", "3")))
            .await
            .expect("handled");
        assert_eq!(refused.status(), 409);
        assert_eq!(
            refused.headers()[http::header::CONTENT_TYPE],
            "application/problem+json"
        );
        let problem = body(&refused);
        assert_eq!(
            problem["type"],
            "urn:unipile-connect:problem:linkedin-identity-limit"
        );
        assert!(!text(&refused).contains("secret-x"));
        assert!(record(&world, "u1", "3").await.is_none());
        assert_eq!(world.store.item_count(), items, "nothing stored");
        assert_eq!(world.unipile.cookie_logins().len(), 2);

        // The identities it has keep syncing; another user is not affected.
        world.clock.advance(Duration::minutes(10));
        let known = handler(&app, post(Some("u1"), &cookies("secret-y", "1")))
            .await
            .expect("handled");
        assert_eq!(known.status(), 200);
        let other = handler(&app, post(Some("u2"), &cookies("secret-z", "3")))
            .await
            .expect("handled");
        assert_eq!(other.status(), 201);
    }

    #[tokio::test]
    async fn given_two_new_members_syncing_at_once_for_the_last_slot_then_only_one_gets_it() {
        let world = world();
        let app = app_with_cap(&world, 1);
        let (a, b) = tokio::join!(
            handler(&app, post(Some("u1"), &cookies("secret", "1"))),
            handler(&app, post(Some("u1"), &cookies("secret", "2"))),
        );
        let mut statuses = vec![
            a.expect("handled").status().as_u16(),
            b.expect("handled").status().as_u16(),
        ];
        statuses.sort_unstable();
        assert_eq!(statuses, vec![201, 409]);
        assert_eq!(world.unipile.cookie_logins().len(), 1);
    }

    #[tokio::test]
    async fn given_an_account_of_this_identity_in_the_table_then_the_sync_ties_to_it_instead_of_connecting()
     {
        let world = world();
        let app = app(&world);
        let user = UserId::parse("u1").expect("user");
        let member = LinkedinMemberId::parse("42").expect("member");
        let known = ids(&["li_known"])[0].clone();
        world.unipile.add_account(&known, Provider::Linkedin);
        world
            .store
            .record_connection(
                &ConnectedAccount {
                    account_id: known.clone(),
                    user_id: user.clone(),
                    account_type: Provider::Linkedin,
                    status: AccountStatus::Credentials,
                    display_name: None,
                    linkedin_member_id: Some(member.clone()),
                    linkedin_profile_id: None,
                },
                unipile_connect::domain::events::How::Hosted,
                world.clock.now(),
            )
            .await
            .expect("stored");
        let response = handler(&app, post(Some("u1"), &cookies("secret-a", "42")))
            .await
            .expect("handled");
        assert_eq!(response.status(), 200, "{}", text(&response));
        assert_eq!(body(&response)["status"], "reconnected");
        let logins = world.unipile.cookie_logins();
        assert_eq!(logins.len(), 1);
        assert_eq!(
            logins[0].0,
            Some(known.clone()),
            "a reconnect, not a connect"
        );
        let tied = record(&world, "u1", "42").await.expect("record");
        assert_eq!(tied.unipile_account_id, Some(known));
    }

    #[tokio::test]
    async fn given_a_healthy_account_of_this_identity_then_the_sync_only_ties_to_it() {
        let world = world();
        let app = app(&world);
        let known = ids(&["li_known"])[0].clone();
        world
            .store
            .record_connection(
                &ConnectedAccount {
                    account_id: known.clone(),
                    user_id: UserId::parse("u1").expect("user"),
                    account_type: Provider::Linkedin,
                    status: AccountStatus::Ok,
                    display_name: None,
                    linkedin_member_id: Some(LinkedinMemberId::parse("42").expect("member")),
                    linkedin_profile_id: None,
                },
                unipile_connect::domain::events::How::Hosted,
                world.clock.now(),
            )
            .await
            .expect("stored");
        let response = handler(&app, post(Some("u1"), &cookies("secret-a", "42")))
            .await
            .expect("handled");
        assert_eq!(response.status(), 200);
        assert_eq!(body(&response)["status"], "linked");
        assert_eq!(body(&response)["account_id"], "li_known");
        assert!(world.unipile.cookie_logins().is_empty());
    }

    async fn given_an_account_of(world: &MemoryWorld, user: &str, id: &str) -> AccountId {
        let id = ids(&[id])[0].clone();
        world.unipile.add_account(&id, Provider::Linkedin);
        world
            .store
            .record_connection(
                &ConnectedAccount {
                    account_id: id.clone(),
                    user_id: UserId::parse(user).expect("user"),
                    account_type: Provider::Linkedin,
                    status: AccountStatus::Ok,
                    display_name: None,
                    linkedin_member_id: None,
                    linkedin_profile_id: None,
                },
                unipile_connect::domain::events::How::Hosted,
                world.clock.now(),
            )
            .await
            .expect("stored");
        id
    }

    #[tokio::test]
    async fn given_the_identity_s_account_deleted_at_unipile_then_the_next_sync_connects_anew() {
        let world = world();
        let app = app(&world);
        let first = handler(&app, post(Some("u1"), &cookies("secret-a", "42")))
            .await
            .expect("handled");
        assert_eq!(first.status(), 201);
        // Someone deletes it in Unipile's dashboard; the webhook records DELETED.
        let deleted = ids(&["li_1"])[0].clone();
        world.unipile.delete_account(&deleted).await.expect("gone");
        let plan = unipile_connect::domain::transitions::plan(
            &AccountStatus::Deleted,
            &Default::default(),
        );
        let outage =
            unipile_connect::domain::Outage::begin(world.clock.now()).expect("an outage id");
        world
            .store
            .record_status(
                &deleted,
                &plan,
                &outage,
                unipile_connect::domain::events::How::Unipile,
                world.clock.now(),
            )
            .await
            .expect("recorded");

        world.clock.advance(Duration::minutes(10));
        let next = handler(&app, post(Some("u1"), &cookies("secret-b", "42")))
            .await
            .expect("handled");
        assert_eq!(next.status(), 201, "{}", text(&next));
        assert_eq!(body(&next)["account_id"], "li_2");
        assert_eq!(
            record(&world, "u1", "42")
                .await
                .and_then(|r| r.unipile_account_id),
            Some(ids(&["li_2"])[0].clone())
        );
        // Within the throttle, a sync of the healthy new account only stores.
        let later = handler(&app, post(Some("u1"), &cookies("secret-c", "42")))
            .await
            .expect("handled");
        assert_eq!(body(&later)["status"], "stored");
        assert_eq!(world.unipile.cookie_logins().len(), 2);
    }

    #[tokio::test]
    async fn given_a_record_naming_another_user_s_account_then_the_sync_does_not_take_it_as_connected()
     {
        let world = world();
        let app = app(&world);
        let theirs = ids(&["li_theirs"])[0].clone();
        let first = handler(&app, post(Some("u1"), &cookies("secret-a", "42")))
            .await
            .expect("handled");
        assert_eq!(first.status(), 201);
        // The record came to name an account that u2 holds since (a record written before
        // owners were checked, or an account recorded for u2 after it was named here).
        world
            .store
            .record_cookie_result(
                &UserId::parse("u1").expect("user"),
                &LinkedinMemberId::parse("42").expect("member"),
                &unipile_connect::ports::CookieResult {
                    unipile_account_id: Some(theirs.clone()),
                    connect_settled: true,
                    ..Default::default()
                },
                world.clock.now(),
            )
            .await
            .expect("written");
        given_an_account_of(&world, "u2", "li_theirs").await;
        world.clock.advance(Duration::minutes(10));
        let next = handler(&app, post(Some("u1"), &cookies("secret-b", "42")))
            .await
            .expect("handled");
        assert_ne!(body(&next)["status"], "stored", "{}", text(&next));
        assert!(!text(&next).contains("u2"), "{}", text(&next));
        let owner = world.store.get_account(&theirs).await.expect("read");
        assert_eq!(owner.map(|a| a.user_id.to_string()).as_deref(), Some("u2"));
    }

    #[tokio::test]
    async fn given_unipile_answering_with_another_user_s_account_then_its_id_is_never_stored_for_this_one()
     {
        let world = world();
        let app = app(&world);
        let theirs = given_an_account_of(&world, "u2", "li_theirs").await;
        world
            .unipile
            .script_cookie_outcomes([CookieOutcome::ConnectedTo(theirs.clone())]);
        let refused = handler(&app, post(Some("u1"), &cookies("secret-a", "42")))
            .await
            .expect("handled");
        assert_eq!(refused.status(), 409, "{}", text(&refused));
        assert!(!text(&refused).contains("u2"), "{}", text(&refused));
        let mine = record(&world, "u1", "42").await.expect("record");
        assert_eq!(mine.unipile_account_id, None, "never stored for u1");
        assert_eq!(
            mine.connect_started_at, None,
            "the connect's outcome is known"
        );
        let owner = world.store.get_account(&theirs).await.expect("read");
        assert_eq!(owner.map(|a| a.user_id.to_string()).as_deref(), Some("u2"));
        assert!(
            world
                .store
                .accounts_of(&UserId::parse("u1").expect("user"))
                .await
                .expect("read")
                .is_empty()
        );
    }

    fn profile() -> unipile_connect::domain::LinkedinProfileId {
        unipile_connect::domain::LinkedinProfileId::parse("ACoAABmember42").expect("profile")
    }

    fn cookies_of_profile(li_at: &str, member: &str) -> String {
        format!(
            r#"{{"li_at":"{li_at}","user_agent":"{UA}","linkedin_member_id":"{member}","linkedin_profile_id":"ACoAABmember42"}}"#
        )
    }

    #[tokio::test]
    async fn given_a_lost_connect_answer_and_unipile_showing_the_member_s_profile_id_then_the_next_sync_takes_that_account()
     {
        let world = world();
        let app = app(&world);
        world.unipile.set_linkedin_member("secret-a", &profile());
        world
            .unipile
            .script_cookie_outcomes([CookieOutcome::CreatedThenLost(UnipileError::Transport(
                "connection reset".into(),
            ))]);
        let lost = handler(
            &app,
            post(Some("u1"), &cookies_of_profile("secret-a", "42")),
        )
        .await
        .expect("handled");
        assert_eq!(lost.status(), 504);
        // Long after: whatever the clocks said, the profile id tells the account.
        world.clock.advance(Duration::hours(3));
        let next = handler(
            &app,
            post(Some("u1"), &cookies_of_profile("secret-b", "42")),
        )
        .await
        .expect("handled");
        assert_eq!(next.status(), 201, "{}", text(&next));
        assert_eq!(body(&next)["account_id"], "li_1");
        assert_eq!(world.unipile.cookie_logins().len(), 1, "no second connect");
        assert_eq!(
            world.unipile.account_ids(),
            ids(&["li_1"]),
            "one billed account"
        );
        let account = world
            .store
            .get_account(&ids(&["li_1"])[0])
            .await
            .expect("read")
            .expect("recorded");
        assert_eq!(account.user_id.as_str(), "u1");
        assert_eq!(
            account.linkedin_member_id.map(String::from).as_deref(),
            Some("42")
        );
        let settled = record(&world, "u1", "42").await.expect("record");
        assert_eq!(settled.unipile_account_id, Some(ids(&["li_1"])[0].clone()));
        assert_eq!(settled.connect_started_at, None);
    }

    #[tokio::test]
    async fn given_a_lost_connect_answer_and_only_another_member_s_account_then_the_next_sync_connects()
     {
        let world = world();
        let app = app(&world);
        world.unipile.set_linkedin_member("secret-a", &profile());
        world
            .unipile
            .script_cookie_outcomes([CookieOutcome::Fail(UnipileError::Transport(
                "connection reset".into(),
            ))]);
        // Someone else's LinkedIn account appears at the same moment (another app on the
        // tenant); its profile id is not this member's.
        let stranger = ids(&["li_stranger"])[0].clone();
        world.unipile.add_linkedin_account(
            &stranger,
            &unipile_connect::domain::LinkedinProfileId::parse("ACoAABstranger").expect("id"),
        );
        let lost = handler(
            &app,
            post(Some("u1"), &cookies_of_profile("secret-a", "42")),
        )
        .await
        .expect("handled");
        assert_eq!(lost.status(), 504);
        world.clock.advance(Duration::minutes(10));
        let next = handler(
            &app,
            post(Some("u1"), &cookies_of_profile("secret-b", "42")),
        )
        .await
        .expect("handled");
        assert_eq!(next.status(), 201, "{}", text(&next));
        assert_eq!(world.unipile.cookie_logins().len(), 2);
        assert_ne!(body(&next)["account_id"], "li_stranger");
    }

    #[tokio::test]
    async fn given_the_member_s_account_connected_through_hosted_auth_then_the_sync_links_to_it() {
        for recorded_profile in [true, false] {
            let world = world();
            let app = app(&world);
            let hosted = ids(&["li_hosted"])[0].clone();
            world.unipile.add_linkedin_account(&hosted, &profile());
            world
                .store
                .record_connection(
                    &ConnectedAccount {
                        account_id: hosted.clone(),
                        user_id: UserId::parse("u1").expect("user"),
                        account_type: Provider::Linkedin,
                        status: AccountStatus::Ok,
                        display_name: None,
                        linkedin_member_id: None,
                        // Accounts recorded before profile ids were kept have none: Unipile
                        // is asked.
                        linkedin_profile_id: recorded_profile.then(profile),
                    },
                    unipile_connect::domain::events::How::Hosted,
                    world.clock.now(),
                )
                .await
                .expect("stored");
            let response = handler(
                &app,
                post(Some("u1"), &cookies_of_profile("secret-a", "42")),
            )
            .await
            .expect("handled");
            assert_eq!(response.status(), 200, "{}", text(&response));
            assert_eq!(body(&response)["status"], "linked");
            assert_eq!(body(&response)["account_id"], "li_hosted");
            assert!(
                world.unipile.cookie_logins().is_empty(),
                "no second account"
            );
            let account = world
                .store
                .get_account(&hosted)
                .await
                .expect("read")
                .expect("kept");
            assert_eq!(
                account.linkedin_member_id.map(String::from).as_deref(),
                Some("42"),
                "its CREDENTIALS can now be mended with the extension's cookie"
            );
            assert_eq!(account.linkedin_profile_id, Some(profile()));
        }
    }

    #[tokio::test]
    async fn given_another_user_s_account_of_the_same_profile_then_the_sync_does_not_link_to_it() {
        let world = world();
        let app = app(&world);
        let theirs = given_an_account_of(&world, "u2", "li_theirs").await;
        world
            .store
            .tie_linkedin_identity(
                &theirs,
                &UserId::parse("u2").expect("user"),
                &LinkedinMemberId::parse("7").expect("member"),
                Some(&profile()),
            )
            .await
            .expect("tied");
        let response = handler(
            &app,
            post(Some("u1"), &cookies_of_profile("secret-a", "42")),
        )
        .await
        .expect("handled");
        assert_eq!(response.status(), 201, "{}", text(&response));
        assert_ne!(body(&response)["account_id"], "li_theirs");
    }
}
