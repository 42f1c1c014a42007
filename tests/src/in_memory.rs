//! The handlers on in-memory adapters, as the OpenAPI test and the handler benchmark run
//! them: a world at a fixed time, a request carrying the caller's claims as API Gateway's JWT
//! authorizer hands them, and an account a user owns.

use chrono::{TimeZone, Utc};
use lambda_http::{Body, Request};
use std::collections::HashMap;
use unipile_connect::domain::{AccountId, AccountStatus, Provider, UserId};
use unipile_connect::http::with_jwt_claims;
use unipile_connect::memory_world::MemoryWorld;
use unipile_connect::ports::{AccountStore, Clock, ConnectedAccount};

pub fn world() -> MemoryWorld {
    MemoryWorld::at(
        Utc.with_ymd_and_hms(2026, 3, 1, 12, 0, 0)
            .single()
            .expect("date"),
    )
}

/// A JSON request; with `user`, the claims `sub` and `email` (`<user>@example.com`).
pub fn request(method: &str, uri: &str, user: Option<&str>, body: &str) -> Request {
    let request: Request = http::Request::builder()
        .method(method)
        .uri(uri)
        .header("content-type", "application/json")
        .body(if body.is_empty() {
            Body::Empty
        } else {
            Body::from(body.to_owned())
        })
        .expect("a request");
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

/// A request from the team's backend: a client-credentials token granting the default
/// service scope.
pub fn service_request(method: &str, uri: &str, body: &str) -> Request {
    let request = request(method, uri, None, body);
    with_jwt_claims(
        request,
        HashMap::from([
            ("sub".to_owned(), "backend-client".to_owned()),
            ("client_id".to_owned(), "backend-client".to_owned()),
            (
                "scope".to_owned(),
                unipile_connect::domain::DEFAULT_SERVICE_SCOPE.to_owned(),
            ),
        ]),
    )
}

/// A LinkedIn account `id` of `user`, OK, at Unipile and in the table.
pub async fn own(world: &MemoryWorld, user: &str, id: &str) {
    let connection = ConnectedAccount {
        account_id: AccountId::parse(id).expect("id"),
        user_id: UserId::parse(user).expect("user"),
        account_type: Provider::Linkedin,
        display_name: Some("Jane Doe".into()),
        linkedin_member_id: None,
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
}
