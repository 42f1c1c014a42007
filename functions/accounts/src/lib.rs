//! `GET /accounts` and `DELETE /accounts/{id}` for the signed-in user, and custom
//! authentication (`/accounts/connect...`, see `connect.rs`); `GET
//! /service/accounts[/{account_id}]`, `DELETE /service/accounts/{account_id}` and `GET
//! /service/events` for the team's backend.

mod connect;

use lambda_http::{Body, Error, Request, Response};
use unipile_connect::config::{self, ConfigError, EnvSource};
use unipile_connect::deps::Deps;
use unipile_connect::domain::AccountId;
use unipile_connect::domain::login_attempt::AttemptLimit;
use unipile_connect::flows::accounts::{disconnect_account, list_accounts};
use unipile_connect::flows::event_feed::{self, FeedQuery};
use unipile_connect::flows::service_accounts::{self, AccountQuery};
use unipile_connect::http::{
    ClaimNames, Problem, caller, json_response, no_content, path_param, query_param, service_caller,
};

pub struct Accounts {
    pub deps: Deps,
    pub claims: ClaimNames,
    /// `CONNECT_ATTEMPT_LIMIT`.
    pub attempt_limit: AttemptLimit,
}

impl Accounts {
    pub async fn from_env(env: impl EnvSource) -> Result<Self, ConfigError> {
        let aws = config::aws_sdk_config(&env).await;
        Ok(Self {
            claims: config::claim_names(&env),
            attempt_limit: config::connect_attempt_limit(&env)?,
            deps: Deps::from_env(&env, &aws)?,
        })
    }
}

pub async fn handler(app: &Accounts, request: Request) -> Result<Response<Body>, Error> {
    Ok(handle(app, request)
        .await
        .unwrap_or_else(Problem::into_response))
}

async fn handle(app: &Accounts, request: Request) -> Result<Response<Body>, Problem> {
    if request.uri().path().contains("/service/events") {
        return service_events(app, request).await;
    }
    if request.uri().path().contains("/service/accounts") {
        return service(app, request).await;
    }
    let caller = caller(&request, &app.claims)?;
    if request.uri().path().contains("/accounts/connect") {
        return connect::handle(app, &caller, request).await;
    }
    let account_id = path_param(&request, "id", "/accounts/");
    match (request.method().as_str(), account_id) {
        ("GET", None) => {
            let list = list_accounts(app.deps.store.as_ref(), &caller.user_id).await?;
            Ok(json_response(200, &list))
        }
        ("DELETE", Some(raw)) => {
            let account_id =
                AccountId::parse(raw).map_err(|e| Problem::bad_request(e.to_string()))?;
            disconnect_account(
                app.deps.store.as_ref(),
                app.deps.unipile.as_ref(),
                &caller.user_id,
                &account_id,
                app.deps.clock.now(),
            )
            .await?;
            Ok(no_content())
        }
        _ => Err(Problem::method_not_allowed(
            "use GET /accounts or DELETE /accounts/{id}",
        )),
    }
}

/// The team's backend's routes: any account, no owner check, a service token only.
async fn service(app: &Accounts, request: Request) -> Result<Response<Body>, Problem> {
    let service = service_caller(&request, &app.claims)?;
    let account_id = path_param(&request, "account_id", "/service/accounts/")
        .map(|raw| AccountId::parse(raw).map_err(|e| Problem::bad_request(e.to_string())))
        .transpose()?;
    let store = app.deps.store.as_ref();
    match (request.method().as_str(), account_id) {
        ("GET", None) => {
            let param = |name| query_param(&request, name);
            let query = AccountQuery::parse(
                param("user_id").as_deref(),
                param("status").as_deref(),
                param("cursor").as_deref(),
                param("limit").as_deref(),
            )?;
            let page = service_accounts::list(store, &query).await?;
            Ok(json_response(200, &page))
        }
        ("GET", Some(account_id)) => {
            let account = service_accounts::get(store, &account_id).await?;
            Ok(json_response(200, &account))
        }
        ("DELETE", Some(account_id)) => {
            tracing::info!(account_id = %account_id, client = service.client.as_deref().unwrap_or("-"), "the service disconnects an account");
            service_accounts::disconnect(
                store,
                app.deps.unipile.as_ref(),
                &account_id,
                app.deps.clock.now(),
            )
            .await?;
            Ok(no_content())
        }
        _ => Err(Problem::method_not_allowed(
            "use GET /service/accounts, GET or DELETE /service/accounts/{account_id}",
        )),
    }
}

/// The team's backend catching up on the events of the last 30 days: a service token only.
async fn service_events(app: &Accounts, request: Request) -> Result<Response<Body>, Problem> {
    service_caller(&request, &app.claims)?;
    if request.method().as_str() != "GET" {
        return Err(Problem::method_not_allowed("use GET /service/events"));
    }
    let param = |name| query_param(&request, name);
    let query = FeedQuery::parse(
        param("after").as_deref(),
        param("account_id").as_deref(),
        param("limit").as_deref(),
    )?;
    let page = event_feed::page(app.deps.feed.as_ref(), app.deps.clock.as_ref(), &query).await?;
    Ok(json_response(200, &page))
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::{Duration, TimeZone, Utc};
    use std::collections::HashMap;
    use unipile_connect::domain::{AccountStatus, Provider, UserId};
    use unipile_connect::http::with_jwt_claims;
    use unipile_connect::memory_world::MemoryWorld;
    use unipile_connect::ports::{AccountStore, Clock, ConnectedAccount, UnipileError};

    fn world() -> MemoryWorld {
        MemoryWorld::at(
            Utc.with_ymd_and_hms(2026, 3, 1, 12, 0, 0)
                .single()
                .expect("date"),
        )
    }

    fn app(world: &MemoryWorld) -> Accounts {
        Accounts {
            deps: world.deps(),
            claims: ClaimNames::default(),
            attempt_limit: AttemptLimit::default(),
        }
    }

    fn request(method: &str, uri: &str, user: &str) -> Request {
        let request: Request = http::Request::builder()
            .method(method)
            .uri(uri)
            .body(Body::Empty)
            .expect("request");
        with_jwt_claims(
            request,
            HashMap::from([("sub".to_owned(), user.to_owned())]),
        )
    }

    async fn connect(world: &MemoryWorld, user: &str, id: &str, provider: Provider) {
        let connection = ConnectedAccount {
            account_id: AccountId::parse(id).expect("id"),
            user_id: UserId::parse(user).expect("user"),
            account_type: provider.clone(),
            display_name: None,
            linkedin_member_id: None,
            linkedin_profile_id: None,
            status: AccountStatus::Ok,
        };
        world.unipile.add_account(&connection.account_id, provider);
        world
            .store
            .record_connection(
                &connection,
                unipile_connect::domain::events::How::Hosted,
                world.clock.now(),
            )
            .await
            .expect("stored");
        world.clock.advance(Duration::minutes(1));
    }

    fn ids(response: &Response<Body>) -> Vec<String> {
        let body: serde_json::Value =
            serde_json::from_slice(response.body().as_ref()).expect("json");
        body["accounts"]
            .as_array()
            .expect("list")
            .iter()
            .map(|a| a["account_id"].as_str().expect("id").to_owned())
            .collect()
    }

    #[tokio::test]
    async fn the_list_holds_only_the_callers_accounts_newest_first() {
        let world = world();
        connect(&world, "u1", "older", Provider::Linkedin).await;
        connect(&world, "u2", "not_mine", Provider::Mail).await;
        connect(&world, "u1", "newer", Provider::Google).await;
        let response = handler(&app(&world), request("GET", "/accounts", "u1"))
            .await
            .expect("handled");
        assert_eq!(response.status(), 200);
        assert_eq!(ids(&response), vec!["newer", "older"]);
        let body: serde_json::Value =
            serde_json::from_slice(response.body().as_ref()).expect("json");
        assert_eq!(body["accounts"][0]["type"], "GOOGLE");
        assert_eq!(body["accounts"][0]["status"], "OK");
        assert_eq!(
            body["accounts"][0]["created_on"],
            "2026-03-01T12:02:00.000Z"
        );
    }

    #[tokio::test]
    async fn disconnecting_deletes_at_unipile_then_here_and_only_for_the_owner() {
        let world = world();
        connect(&world, "u1", "acc_1", Provider::Linkedin).await;
        let app = app(&world);

        let stranger = handler(&app, request("DELETE", "/accounts/acc_1", "u2"))
            .await
            .expect("handled");
        assert_eq!(stranger.status(), 404);
        assert!(world.unipile.deleted().is_empty());

        let owner = handler(&app, request("DELETE", "/accounts/acc_1", "u1"))
            .await
            .expect("handled");
        assert_eq!(owner.status(), 204);
        assert_eq!(
            world.unipile.deleted(),
            vec![AccountId::parse("acc_1").expect("id")]
        );
        let listed = handler(&app, request("GET", "/accounts", "u1"))
            .await
            .expect("handled");
        assert!(ids(&listed).is_empty());

        let again = handler(&app, request("DELETE", "/accounts/acc_1", "u1"))
            .await
            .expect("handled");
        assert_eq!(again.status(), 404);
    }

    #[tokio::test]
    async fn a_unipile_failure_keeps_the_account_for_a_retry() {
        let world = world();
        connect(&world, "u1", "acc_1", Provider::Linkedin).await;
        world
            .unipile
            .fail_with(UnipileError::Transport("connection refused".into()));
        let app = app(&world);
        let response = handler(&app, request("DELETE", "/accounts/acc_1", "u1"))
            .await
            .expect("handled");
        assert_eq!(response.status(), 504);
        let listed = handler(&app, request("GET", "/accounts", "u1"))
            .await
            .expect("handled");
        assert_eq!(ids(&listed), vec!["acc_1"]);

        world.unipile.recover();
        let retried = handler(&app, request("DELETE", "/accounts/acc_1", "u1"))
            .await
            .expect("handled");
        assert_eq!(retried.status(), 204);
    }

    #[tokio::test]
    async fn disconnecting_an_account_the_extension_connected_pauses_its_identity_once_the_table_answers()
     {
        let world = world();
        let (user, member) = (
            UserId::parse("u1").expect("user"),
            unipile_connect::domain::LinkedinMemberId::parse("42").expect("member"),
        );
        let connection = ConnectedAccount {
            account_id: AccountId::parse("li_1").expect("id"),
            user_id: user.clone(),
            account_type: Provider::Linkedin,
            display_name: None,
            linkedin_member_id: Some(member.clone()),
            linkedin_profile_id: None,
            status: AccountStatus::Ok,
        };
        world
            .unipile
            .add_account(&connection.account_id, Provider::Linkedin);
        world
            .store
            .record_connection(
                &connection,
                unipile_connect::domain::events::How::Hosted,
                world.clock.now(),
            )
            .await
            .expect("stored");
        let app = app(&world);
        // The table fails the pause: the disconnect is not done, and a retry finishes it.
        world.store.fail_next_writes(1);
        let failed = handler(&app, request("DELETE", "/accounts/li_1", "u1"))
            .await
            .expect("handled");
        assert_eq!(failed.status(), 503);
        assert_eq!(
            ids(&handler(&app, request("GET", "/accounts", "u1"))
                .await
                .expect("handled")),
            vec!["li_1"]
        );
        let retried = handler(&app, request("DELETE", "/accounts/li_1", "u1"))
            .await
            .expect("handled");
        assert_eq!(retried.status(), 204);
        let identities = world.store.identities_of(&user).await.expect("read");
        assert!(identities.is_paused(&member));
        assert!(identities.syncing.is_empty());
    }

    fn service_request(method: &str, uri: &str) -> Request {
        let request: Request = http::Request::builder()
            .method(method)
            .uri(uri)
            .body(Body::Empty)
            .expect("request");
        with_jwt_claims(
            request,
            HashMap::from([
                ("sub".to_owned(), "backend-client".to_owned()),
                ("client_id".to_owned(), "backend-client".to_owned()),
                ("scope".to_owned(), "unipile-connect/service".to_owned()),
            ]),
        )
    }

    fn body(response: &Response<Body>) -> serde_json::Value {
        serde_json::from_slice(response.body().as_ref()).expect("json")
    }

    #[tokio::test]
    async fn the_service_sees_any_users_accounts_and_users_and_services_keep_to_their_routes() {
        let world = world();
        connect(&world, "u1", "older", Provider::Linkedin).await;
        connect(&world, "u2", "not_u1s", Provider::Mail).await;
        connect(&world, "u1", "newer", Provider::Whatsapp).await;
        let app = app(&world);

        let listed = handler(&app, service_request("GET", "/service/accounts?user_id=u1"))
            .await
            .expect("handled");
        assert_eq!(listed.status(), 200);
        let listed = body(&listed);
        assert_eq!(listed["accounts"][0]["account_id"], "newer");
        assert_eq!(listed["accounts"][0]["user_id"], "u1");
        assert_eq!(listed["accounts"][0]["provider"], "WHATSAPP");
        assert_eq!(listed["accounts"].as_array().map(Vec::len), Some(2));
        assert!(listed.get("next").is_none(), "{listed}");

        let one = handler(&app, service_request("GET", "/service/accounts/not_u1s"))
            .await
            .expect("handled");
        assert_eq!(one.status(), 200);
        assert_eq!(body(&one)["user_id"], "u2");
        let missing = handler(&app, service_request("GET", "/service/accounts/nobody"))
            .await
            .expect("handled");
        assert_eq!(missing.status(), 404);

        // A user's token on a service route, and a service token on a user's: 403 both.
        let user_there = handler(&app, request("GET", "/service/accounts?user_id=u1", "u1"))
            .await
            .expect("handled");
        assert_eq!(user_there.status(), 403);
        let service_here = handler(&app, service_request("GET", "/accounts"))
            .await
            .expect("handled");
        assert_eq!(service_here.status(), 403);
        assert_eq!(
            body(&service_here)["type"],
            "urn:unipile-connect:problem:wrong-token-kind"
        );
    }

    #[tokio::test]
    async fn the_service_catches_up_on_settled_events_and_a_users_token_is_refused() {
        let world = world();
        let app = app(&world);
        let connection = ConnectedAccount {
            account_id: AccountId::parse("acc_1").expect("id"),
            user_id: UserId::parse("u1").expect("user"),
            account_type: Provider::Linkedin,
            display_name: None,
            linkedin_member_id: None,
            linkedin_profile_id: None,
            status: AccountStatus::Ok,
        };
        app.deps
            .store
            .record_connection(
                &connection,
                unipile_connect::domain::events::How::Hosted,
                world.clock.now(),
            )
            .await
            .expect("stored and published");
        let fresh = handler(&app, service_request("GET", "/service/events"))
            .await
            .expect("handled");
        assert_eq!(fresh.status(), 200);
        assert_eq!(
            body(&fresh),
            serde_json::json!({"events": [], "next": null, "more": false})
        );

        world.clock.advance(Duration::minutes(1));
        let settled = handler(&app, service_request("GET", "/service/events?limit=1"))
            .await
            .expect("handled");
        assert_eq!(settled.status(), 200);
        let page = body(&settled);
        assert_eq!(page["events"][0]["type"], "account.connected");
        assert_eq!(page["events"][0]["data"]["account_id"], "acc_1");
        assert_eq!(page["next"], page["events"][0]["id"]);
        assert_eq!(page["more"], true);
        assert_eq!(
            page["events"][0],
            serde_json::to_value(&world.events.published()[0]).expect("json"),
            "each event as the bus carried it"
        );
        let next = page["next"].as_str().expect("an id").to_owned();
        let caught_up = handler(
            &app,
            service_request(
                "GET",
                &format!("/service/events?after={next}&account_id=acc_1"),
            ),
        )
        .await
        .expect("handled");
        assert_eq!(
            body(&caught_up),
            serde_json::json!({"events": [], "next": next, "more": false})
        );

        let user_there = handler(&app, request("GET", "/service/events", "u1"))
            .await
            .expect("handled");
        assert_eq!(user_there.status(), 403);
        assert_eq!(
            body(&user_there)["type"],
            "urn:unipile-connect:problem:wrong-token-kind"
        );
        let unknown = handler(
            &app,
            service_request(
                "GET",
                "/service/events?after=evt_0000000001000_abcdef012345",
            ),
        )
        .await
        .expect("handled");
        assert_eq!(unknown.status(), 404);
        assert_eq!(
            body(&unknown)["type"],
            "urn:unipile-connect:problem:unknown-event"
        );
        for bad in ["/service/events?limit=501", "/service/events?after=acc_1"] {
            let refused = handler(&app, service_request("GET", bad))
                .await
                .expect("handled");
            assert_eq!(refused.status(), 400, "{bad}");
        }
        let posted = handler(&app, service_request("POST", "/service/events"))
            .await
            .expect("handled");
        assert_eq!(posted.status(), 405);
    }

    #[tokio::test]
    async fn accounts_in_one_status_come_page_by_page_and_a_bad_query_is_refused() {
        let world = world();
        for id in ["a1", "a2", "a3", "a4"] {
            connect(&world, "u1", id, Provider::Linkedin).await;
        }
        let status = |id: &str, status| {
            let (store, clock) = (world.store.clone(), world.clock.clone());
            let id = AccountId::parse(id).expect("id");
            async move {
                store
                    .record_status(
                        &id,
                        &unipile_connect::domain::transitions::plan(
                            &status,
                            &unipile_connect::domain::transitions::TransitionPolicy::default(),
                        ),
                        &unipile_connect::domain::Outage::begin(clock.now()).expect("outage"),
                        unipile_connect::domain::events::How::Unipile,
                        clock.now(),
                    )
                    .await
                    .expect("recorded");
            }
        };
        for id in ["a1", "a3", "a4"] {
            status(id, AccountStatus::Credentials).await;
        }
        let app = app(&world);
        let mut seen = Vec::new();
        let mut uri = "/service/accounts?status=credentials&limit=2".to_owned();
        for _ in 0..5 {
            let page = handler(&app, service_request("GET", &uri))
                .await
                .expect("handled");
            assert_eq!(page.status(), 200);
            let page = body(&page);
            for account in page["accounts"].as_array().expect("list") {
                assert_eq!(account["status"], "CREDENTIALS");
                assert!(account["outage"]["since"].is_string(), "{account}");
                seen.push(account["account_id"].as_str().expect("id").to_owned());
            }
            match page["next"].as_str() {
                Some(next) => {
                    uri = format!("/service/accounts?status=CREDENTIALS&limit=2&cursor={next}")
                }
                None => break,
            }
        }
        seen.sort();
        assert_eq!(seen, vec!["a1", "a3", "a4"]);

        for bad in [
            "/service/accounts",
            "/service/accounts?user_id=u1&status=OK",
            "/service/accounts?status=OK&limit=0",
            "/service/accounts?status=OK&limit=101",
            "/service/accounts?status=not%20a%20status",
            "/service/accounts?user_id=u1&cursor=a1",
            "/service/accounts?status=OK&cursor=no%20such%20cursor",
        ] {
            let refused = handler(&app, service_request("GET", bad))
                .await
                .expect("handled");
            assert_eq!(refused.status(), 400, "{bad}: {}", body(&refused));
        }
    }

    #[tokio::test]
    async fn the_service_disconnects_any_account_and_its_event_says_so() {
        let world = world();
        connect(&world, "u1", "acc_1", Provider::Linkedin).await;
        let app = app(&world);
        let done = handler(&app, service_request("DELETE", "/service/accounts/acc_1"))
            .await
            .expect("handled");
        assert_eq!(done.status(), 204);
        assert_eq!(
            world.unipile.deleted(),
            vec![AccountId::parse("acc_1").expect("id")]
        );
        let events = world.events.distinct();
        let disconnected = events
            .iter()
            .find(|e| e.kind == unipile_connect::domain::events::EventType::Disconnected)
            .expect("an event");
        assert_eq!(
            disconnected.data.by,
            Some(unipile_connect::domain::events::Disconnector::Service)
        );
        assert_eq!(disconnected.data.user_id.as_str(), "u1");
        let again = handler(&app, service_request("DELETE", "/service/accounts/acc_1"))
            .await
            .expect("handled");
        assert_eq!(again.status(), 404);
    }

    #[tokio::test]
    async fn no_identity_no_answer() {
        let world = world();
        let request: Request = http::Request::builder()
            .uri("/accounts")
            .body(Body::Empty)
            .expect("request");
        let response = handler(&app(&world), request).await.expect("handled");
        assert_eq!(response.status(), 401);
    }
}
