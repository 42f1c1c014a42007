//! The two kinds of HTTP front door AWS puts before the functions, on localhost: a function
//! URL (anyone may call it; the function authenticates) and an HTTP API, with its JWT
//! authorizer on every route that takes it (see [`Route::jwt`]). Both turn an HTTP request
//! into the payload-2.0 event Lambda hands the function, and the function's answer back into
//! HTTP.

use super::Registry;
use axum::Router;
use axum::body::{Body, Bytes};
use axum::extract::State;
use axum::http::{HeaderMap, Method, StatusCode, Uri};
use axum::response::{IntoResponse, Response};
use base64::Engine;
use serde_json::{Map, Value, json};
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};

/// A route of one of the stack's HTTP APIs, as a function's `HttpApi` event declares it
/// (`POST /accounts/{id}`, `GET /web/{proxy+}`).
#[derive(Debug, Clone)]
pub struct Route {
    /// The HTTP API's logical id (the event's `ApiId`).
    pub api: String,
    pub method: String,
    pub path: String,
    /// The function's logical id.
    pub function: String,
    /// Whether a JWT authorizer guards it: the event names one, or its API has a default
    /// one and the event does not opt out with `Authorizer: NONE`.
    pub jwt: bool,
    /// The JWT authorizer's name (the event's, else the API's default), when `jwt`.
    pub authorizer: Option<String>,
    /// The scopes the route requires of the token (`Auth.AuthorizationScopes`): API Gateway
    /// answers 403 to a token granting none of them.
    pub scopes: Vec<String>,
    /// The event's properties, resolved (`Auth`, `TimeoutInMillis`, `RouteSettings`, ...).
    pub properties: Value,
}

impl Route {
    /// Whether a `method` request to `path` (no query) lands on this route.
    pub fn serves(&self, method: &str, path: &str) -> bool {
        matches(self, method, path).is_some()
    }

    /// `METHOD /path`, as API Gateway names the route (its route key).
    pub fn key(&self) -> String {
        format!("{} {}", self.method, self.path)
    }
}

enum Door {
    FunctionUrl(String),
    HttpApi(Vec<Route>),
}

struct DoorState {
    door: Door,
    functions: Registry,
    id: String,
    domain: String,
    requests: AtomicU64,
}

/// A front door serving on a free localhost port until dropped.
pub struct FrontDoor {
    pub url: String,
    server: tokio::task::JoinHandle<()>,
}

impl Drop for FrontDoor {
    fn drop(&mut self) {
        self.server.abort();
    }
}

impl FrontDoor {
    /// A function URL (`AuthType: NONE`) for the function with logical id `function`.
    pub async fn function_url(function: &str, functions: Registry) -> Result<Self, String> {
        let url_id = function.to_ascii_lowercase();
        let domain = format!("{url_id}.lambda-url.us-east-1.on.aws");
        Self::serve(
            Door::FunctionUrl(function.to_owned()),
            &url_id,
            domain,
            functions,
        )
        .await
    }

    /// An HTTP API in front of `routes`, with the JWT authorizer on those that take it.
    pub async fn http_api(
        routes: Vec<Route>,
        api_id: &str,
        functions: Registry,
    ) -> Result<Self, String> {
        let domain = format!("{api_id}.execute-api.us-east-1.amazonaws.com");
        Self::serve(Door::HttpApi(routes), api_id, domain, functions).await
    }

    async fn serve(
        door: Door,
        id: &str,
        domain: String,
        functions: Registry,
    ) -> Result<Self, String> {
        let state = Arc::new(DoorState {
            door,
            functions,
            id: id.to_owned(),
            domain,
            requests: AtomicU64::new(0),
        });
        let router = Router::new().fallback(handle).with_state(state);
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
            .await
            .map_err(|e| e.to_string())?;
        let url = format!(
            "http://{}/",
            listener.local_addr().map_err(|e| e.to_string())?
        );
        let server = tokio::spawn(async move {
            let _ = axum::serve(listener, router).await;
        });
        Ok(Self { url, server })
    }
}

async fn handle(
    State(state): State<Arc<DoorState>>,
    method: Method,
    uri: Uri,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let n = state.requests.fetch_add(1, Ordering::Relaxed);
    let path = uri.path().to_owned();
    let mut event = base_event(&state, n, &method, &uri, &headers, &body);
    let function_id = match &state.door {
        Door::FunctionUrl(function) => function.clone(),
        Door::HttpApi(routes) => {
            // API Gateway prefers the most specific route: a greedy `{proxy+}` comes last.
            let Some((route, parameters)) = routes
                .iter()
                .filter(|r| !is_greedy(r))
                .chain(routes.iter().filter(|r| is_greedy(r)))
                .find_map(|r| matches(r, method.as_str(), &path).map(|p| (r, p)))
            else {
                return (StatusCode::NOT_FOUND, r#"{"message":"Not Found"}"#).into_response();
            };
            let route_key = route.key();
            event["routeKey"] = json!(route_key);
            event["requestContext"]["routeKey"] = json!(route_key);
            if route.jwt {
                // The authorizer: a bearer JWT, or 401 before the function is called. (API
                // Gateway checks the signature, issuer and audience; the rehearsal trusts it.)
                let Some(claims) = bearer_claims(&headers) else {
                    return (StatusCode::UNAUTHORIZED, r#"{"message":"Unauthorized"}"#)
                        .into_response();
                };
                if !route.scopes.is_empty() {
                    let granted = claims["scope"].as_str().unwrap_or_default();
                    if !granted
                        .split_whitespace()
                        .any(|s| route.scopes.iter().any(|r| r == s))
                    {
                        return (StatusCode::FORBIDDEN, r#"{"message":"Forbidden"}"#)
                            .into_response();
                    }
                }
                event["requestContext"]["authorizer"] =
                    json!({"jwt": {"claims": claims, "scopes": null}});
            }
            if !parameters.is_empty() {
                event["pathParameters"] = Value::Object(parameters);
            }
            route.function.clone()
        }
    };
    let function = state
        .functions
        .lock()
        .ok()
        .and_then(|f| f.get(&function_id).cloned());
    let Some(function) = function else {
        return (
            StatusCode::SERVICE_UNAVAILABLE,
            "the function is not running",
        )
            .into_response();
    };
    match function.invoke(event).await {
        Ok(answer) => http_response(answer),
        Err(error) => {
            eprintln!("{} failed: {error}", function.logical_id);
            (
                StatusCode::INTERNAL_SERVER_ERROR,
                r#"{"message":"Internal Server Error"}"#,
            )
                .into_response()
        }
    }
}

/// The payload-2.0 event both doors send (a function URL's, before the API adds its route).
fn base_event(
    state: &DoorState,
    n: u64,
    method: &Method,
    uri: &Uri,
    headers: &HeaderMap,
    body: &Bytes,
) -> Value {
    let mut header_map = Map::new();
    for name in headers.keys() {
        let values: Vec<&str> = headers
            .get_all(name)
            .iter()
            .filter_map(|v| v.to_str().ok())
            .collect();
        header_map.insert(name.as_str().to_owned(), json!(values.join(",")));
    }
    header_map.insert("host".into(), json!(state.domain));
    let query = uri.query().unwrap_or("");
    let mut parameters = Map::new();
    for (k, v) in url::form_urlencoded::parse(query.as_bytes()) {
        parameters.insert(k.into_owned(), json!(v.into_owned()));
    }
    let (text, base64) = match std::str::from_utf8(body) {
        Ok(text) => (text.to_owned(), false),
        Err(_) => (base64::engine::general_purpose::STANDARD.encode(body), true),
    };
    let now = chrono::Utc::now();
    let mut event = json!({
        "version": "2.0",
        "routeKey": "$default",
        "rawPath": uri.path(),
        "rawQueryString": query,
        "headers": header_map,
        "requestContext": {
            "accountId": "anonymous",
            "apiId": state.id,
            "domainName": state.domain,
            "domainPrefix": state.id,
            "http": {
                "method": method.as_str(),
                "path": uri.path(),
                "protocol": "HTTP/1.1",
                "sourceIp": "127.0.0.1",
                "userAgent": headers.get("user-agent").and_then(|v| v.to_str().ok()).unwrap_or(""),
            },
            "requestId": format!("rehearsal-{n}"),
            "routeKey": "$default",
            "stage": "$default",
            "time": now.format("%d/%b/%Y:%H:%M:%S %z").to_string(),
            "timeEpoch": now.timestamp_millis(),
        },
        "isBase64Encoded": base64,
    });
    if !parameters.is_empty() {
        event["queryStringParameters"] = Value::Object(parameters);
    }
    if !body.is_empty() {
        event["body"] = json!(text);
    }
    event
}

fn is_greedy(route: &Route) -> bool {
    route.path.ends_with("+}")
}

/// The path parameters when `path` is on `route`. A last segment `{name+}` takes the rest
/// of the path, one segment or more, as API Gateway's greedy variable does.
fn matches(route: &Route, method: &str, path: &str) -> Option<Map<String, Value>> {
    if !route.method.eq_ignore_ascii_case(method) {
        return None;
    }
    let mut pattern: Vec<&str> = route.path.trim_matches('/').split('/').collect();
    let mut parameters = Map::new();
    let greedy = pattern
        .last()
        .and_then(|p| p.strip_prefix('{'))
        .and_then(|p| p.strip_suffix("+}"))
        .map(str::to_owned);
    let actual: Vec<&str> = match greedy {
        Some(name) => {
            pattern.pop();
            let mut actual: Vec<&str> = path
                .trim_start_matches('/')
                .splitn(pattern.len() + 1, '/')
                .collect();
            let rest = actual
                .pop()
                .filter(|rest| !rest.is_empty() && actual.len() == pattern.len())?;
            parameters.insert(name, json!(percent_decode(rest)));
            actual
        }
        None => path.trim_matches('/').split('/').collect(),
    };
    if pattern.len() != actual.len() {
        return None;
    }
    for (p, a) in pattern.iter().zip(&actual) {
        match p.strip_prefix('{').and_then(|p| p.strip_suffix('}')) {
            Some(name) if !a.is_empty() => {
                let decoded = percent_decode(a);
                parameters.insert(name.to_owned(), json!(decoded));
            }
            Some(_) => return None,
            None if p == a => {}
            None => return None,
        }
    }
    Some(parameters)
}

fn percent_decode(text: &str) -> String {
    url::form_urlencoded::parse(format!("x={}", text.replace('+', "%2B")).as_bytes())
        .next()
        .map(|(_, v)| v.into_owned())
        .unwrap_or_default()
}

/// The claims of a `Bearer` JWT, as the HTTP API authorizer passes them on: every value a
/// string (lists as `[a b]`).
fn bearer_claims(headers: &HeaderMap) -> Option<Map<String, Value>> {
    let token = headers
        .get("authorization")?
        .to_str()
        .ok()?
        .strip_prefix("Bearer ")?;
    let payload = token.split('.').nth(1)?;
    let bytes = base64::engine::general_purpose::URL_SAFE_NO_PAD
        .decode(payload.trim_end_matches('='))
        .ok()?;
    let claims: Map<String, Value> = serde_json::from_slice(&bytes).ok()?;
    Some(
        claims
            .into_iter()
            .map(|(k, v)| {
                let text = match v {
                    Value::String(s) => s,
                    Value::Array(items) => format!(
                        "[{}]",
                        items
                            .iter()
                            .map(|i| i.as_str().map_or_else(|| i.to_string(), str::to_owned))
                            .collect::<Vec<_>>()
                            .join(" ")
                    ),
                    other => other.to_string(),
                };
                (k, Value::String(text))
            })
            .collect(),
    )
}

/// A payload-2.0 answer as HTTP. An answer without `statusCode` is a 200 with the answer
/// as its JSON body, as a function URL treats it.
fn http_response(answer: Value) -> Response {
    let Some(status) = answer.get("statusCode").and_then(Value::as_u64) else {
        return (StatusCode::OK, answer.to_string()).into_response();
    };
    let mut builder = Response::builder()
        .status(StatusCode::from_u16(status as u16).unwrap_or(StatusCode::BAD_GATEWAY));
    if let Some(headers) = answer.get("headers").and_then(Value::as_object) {
        for (name, value) in headers {
            if let Some(value) = value.as_str() {
                builder = builder.header(name, value);
            }
        }
    }
    if let Some(headers) = answer.get("multiValueHeaders").and_then(Value::as_object) {
        for (name, values) in headers {
            for value in values.as_array().into_iter().flatten() {
                if let Some(value) = value.as_str() {
                    builder = builder.header(name, value);
                }
            }
        }
    }
    for cookie in answer
        .get("cookies")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
    {
        if let Some(cookie) = cookie.as_str() {
            builder = builder.header("set-cookie", cookie);
        }
    }
    let body = answer.get("body").and_then(Value::as_str).unwrap_or("");
    let bytes = if answer.get("isBase64Encoded").and_then(Value::as_bool) == Some(true) {
        base64::engine::general_purpose::STANDARD
            .decode(body)
            .unwrap_or_default()
    } else {
        body.as_bytes().to_vec()
    };
    builder
        .body(Body::from(bytes))
        .unwrap_or_else(|_| StatusCode::BAD_GATEWAY.into_response())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn route(method: &str, path: &str) -> Route {
        Route {
            api: "Api".into(),
            method: method.into(),
            path: path.into(),
            function: "F".into(),
            jwt: true,
            authorizer: Some("UserJwt".into()),
            scopes: vec![],
            properties: Value::Null,
        }
    }

    #[test]
    fn a_greedy_variable_takes_the_rest_of_the_path_and_a_plain_one_a_segment() {
        let web = route("GET", "/web/{proxy+}");
        assert_eq!(
            matches(&web, "GET", "/web/v2/unipile-accounts.js").map(|p| p["proxy"].clone()),
            Some(json!("v2/unipile-accounts.js"))
        );
        assert_eq!(
            matches(&web, "GET", "/web/v2/").map(|p| p["proxy"].clone()),
            Some(json!("v2/"))
        );
        assert!(matches(&web, "GET", "/web/").is_none());
        assert!(matches(&web, "GET", "/web").is_none());
        assert!(matches(&web, "POST", "/web/v2/a.js").is_none());
        assert!(matches(&web, "GET", "/webx/v1/a.js").is_none());

        let account = route("DELETE", "/accounts/{id}");
        assert_eq!(
            matches(&account, "DELETE", "/accounts/acc_1").map(|p| p["id"].clone()),
            Some(json!("acc_1"))
        );
        assert!(matches(&account, "DELETE", "/accounts/acc_1/more").is_none());
        assert!(matches(&route("GET", "/accounts"), "GET", "/accounts").is_some());
    }
}
