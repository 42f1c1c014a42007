//! Turns a localhost HTTP request into the `lambda_http::Request` a function receives in AWS,
//! and the function's response back, so the local stack runs the handlers unchanged.

use axum::body::{Body as AxumBody, to_bytes};
use axum::response::{IntoResponse, Response};
use lambda_http::{Body, Request, RequestExt};
use std::collections::HashMap;

/// The largest body the local stack reads: API Gateway's own payload limit.
const MAX_BODY: usize = 10 * 1024 * 1024;

pub async fn to_lambda(request: axum::extract::Request) -> Result<Request, Response> {
    let (parts, body) = request.into_parts();
    let bytes = to_bytes(body, MAX_BODY)
        .await
        .map_err(|_| (http::StatusCode::PAYLOAD_TOO_LARGE, "body too large").into_response())?;
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
