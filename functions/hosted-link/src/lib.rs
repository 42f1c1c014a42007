//! `POST /accounts/link`: a hosted-auth link for the signed-in user; `POST /service/links`:
//! one the team's backend mints for a user.

use lambda_http::{Body, Error, Request, Response};
use unipile_connect::config::{self, ConfigError, EnvSource};
use unipile_connect::deps::Deps;
use unipile_connect::domain::{Caller, LinkRequest, LinkRequestBody, ServiceLinkBody};
use unipile_connect::flows::hosted_link::{LinkPorts, LinkSettings, issue_link};
use unipile_connect::http::{
    ClaimNames, Problem, caller, json_body, json_response, service_caller,
};

pub struct HostedLink {
    pub deps: Deps,
    pub settings: LinkSettings,
    pub claims: ClaimNames,
}

impl HostedLink {
    pub async fn from_env(env: impl EnvSource) -> Result<Self, ConfigError> {
        let aws = config::aws_sdk_config(&env).await;
        Ok(Self {
            settings: config::link_settings(&env)?,
            claims: config::claim_names(&env),
            deps: Deps::from_env(&env, &aws)?,
        })
    }
}

pub async fn handler(app: &HostedLink, request: Request) -> Result<Response<Body>, Error> {
    Ok(handle(app, request)
        .await
        .unwrap_or_else(Problem::into_response))
}

async fn handle(app: &HostedLink, request: Request) -> Result<Response<Body>, Problem> {
    if request.method() != http::Method::POST {
        return Err(Problem::method_not_allowed("use POST"));
    }
    let (caller, body) = if request.uri().path().ends_with("/service/links") {
        service_link_body(app, &request)?
    } else {
        (
            caller(&request, &app.claims)?,
            json_body::<LinkRequestBody>(request.body())?,
        )
    };
    let link_request = LinkRequest::parse(body, &app.settings.redirects)
        .map_err(|e| Problem::bad_request(e.to_string()))?;
    let ports = LinkPorts {
        store: app.deps.store.as_ref(),
        unipile: app.deps.unipile.as_ref(),
        clock: app.deps.clock.as_ref(),
    };
    let link = issue_link(ports, &app.settings, &caller, link_request).await?;
    Ok(json_response(200, &link))
}

/// The team's backend's link: for the user its body names, with no email recorded (only the
/// user's own token vouches for an address).
fn service_link_body(
    app: &HostedLink,
    request: &Request,
) -> Result<(Caller, LinkRequestBody), Problem> {
    service_caller(request, &app.claims)?;
    let body = ServiceLinkBody::parse(json_body(request.body())?).map_err(Problem::bad_request)?;
    Ok((
        Caller {
            user_id: body.user_id,
            email: None,
        },
        body.link,
    ))
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::{TimeZone, Utc};
    use std::collections::HashMap;
    use unipile_connect::domain::{
        AccountId, AccountStatus, LinkKind, LinkPurpose, Provider, RedirectPolicy, UserId,
    };
    use unipile_connect::http::{StateKey, with_jwt_claims};
    use unipile_connect::memory_world::MemoryWorld;
    use unipile_connect::ports::{
        AccountStore, Clock, ConnectedAccount, UnipileError, UnipileErrorType,
    };

    const KEY: &[u8] = b"test-state-key-0123456789abcdef-0123";

    fn app(world: &MemoryWorld) -> HostedLink {
        HostedLink {
            deps: world.deps(),
            settings: LinkSettings {
                public_base_url: "https://callback.example.com".parse().expect("url"),
                state_key: StateKey::new(KEY.to_vec()).expect("key"),
                redirects: RedirectPolicy::parse("https://app.example.com").expect("origins"),
                link_ttl: chrono::Duration::minutes(30),
            },
            claims: ClaimNames::default(),
        }
    }

    fn world() -> MemoryWorld {
        MemoryWorld::at(
            Utc.with_ymd_and_hms(2026, 3, 1, 12, 0, 0)
                .single()
                .expect("date"),
        )
    }

    fn post(user: Option<&str>, body: &str) -> Request {
        let request: Request = http::Request::builder()
            .method("POST")
            .uri("/accounts/link")
            .body(Body::from(body))
            .expect("request");
        match user {
            Some(user) => with_jwt_claims(
                request,
                HashMap::from([
                    ("sub".to_owned(), user.to_owned()),
                    ("email".to_owned(), format!("{user}@example.com")),
                ]),
            ),
            None => request,
        }
    }

    fn json(response: &Response<Body>) -> serde_json::Value {
        serde_json::from_slice(response.body().as_ref()).expect("JSON body")
    }

    async fn own_account(world: &MemoryWorld, user: &str, id: &str) {
        let connection = ConnectedAccount {
            account_id: AccountId::parse(id).expect("id"),
            user_id: UserId::parse(user).expect("user"),
            account_type: Provider::Linkedin,
            display_name: None,
            linkedin_member_id: None,
            linkedin_profile_id: None,
            status: AccountStatus::Ok,
        };
        world
            .store
            .record_connection(
                &connection,
                unipile_connect::domain::events::How::Hosted,
                Utc::now(),
            )
            .await
            .expect("stored");
    }

    #[tokio::test]
    async fn a_signed_in_user_gets_a_link_whose_callback_names_them() {
        let world = world();
        let response = handler(
            &app(&world),
            post(
                Some("user_42"),
                r#"{"type":"create","providers":["LINKEDIN"]}"#,
            ),
        )
        .await
        .expect("handled");
        assert_eq!(response.status(), 200);
        let body = json(&response);
        assert_eq!(body["url"], "https://account.unipile.test/link/1");
        assert_eq!(body["expires_at"], "2026-03-01T12:30:00.000Z");

        let sent = world.unipile.links();
        assert_eq!(sent.len(), 1);
        assert_eq!(sent[0].name.as_str(), "user_42");
        let state = sent[0]
            .notify_url
            .query_pairs()
            .find(|(k, _)| k == "state")
            .map(|(_, v)| v.into_owned())
            .expect("state in notify_url");
        assert_eq!(sent[0].notify_url.path(), "/unipile/notify");
        let token = StateKey::new(KEY.to_vec())
            .expect("key")
            .verify(&state, world.clock.now())
            .expect("valid");
        assert_eq!(token.user_id.as_str(), "user_42");
        assert_eq!(token.purpose, LinkPurpose::Create);

        let profile = world
            .store
            .profile_of(&token.user_id)
            .await
            .expect("store")
            .expect("profile recorded");
        assert_eq!(profile.email.as_str(), "user_42@example.com");
    }

    fn service_post(body: &str, scope: &str) -> Request {
        let request: Request = http::Request::builder()
            .method("POST")
            .uri("/service/links")
            .body(Body::from(body.to_owned()))
            .expect("request");
        with_jwt_claims(
            request,
            HashMap::from([
                ("sub".to_owned(), "backend-client".to_owned()),
                ("scope".to_owned(), scope.to_owned()),
            ]),
        )
    }

    #[tokio::test]
    async fn the_service_mints_a_link_bound_to_the_user_it_names() {
        let world = world();
        own_account(&world, "owner", "acc_1").await;
        let app = app(&world);
        let service = "unipile-connect/service";
        let response = handler(
            &app,
            service_post(
                r#"{"user_id":"owner","type":"reconnect","reconnect_account":"acc_1"}"#,
                service,
            ),
        )
        .await
        .expect("handled");
        assert_eq!(response.status(), 200, "{}", json(&response));
        let sent = world.unipile.links();
        assert_eq!(sent[0].name.as_str(), "owner");
        let state = sent[0]
            .notify_url
            .query_pairs()
            .find(|(k, _)| k == "state")
            .map(|(_, v)| v.into_owned())
            .expect("state");
        let token = StateKey::new(KEY.to_vec())
            .expect("key")
            .verify(&state, world.clock.now())
            .expect("valid");
        assert_eq!(token.user_id.as_str(), "owner");
        assert_eq!(
            token.purpose,
            LinkPurpose::Reconnect {
                account_id: AccountId::parse("acc_1").expect("id")
            }
        );
        // No address vouched for by the user's own token: none recorded.
        let owner = UserId::parse("owner").expect("user");
        assert_eq!(world.store.profile_of(&owner).await.expect("store"), None);

        // Someone else's account is no account; a body without user_id, with an unknown
        // field, or from a user's token is refused.
        for (body, scope, status) in [
            (
                r#"{"user_id":"stranger","type":"reconnect","reconnect_account":"acc_1"}"#,
                service,
                404,
            ),
            (r#"{"type":"create","providers":"*"}"#, service, 400),
            (
                r#"{"user_id":7,"type":"create","providers":"*"}"#,
                service,
                400,
            ),
            (
                r#"{"user_id":"u1","type":"create","providers":"*","extra":1}"#,
                service,
                400,
            ),
            (
                r#"{"user_id":"u1","type":"create","providers":"*"}"#,
                "openid",
                403,
            ),
        ] {
            let refused = handler(&app, service_post(body, scope))
                .await
                .expect("handled");
            assert_eq!(refused.status(), status, "{body}: {}", json(&refused));
        }
        assert_eq!(world.unipile.links().len(), 1);

        // A service token is no user: the user route refuses it.
        let mut own = service_post(r#"{"type":"create","providers":"*"}"#, service);
        *own.uri_mut() = "/accounts/link".parse().expect("uri");
        assert_eq!(handler(&app, own).await.expect("handled").status(), 403);
    }

    #[tokio::test]
    async fn reconnecting_is_only_for_the_owner() {
        let world = world();
        own_account(&world, "owner", "acc_1").await;
        let app = app(&world);
        let body = r#"{"type":"reconnect","reconnect_account":"acc_1"}"#;

        let stranger = handler(&app, post(Some("stranger"), body))
            .await
            .expect("handled");
        assert_eq!(stranger.status(), 404);
        assert!(world.unipile.links().is_empty());

        let owner = handler(&app, post(Some("owner"), body))
            .await
            .expect("handled");
        assert_eq!(owner.status(), 200);
        let link = &world.unipile.links()[0];
        assert_eq!(
            link.kind,
            LinkKind::Reconnect {
                account_id: AccountId::parse("acc_1").expect("id")
            }
        );
        // The callback of this link can only be the reconnection of acc_1.
        let state = link
            .notify_url
            .query_pairs()
            .find(|(k, _)| k == "state")
            .map(|(_, v)| v.into_owned())
            .expect("state in notify_url");
        let token = StateKey::new(KEY.to_vec())
            .expect("key")
            .verify(&state, world.clock.now())
            .expect("valid");
        assert_eq!(
            token.purpose,
            LinkPurpose::Reconnect {
                account_id: AccountId::parse("acc_1").expect("id")
            }
        );
    }

    #[tokio::test]
    async fn bad_requests_get_a_problem_and_reach_nobody() {
        let world = world();
        let app = app(&world);
        for (user, body, status) in [
            (None, r#"{"type":"create","providers":"*"}"#, 401),
            (Some("u1"), "{not json", 400),
            (
                Some("u1"),
                r#"{"type":"create","providers":"*","user_id":"u2"}"#,
                400,
            ),
            (Some("u1"), r#"{"type":"create","providers":["FAX"]}"#, 400),
            (
                Some("u1"),
                r#"{"type":"create","providers":"*","success_redirect_url":"https://evil.example.net/"}"#,
                400,
            ),
        ] {
            let response = handler(&app, post(user, body)).await.expect("handled");
            assert_eq!(response.status(), status, "{body}");
            assert_eq!(
                response
                    .headers()
                    .get("content-type")
                    .and_then(|v| v.to_str().ok()),
                Some("application/problem+json")
            );
            assert_eq!(json(&response)["status"], status);
        }
        assert!(world.unipile.links().is_empty());
    }

    #[tokio::test]
    async fn a_unipile_outage_is_a_502_and_records_nothing() {
        let world = world();
        world.unipile.fail_with(UnipileError::Api {
            status: 503,
            error_type: UnipileErrorType::ServiceUnavailable,
            title: "down".into(),
            detail: None,
        });
        let response = handler(
            &app(&world),
            post(Some("u1"), r#"{"type":"create","providers":"*"}"#),
        )
        .await
        .expect("handled");
        assert_eq!(response.status(), 502);
        assert_eq!(
            json(&response)["unipile_type"],
            "errors/service_unavailable"
        );
        let user = UserId::parse("u1").expect("user");
        assert_eq!(world.store.profile_of(&user).await.expect("store"), None);
    }

    #[tokio::test]
    async fn only_post_is_served() {
        let world = world();
        let request: Request = http::Request::builder()
            .method("GET")
            .uri("/accounts/link")
            .body(Body::Empty)
            .expect("request");
        let response = handler(&app(&world), request).await.expect("handled");
        assert_eq!(response.status(), 405);
    }
}
