//! Turns a localhost HTTP request into the `lambda_http::Request` a function receives in AWS,
//! and the function's response back, so the local stack runs the handlers unchanged.

use axum::body::{Body as AxumBody, to_bytes};
use axum::response::Response;
use lambda_http::{Body, Request, RequestExt};
use std::collections::HashMap;
use unipile_connect::http::Problem;

/// The largest body the local stack reads: API Gateway's own payload limit (10 MB). Beyond it
/// the request is refused unread, as the HTTP API refuses it.
const MAX_READ: usize = 10 * 1024 * 1024;

/// The largest body a function is handed: Lambda's invocation payload limit (6 MB, for the
/// whole event; the body alone is held to it here). A body between the two limits is read to
/// its end before it is refused, so that the caller, still sending, gets the answer rather
/// than a reset connection.
const MAX_BODY: usize = 6 * 1024 * 1024;

fn too_large(detail: &str) -> Response {
    from_lambda(Problem::payload_too_large(detail).into_response())
}

pub async fn to_lambda(request: axum::extract::Request) -> Result<Request, Response> {
    let (parts, body) = request.into_parts();
    let bytes = to_bytes(body, MAX_READ).await.map_err(|_| {
        too_large("the body is over 10 MB, the HTTP API's payload limit; nothing was done")
    })?;
    if bytes.len() > MAX_BODY {
        return Err(too_large(
            "the body is over 6 MB, the most Lambda hands a function; nothing was done",
        ));
    }
    let body = if bytes.is_empty() {
        Body::Empty
    } else {
        Body::Binary(bytes.to_vec())
    };
    let mut request = http::Request::from_parts(parts, body);
    // Function URLs and HTTP APIs hand the query string parsed as well.
    let query: HashMap<String, Vec<String>> = request
        .uri()
        .query()
        .map(|q| {
            url::form_urlencoded::parse(q.as_bytes()).fold(
                HashMap::new(),
                |mut map: HashMap<String, Vec<String>>, (k, v)| {
                    map.entry(k.into_owned()).or_default().push(v.into_owned());
                    map
                },
            )
        })
        .unwrap_or_default();
    request = request.with_query_string_parameters(query);
    Ok(request)
}

pub fn from_lambda(response: lambda_http::Response<Body>) -> Response {
    let (parts, body) = response.into_parts();
    let body = match body {
        Body::Empty => AxumBody::empty(),
        Body::Text(text) => AxumBody::from(text),
        Body::Binary(bytes) => AxumBody::from(bytes),
        _ => AxumBody::empty(),
    };
    Response::from_parts(parts, body)
}
