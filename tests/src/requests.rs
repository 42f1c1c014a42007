//! Requests as API Gateway and function URLs hand them to the functions.

use lambda_http::{Body, Request};
use std::collections::HashMap;
use unipile_connect::http::with_jwt_claims;

/// An API request from `user` (JWT claims `sub` and `email`), as the authorizer passes it on.
pub fn api(method: &str, uri: &str, user: &str, body: Option<&str>) -> Request {
    let request: Request = http::Request::builder()
        .method(method)
        .uri(uri)
        .header("content-type", "application/json")
        .body(body.map_or(Body::Empty, Body::from))
        .expect("a valid request");
    with_jwt_claims(
        request,
        HashMap::from([
            ("sub".to_owned(), user.to_owned()),
            ("email".to_owned(), format!("{user}@example.com")),
        ]),
    )
}

/// What Unipile posts to a `notify_url` (no authorizer: a function URL).
pub fn notify(notify_url: &str, body: &str) -> Request {
    http::Request::builder()
        .method("POST")
        .uri(notify_url)
        .header("content-type", "application/json")
        .body(Body::from(body))
        .expect("a valid request")
}

pub fn json(response: &lambda_http::Response<Body>) -> serde_json::Value {
    serde_json::from_slice(response.body().as_ref()).expect("a JSON body")
}
