use super::Problem;
use lambda_http::{Body, Request, RequestExt};
use serde::de::DeserializeOwned;

/// Parses a JSON body, answering 400 with what does not fit: an unknown or missing field by
/// name, anything else by position only. serde's own words for a value of the wrong type
/// quote the value, and a body may hold a password or a code.
pub fn json_body<T: DeserializeOwned>(body: &Body) -> Result<T, Problem> {
    let bytes: &[u8] = body.as_ref();
    if bytes.is_empty() {
        return Err(Problem::bad_request("the request has no JSON body"));
    }
    serde_json::from_slice(bytes)
        .map_err(|e| Problem::bad_request(format!("the body is not valid: {}", unquoted(&e))))
}

/// serde_json's error without the value it quotes.
fn unquoted(error: &serde_json::Error) -> String {
    let text = error.to_string();
    let field = text.split('`').nth(1);
    match (error.classify(), field) {
        (serde_json::error::Category::Data, Some(field)) if text.starts_with("unknown field") => {
            format!("unknown field `{field}`")
        }
        (serde_json::error::Category::Data, Some(field)) if text.starts_with("missing field") => {
            format!("missing field `{field}`")
        }
        (serde_json::error::Category::Data, _) => format!(
            "a field has the wrong type or value (line {}, column {})",
            error.line(),
            error.column()
        ),
        _ => format!(
            "not valid JSON (line {}, column {})",
            error.line(),
            error.column()
        ),
    }
}

/// A path parameter as API Gateway extracts it (`/accounts/{id}`), or, where no gateway did
/// (function URLs, the local stack), the path segment after `prefix`.
pub fn path_param(request: &Request, name: &str, prefix: &str) -> Option<String> {
    if let Some(value) = request.path_parameters_ref().and_then(|p| p.first(name)) {
        return Some(value.to_owned());
    }
    let path = request.uri().path();
    let rest = path.split_once(prefix).map(|(_, rest)| rest)?;
    let segment = rest.trim_matches('/');
    (!segment.is_empty() && !segment.contains('/')).then(|| segment.to_owned())
}

/// The first value of a query parameter.
pub fn query_param(request: &Request, name: &str) -> Option<String> {
    request
        .query_string_parameters_ref()
        .and_then(|q| q.first(name).map(str::to_owned))
        .or_else(|| {
            // Function URLs and the local stack hand the raw query in the URI.
            url::form_urlencoded::parse(request.uri().query()?.as_bytes())
                .find(|(key, _)| key == name)
                .map(|(_, value)| value.into_owned())
        })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn path_and_query_are_read_from_the_uri_when_no_gateway_extracted_them() {
        let request: Request = http::Request::builder()
            .uri("https://x.example/prod/accounts/acc_1?state=v1.a%2Bb&x=1")
            .body(Body::Empty)
            .expect("valid request");
        assert_eq!(
            path_param(&request, "id", "/accounts/").as_deref(),
            Some("acc_1")
        );
        assert_eq!(query_param(&request, "state").as_deref(), Some("v1.a+b"));
        assert_eq!(query_param(&request, "missing"), None);
        let bare: Request = http::Request::builder()
            .uri("/accounts")
            .body(Body::Empty)
            .expect("valid");
        assert_eq!(path_param(&bare, "id", "/accounts/"), None);
    }

    #[test]
    fn a_value_of_the_wrong_type_is_never_quoted_back() {
        #[derive(serde::Deserialize, Debug)]
        #[serde(deny_unknown_fields)]
        #[allow(dead_code)]
        struct Login {
            port: u16,
            password: String,
        }
        let body = Body::from(r#"{"port":"never-logged-secret","password":"x"}"#);
        let problem = json_body::<Login>(&body).expect_err("wrong type");
        assert!(
            !problem.detail.contains("never-logged"),
            "{}",
            problem.detail
        );
        assert!(problem.detail.contains("line 1"), "{}", problem.detail);
        let unknown = json_body::<Login>(&Body::from(r#"{"port":1,"password":"x","pin":2}"#))
            .expect_err("unknown field");
        assert!(
            unknown.detail.contains("unknown field `pin`"),
            "{}",
            unknown.detail
        );
        let missing = json_body::<Login>(&Body::from(r#"{"port":1}"#)).expect_err("missing");
        assert!(
            missing.detail.contains("missing field `password`"),
            "{}",
            missing.detail
        );
    }

    #[test]
    fn bodies_that_are_not_json_are_refused_with_400() {
        let problem = json_body::<serde_json::Value>(&Body::from("{nope")).expect_err("bad json");
        assert_eq!(problem.status, 400);
        let problem = json_body::<serde_json::Value>(&Body::Empty).expect_err("empty");
        assert_eq!(problem.status, 400);
    }
}
