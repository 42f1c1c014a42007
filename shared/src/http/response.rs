use lambda_http::{Body, Response};
use serde::Serialize;

/// A JSON response. Serializing our own response types cannot fail; if it ever did, the
/// caller gets a 500 problem rather than a panic.
pub fn json_response<T: Serialize>(status: u16, body: &T) -> Response<Body> {
    match serde_json::to_string(body) {
        Ok(json) => build(status, "application/json", Body::Text(json)),
        Err(error) => {
            super::Problem::internal(format!("response serialization: {error}")).into_response()
        }
    }
}

pub fn no_content() -> Response<Body> {
    build(204, "text/plain", Body::Empty)
}

pub(super) fn build(status: u16, content_type: &str, body: Body) -> Response<Body> {
    let mut response = Response::new(body);
    *response.status_mut() =
        http::StatusCode::from_u16(status).unwrap_or(http::StatusCode::INTERNAL_SERVER_ERROR);
    if let Ok(value) = http::HeaderValue::from_str(content_type) {
        response
            .headers_mut()
            .insert(http::header::CONTENT_TYPE, value);
    }
    response
}
