//! `infra/openapi.yaml` is the product's contract: it names exactly the routes of the
//! template's HTTP APIs (each on its API, and how each is authorized), the local stack serves
//! every route it names,
//! the bodies our tests send are valid or invalid by it as the handlers judge them, and every
//! answer the handlers give, run on in-memory adapters, is documented for its status, with its
//! content type, and validates against its schema.

use chrono::Duration;
use harness::in_memory::{own, request, service_request, world};
use lambda_http::{Body, RequestExt, Response};
use serde_json::{Value, json};
use std::collections::{BTreeSet, HashMap};
use std::path::{Path, PathBuf};
use std::sync::Arc;
use unipile_connect::adapters::cipher::LocalCipher;
use unipile_connect::adapters::memory::CookieOutcome;
use unipile_connect::domain::{
    AccountId, AccountStatus, LinkPurpose, Provider, RedirectPolicy, UserId,
};
use unipile_connect::flows::cookie_sync::CookieSettings;
use unipile_connect::flows::hosted_link::LinkSettings;
use unipile_connect::http::{ClaimNames, DEFAULT_WEBHOOK_HEADER, StateKey, WebhookSecret};
use unipile_connect::ports::{Clock, UnipileError, UnipileErrorType};
use unipile_connect::web;

fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("..")
}

struct Spec {
    doc: Value,
}

impl Spec {
    fn load() -> Self {
        let text =
            std::fs::read_to_string(root().join("infra/openapi.yaml")).expect("openapi.yaml");
        let doc: Value = serde_norway::from_str(&text).expect("openapi.yaml is YAML");
        assert!(
            doc["openapi"]
                .as_str()
                .is_some_and(|v| v.starts_with("3.1")),
            "OpenAPI 3.1: its schemas are JSON Schema 2020-12"
        );
        Self { doc }
    }

    /// The files the `webhooks` section's bodies refer to, relative to the document.
    fn event_schema_references(&self) -> BTreeSet<String> {
        self.doc["webhooks"]
            .as_object()
            .into_iter()
            .flatten()
            .filter_map(|(_, item)| {
                item["post"]["requestBody"]["content"]["application/json"]["schema"]["$ref"]
                    .as_str()
                    .map(str::to_owned)
            })
            .collect()
    }

    /// `value`, or what its `$ref` (`#/components/...`) points at.
    fn resolve<'a>(&'a self, value: &'a Value) -> &'a Value {
        match value.get("$ref").and_then(Value::as_str) {
            Some(reference) => {
                let pointer = reference.strip_prefix('#').expect("a local $ref");
                self.resolve(
                    self.doc
                        .pointer(pointer)
                        .unwrap_or_else(|| panic!("{reference} is not in the document")),
                )
            }
            None => value,
        }
    }

    /// A validator for `schema`, with the document's schemas as `$defs`, and the event
    /// schemas it refers to by file (`events/<type>.json`) too.
    fn validator(&self, schema: &Value) -> jsonschema::Validator {
        let rewrite = |value: &Value| -> Value {
            let text = value
                .to_string()
                .replace("#/components/schemas/", "#/$defs/")
                .replace("\"$ref\":\"events/", "\"$ref\":\"#/$defs/events:");
            serde_json::from_str(&text).expect("still JSON")
        };
        let mut wrapped = match rewrite(schema) {
            Value::Object(map) => Value::Object(map),
            other => json!({"allOf": [other]}),
        };
        wrapped["$schema"] = json!("https://json-schema.org/draft/2020-12/schema");
        wrapped["$defs"] = rewrite(&self.doc["components"]["schemas"]);
        for reference in self.event_schema_references() {
            let text =
                std::fs::read_to_string(root().join("infra").join(&reference)).expect("schema");
            let mut event: Value = serde_json::from_str(&text).expect("a JSON schema");
            if let Some(event) = event.as_object_mut() {
                event.remove("$schema");
            }
            let name = reference.strip_prefix("events/").expect("under events/");
            wrapped["$defs"][format!("events:{name}")] = event;
        }
        jsonschema::options()
            .should_validate_formats(true)
            .build(&wrapped)
            .unwrap_or_else(|e| panic!("a schema that does not compile: {e}\n{schema}"))
    }

    fn operation(&self, path: &str, method: &str) -> &Value {
        let operation = &self.doc["paths"][path][method.to_ascii_lowercase()];
        assert!(
            operation.is_object(),
            "{method} {path} is not in openapi.yaml"
        );
        operation
    }

    fn request_schema(&self, path: &str, method: &str) -> &Value {
        let body = self.resolve(&self.operation(path, method)["requestBody"]);
        &body["content"]["application/json"]["schema"]
    }

    fn request_problems(&self, path: &str, method: &str, body: &Value) -> Vec<String> {
        let validator = self.validator(self.request_schema(path, method));
        validator.iter_errors(body).map(|e| e.to_string()).collect()
    }

    /// Whether `response` is what the document says `method path` answers with its status.
    fn check_response(
        &self,
        path: &str,
        method: &str,
        response: &Response<Body>,
    ) -> Result<(), String> {
        let status = response.status().as_u16();
        let what = format!("{method} {path} answered {status}");
        let documented = &self.operation(path, method)["responses"][status.to_string()];
        if documented.is_null() {
            return Err(format!("{what}, which openapi.yaml does not document"));
        }
        let documented = self.resolve(documented);
        for (name, header) in documented["headers"].as_object().into_iter().flatten() {
            let Some(value) = response.headers().get(name.as_str()) else {
                continue;
            };
            let value = json!(value.to_str().map_err(|e| format!("{what}: {name}: {e}"))?);
            let schema = &self.resolve(header)["schema"];
            if let Some(error) = self.validator(schema).iter_errors(&value).next() {
                return Err(format!("{what}: header {name} {value}: {error}"));
            }
        }
        let body = response.body().as_ref();
        if body.is_empty() {
            return Ok(());
        }
        let content_type = response
            .headers()
            .get("content-type")
            .and_then(|v| v.to_str().ok())
            .ok_or_else(|| format!("{what} with a body and no content-type"))?;
        let Some(media) = documented["content"].get(content_type) else {
            return Err(format!(
                "{what} with {content_type}, which openapi.yaml does not document for it"
            ));
        };
        let instance = if content_type.contains("json") {
            serde_json::from_slice(body).map_err(|e| format!("{what}: not JSON: {e}"))?
        } else {
            json!(String::from_utf8_lossy(body))
        };
        let problems: Vec<String> = self
            .validator(&media["schema"])
            .iter_errors(&instance)
            .map(|e| format!("{e} at {}", e.instance_path()))
            .collect();
        if problems.is_empty() {
            Ok(())
        } else {
            Err(format!(
                "{what}: {instance} does not fit: {}",
                problems.join("; ")
            ))
        }
    }

    /// The operations on the stack's HTTP APIs: (API, method, path, operation), the API the
    /// one the operation's servers (its path's, else the document's) name in
    /// `x-stack-resource`. An operation whose servers name no API of the stack is on none.
    fn api_operations(&self) -> Vec<(String, String, String, &Value)> {
        let mut found = Vec::new();
        for (path, item) in self.doc["paths"].as_object().expect("paths") {
            let servers = item.get("servers").unwrap_or(&self.doc["servers"]);
            let apis: Vec<&str> = servers
                .as_array()
                .into_iter()
                .flatten()
                .filter_map(|server| server["x-stack-resource"].as_str())
                .collect();
            assert!(apis.len() <= 1, "{path} is on one API at most: {apis:?}");
            let Some(api) = apis.first() else {
                continue;
            };
            for (method, operation) in item.as_object().into_iter().flatten() {
                if ["get", "put", "post", "delete", "patch", "head", "options"]
                    .contains(&method.as_str())
                {
                    found.push((
                        (*api).to_owned(),
                        method.to_uppercase(),
                        path.clone(),
                        operation,
                    ));
                }
            }
        }
        found
    }
}

/// The routes of the template's HTTP APIs, as the rehearsal serves them: (API, method, path,
/// the JWT authorizer guarding it, the scopes it requires).
type TemplateRoute = (String, String, String, Option<String>, Vec<String>);

fn template_routes() -> BTreeSet<TemplateRoute> {
    let template =
        harness::rehearsal::template::Template::load(&root().join("infra/template.yaml"))
            .expect("the template reads");
    let stack = template
        .symbolic_stack(&[])
        .expect("the template evaluates");
    harness::rehearsal::api_routes(&template, &stack)
        .expect("the routes resolve")
        .into_iter()
        .map(|route| {
            (
                route.api,
                route.method,
                route.path,
                route.authorizer,
                route.scopes,
            )
        })
        .collect()
}

/// Whether the documented `path` is on the template's route `route` (`{proxy+}` takes one
/// segment or more).
fn on_route(route: &str, path: &str) -> bool {
    let route: Vec<&str> = route.trim_matches('/').split('/').collect();
    let path: Vec<&str> = path.trim_matches('/').split('/').collect();
    match route.split_last() {
        Some((last, prefix)) if last.ends_with("+}") => {
            path.len() > prefix.len() && prefix.iter().zip(&path).all(|(r, p)| r == p)
        }
        _ => route == path,
    }
}

#[test]
fn the_document_names_exactly_the_http_api_routes_of_the_template_and_their_authorizers() {
    let spec = Spec::load();
    let routes = template_routes();
    assert!(routes.len() >= 6, "{routes:?}");
    let apis: BTreeSet<&str> = routes.iter().map(|(api, ..)| api.as_str()).collect();
    assert!(
        apis.len() >= 2,
        "the front end's API and Unipile's: {apis:?}"
    );
    let mut covered = BTreeSet::new();
    for (api, method, path, operation) in spec.api_operations() {
        let matching: Vec<_> = routes
            .iter()
            .filter(|(a, m, r, ..)| *a == api && *m == method && on_route(r, &path))
            .collect();
        assert_eq!(
            matching.len(),
            1,
            "{method} {path} is on one route of the template's {api}: {matching:?}"
        );
        let (_, _, route, authorizer, scopes) = matching[0];
        // The document's own `security` (the user's JWT) unless the operation says otherwise;
        // a route without the authorizer may still name what its function checks (a state
        // token, a secret header), never a JWT. The team's backend's routes take its own
        // authorizer and require the service scope.
        let schemes = operation["security"].as_array();
        let named = |name: &str| {
            schemes.is_some_and(|schemes| schemes.iter().any(|s| s.get(name).is_some()))
        };
        let documented = if schemes.is_none() || named("userJwt") {
            Some(("UserJwt", vec![]))
        } else if named("serviceJwt") {
            Some(("ServiceJwt", vec!["unipile-connect/service".to_owned()]))
        } else {
            None
        };
        assert_eq!(
            documented,
            authorizer.as_deref().map(|a| (a, scopes.clone())),
            "{method} {path}: the document and the template disagree on its authorizer"
        );
        covered.insert((api, method, route.clone()));
    }
    let declared: BTreeSet<_> = routes
        .iter()
        .map(|(a, m, p, ..)| (a.clone(), m.clone(), p.clone()))
        .collect();
    assert_eq!(
        covered, declared,
        "every route of the template is documented"
    );
    assert_eq!(
        spec.doc["security"],
        json!([{"userJwt": []}]),
        "the HTTP API's routes take the user's JWT unless they say otherwise"
    );
    assert_eq!(
        spec.doc["components"]["securitySchemes"]["userJwt"]["scheme"],
        "bearer"
    );
}

#[test]
fn the_web_path_and_the_component_url_output_carry_the_served_version() {
    let spec = Spec::load();
    let documented = web::asset_path("{file}");
    assert!(
        spec.doc["paths"].get(&documented).is_some(),
        "{documented} in openapi.yaml"
    );
    let template = std::fs::read_to_string(root().join("infra/template.yaml")).expect("template");
    let component = web::asset_path("unipile-accounts.js");
    assert!(
        template.contains(&format!(
            "execute-api.${{AWS::Region}}.${{AWS::URLSuffix}}{component}"
        )),
        "the ComponentUrl output points at {component}"
    );
}

#[tokio::test]
async fn the_local_stack_serves_every_documented_route() {
    let spec = Spec::load();
    harness::logs::captured();
    let stack = local_stack::stack::LocalStack::start(0, HashMap::new())
        .await
        .expect("the local stack starts");
    let http = reqwest::Client::new();
    let mut checked = 0;
    for (path, item) in spec.doc["paths"].as_object().expect("paths") {
        let concrete = path
            .replace("{id}", "acc_1")
            .replace("{member_id}", "12345")
            .replace("{file}", "unipile-accounts.js");
        for method in item.as_object().into_iter().flatten().map(|(m, _)| m) {
            if method == "parameters" || method == "servers" {
                continue;
            }
            let method =
                reqwest::Method::from_bytes(method.to_uppercase().as_bytes()).expect("a method");
            let response = http
                .request(method.clone(), format!("{}{concrete}", stack.base_url))
                .send()
                .await
                .expect("an answer");
            // An unrouted request is the router's bare 404; every handler answers something
            // else (401 without a token, a problem for a file it lacks, ...).
            let routed = response.status() != 404
                || response
                    .headers()
                    .get("content-type")
                    .is_some_and(|v| v == "application/problem+json");
            assert!(routed, "the local stack does not serve {method} {path}");
            checked += 1;
        }
    }
    assert!(checked >= 8, "{checked}");
    let served = http
        .get(format!("{}/openapi.yaml", stack.base_url))
        .send()
        .await
        .expect("an answer");
    assert_eq!(served.status(), 200);
    let text = served.text().await.expect("text");
    assert_eq!(
        text,
        std::fs::read_to_string(root().join("infra/openapi.yaml")).expect("openapi.yaml")
    );
    // The events' schemas, where the document's relative references lead from it.
    for reference in spec.event_schema_references() {
        let served = http
            .get(format!("{}/{reference}", stack.base_url))
            .send()
            .await
            .expect("an answer");
        assert_eq!(served.status(), 200, "{reference}");
        assert_eq!(
            served.text().await.expect("text"),
            std::fs::read_to_string(root().join("infra").join(&reference)).expect("schema"),
            "{reference}"
        );
    }
    let refused = http
        .get(format!("{}/events/..%2Ftemplate.yaml", stack.base_url))
        .send()
        .await
        .expect("an answer");
    assert_eq!(refused.status(), 404);
}

/// Every event type is a webhook of the document, whose body is its type's schema file, and
/// every event type has one; the file's title is the type.
#[test]
fn the_webhooks_section_describes_every_event_type_by_its_schema_file() {
    let spec = Spec::load();
    let webhooks: BTreeSet<String> = spec.doc["webhooks"]
        .as_object()
        .expect("a webhooks section")
        .keys()
        .cloned()
        .collect();
    let kinds: BTreeSet<String> = unipile_connect::domain::events::EventType::ALL
        .iter()
        .map(|k| k.as_str().to_owned())
        .collect();
    assert_eq!(webhooks, kinds);
    let mut files = BTreeSet::new();
    for (kind, item) in spec.doc["webhooks"].as_object().expect("webhooks") {
        let reference =
            item["post"]["requestBody"]["content"]["application/json"]["schema"]["$ref"]
                .as_str()
                .unwrap_or_else(|| panic!("{kind} has no schema reference"));
        assert_eq!(reference, format!("events/{kind}.json"));
        let schema: Value = serde_json::from_str(
            &std::fs::read_to_string(root().join("infra").join(reference))
                .unwrap_or_else(|e| panic!("{reference}: {e}")),
        )
        .expect("JSON");
        assert_eq!(schema["title"], kind.as_str());
        files.insert(reference.to_owned());
    }
    let on_disk: BTreeSet<String> = std::fs::read_dir(root().join("infra/events"))
        .expect("infra/events")
        .map(|e| format!("events/{}", e.expect("entry").file_name().to_string_lossy()))
        .collect();
    assert_eq!(files, on_disk, "a schema file no webhook names");
    assert_eq!(files, spec.event_schema_references());
}

#[test]
fn the_documents_own_examples_are_valid_by_its_schemas() {
    let spec = Spec::load();
    let mut checked = 0;
    for (path, item) in spec.doc["paths"].as_object().expect("paths") {
        for (method, operation) in item.as_object().into_iter().flatten() {
            let body = spec.resolve(&operation["requestBody"]);
            for (_, media) in body["content"].as_object().into_iter().flatten() {
                let validator = spec.validator(&media["schema"]);
                for (name, example) in media["examples"].as_object().into_iter().flatten() {
                    let errors: Vec<String> = validator
                        .iter_errors(&example["value"])
                        .map(|e| e.to_string())
                        .collect();
                    assert!(
                        errors.is_empty(),
                        "{method} {path} example {name}: {errors:?}"
                    );
                    checked += 1;
                }
            }
        }
    }
    assert!(checked >= 5, "{checked}");
}

// What the handlers answer, on in-memory adapters.

const KEY: &[u8] = b"openapi-test-state-key-0123456789abcdef";
const SECRET: &str = "openapi-webhook-secret-never-logged";
const UA: &str = "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 Chrome/131.0 Safari/537.36";

/// Collects each answer with the operation it answers, and checks them all at the end.
struct Answers {
    spec: Spec,
    problems: Vec<String>,
    statuses: BTreeSet<(String, u16)>,
}

impl Answers {
    fn new() -> Self {
        Self {
            spec: Spec::load(),
            problems: Vec::new(),
            statuses: BTreeSet::new(),
        }
    }

    fn record(&mut self, path: &str, method: &str, response: &Response<Body>) -> u16 {
        if let Err(problem) = self.spec.check_response(path, method, response) {
            self.problems.push(problem);
        }
        let status = response.status().as_u16();
        self.statuses.insert((format!("{method} {path}"), status));
        status
    }

    /// A body sent to `method path`: whether the schema takes it must be whether the handler
    /// does (`400` is its "not valid"), unless `refused_for` names a rule the schema cannot
    /// hold (an origin policy, an ownership check).
    fn body(
        &mut self,
        path: &str,
        method: &str,
        body: &str,
        status: u16,
        refused_for: Option<&str>,
    ) {
        let Ok(value) = serde_json::from_str::<Value>(body) else {
            assert_eq!(status, 400, "{body} is not JSON");
            return;
        };
        let problems = self.spec.request_problems(path, method, &value);
        let schema_takes = problems.is_empty();
        let handler_takes = status != 400 || refused_for.is_some();
        if schema_takes != handler_takes {
            self.problems.push(format!(
                "{method} {path} {body}: the schema {} it ({problems:?}), the handler answered {status}",
                if schema_takes { "takes" } else { "refuses" }
            ));
        }
    }

    fn finish(self, expected: &[(&str, u16)]) {
        assert!(self.problems.is_empty(), "{}", self.problems.join("\n"));
        for (operation, status) in expected {
            assert!(
                self.statuses.contains(&(operation.to_string(), *status)),
                "{operation} was never seen answering {status}: {:?}",
                self.statuses
            );
        }
    }
}

#[tokio::test]
async fn every_answer_of_the_http_api_handlers_is_documented_and_fits_its_schema() {
    harness::logs::captured();
    let mut answers = Answers::new();

    // POST /accounts/link
    let world = world();
    own(&world, "owner", "acc_1").await;
    let link = hosted_link::HostedLink {
        deps: world.deps(),
        settings: LinkSettings {
            public_base_url: "https://callback.example.com".parse().expect("url"),
            state_key: StateKey::new(KEY.to_vec()).expect("key"),
            redirects: RedirectPolicy::parse("https://app.example.com").expect("origins"),
            link_ttl: Duration::minutes(30),
        },
        claims: ClaimNames::default(),
    };
    let path = "/accounts/link";
    for (user, body, refused_for) in [
        (
            Some("u1"),
            r#"{"type":"create","providers":["LINKEDIN"]}"#,
            None,
        ),
        (
            Some("u1"),
            r#"{"type":"create","providers":["WHATSAPP","LINKEDIN"],"success_redirect_url":"https://app.example.com/ok","failure_redirect_url":"https://app.example.com/ko"}"#,
            None,
        ),
        (Some("u1"), r#"{"type":"create","providers":"*"}"#, None),
        (
            Some("u1"),
            r#"{"type":"create","providers":"*:MESSAGING","reconnect_account":null}"#,
            None,
        ),
        (
            Some("owner"),
            r#"{"type":"reconnect","reconnect_account":"acc_1"}"#,
            None,
        ),
        (
            Some("owner"),
            r#"{"type":"reconnect","reconnect_account":"acc_1","providers":"*"}"#,
            None,
        ),
        (
            Some("stranger"),
            r#"{"type":"reconnect","reconnect_account":"acc_1"}"#,
            Some("ownership"),
        ),
        (
            Some("u1"),
            r#"{"type":"create","providers":"*","user_id":"u2"}"#,
            None,
        ),
        (Some("u1"), r#"{"type":"create","providers":["FAX"]}"#, None),
        (
            Some("u1"),
            r#"{"type":"create","providers":["linkedin"]}"#,
            None,
        ),
        (Some("u1"), r#"{"type":"create","providers":[]}"#, None),
        (Some("u1"), r#"{"type":"create"}"#, None),
        (
            Some("u1"),
            r#"{"type":"create","providers":"*","reconnect_account":"acc_1"}"#,
            None,
        ),
        (Some("u1"), r#"{"type":"reconnect"}"#, None),
        (Some("u1"), r#"{"type":"delete","providers":"*"}"#, None),
        (Some("u1"), r#"{"providers":"*"}"#, None),
        (
            Some("u1"),
            r#"{"type":"create","providers":"*","success_redirect_url":"https://evil.example.net/"}"#,
            Some("origin policy"),
        ),
        (
            Some("u1"),
            r#"{"type":"create","providers":"*","success_redirect_url":"ftp://app.example.com/"}"#,
            None,
        ),
        (Some("u1"), "{not json", None),
        (
            None,
            r#"{"type":"create","providers":"*"}"#,
            Some("no identity"),
        ),
    ] {
        let response = hosted_link::handler(&link, request("POST", path, user, body))
            .await
            .expect("handled");
        let status = answers.record(path, "POST", &response);
        answers.body(path, "POST", body, status, refused_for);
    }
    let response = hosted_link::handler(&link, request("GET", path, Some("u1"), ""))
        .await
        .expect("handled");
    answers.record(path, "POST", &response);
    for failure in [
        UnipileError::Api {
            status: 503,
            error_type: UnipileErrorType::ServiceUnavailable,
            title: "down".into(),
            detail: None,
        },
        UnipileError::Transport("connection refused".into()),
    ] {
        world.unipile.fail_with(failure);
        let response = hosted_link::handler(
            &link,
            request(
                "POST",
                path,
                Some("u1"),
                r#"{"type":"create","providers":"*"}"#,
            ),
        )
        .await
        .expect("handled");
        answers.record(path, "POST", &response);
    }
    world.unipile.recover();

    // GET /accounts, DELETE /accounts/{id}
    let accounts = accounts::Accounts {
        deps: world.deps(),
        claims: ClaimNames::default(),
        attempt_limit: Default::default(),
    };
    for (method, uri, user) in [
        ("GET", "/accounts", Some("owner")),
        ("GET", "/accounts", Some("nobody")),
        ("GET", "/accounts", None),
    ] {
        let response = accounts::handler(&accounts, request(method, uri, user, ""))
            .await
            .expect("handled");
        answers.record("/accounts", "GET", &response);
    }
    let response = accounts::handler(&accounts, request("POST", "/accounts", Some("owner"), ""))
        .await
        .expect("handled");
    answers.record("/accounts", "GET", &response);
    own(&world, "owner", "acc_2").await;
    world
        .unipile
        .fail_with(UnipileError::Transport("connection refused".into()));
    let response = accounts::handler(
        &accounts,
        request("DELETE", "/accounts/acc_2", Some("owner"), ""),
    )
    .await
    .expect("handled");
    answers.record("/accounts/{id}", "DELETE", &response);
    world.unipile.recover();
    for (id, user) in [
        ("acc_2", Some("stranger")),
        ("acc_2", Some("owner")),
        ("acc_2", Some("owner")),
        ("acc_2", None),
    ] {
        let response = accounts::handler(
            &accounts,
            request("DELETE", &format!("/accounts/{id}"), user, ""),
        )
        .await
        .expect("handled");
        answers.record("/accounts/{id}", "DELETE", &response);
    }
    let spaced = request("DELETE", "/accounts/x", Some("owner"), "")
        .with_path_parameters(HashMap::from([("id".to_owned(), "a b".to_owned())]));
    let response = accounts::handler(&accounts, spaced).await.expect("handled");
    answers.record("/accounts/{id}", "DELETE", &response);

    // POST /extension/cookies
    let cookies = cookie_sync::CookieSync {
        deps: world.deps(),
        scheduler: world.scheduler.clone(),
        cipher: Arc::new(LocalCipher::random().expect("key")),
        settings: CookieSettings {
            cookie_ttl: chrono::Duration::days(30),
            connect_throttle: Duration::minutes(5),
            max_linkedin_identities: 1,
        },
        claims: ClaimNames::default(),
    };
    let path = "/extension/cookies";
    let sync = |li_at: &str, member: &str| {
        format!(r#"{{"li_at":"{li_at}","user_agent":"{UA}","linkedin_member_id":"{member}"}}"#)
    };
    let send =
        async |answers: &mut Answers, user: Option<&str>, body: &str, refused_for: Option<&str>| {
            let response = cookie_sync::handler(&cookies, request("POST", path, user, body))
                .await
                .expect("handled");
            let status = answers.record(path, "POST", &response);
            answers.body(path, "POST", body, status, refused_for);
            world.clock.advance(Duration::minutes(10));
            status
        };
    assert_eq!(
        send(&mut answers, Some("c1"), &sync("AQEDAR-first", "42"), None).await,
        201
    );
    assert_eq!(
        send(&mut answers, Some("c1"), &sync("AQEDAR-later", "42"), None).await,
        200
    );
    assert_eq!(
        send(
            &mut answers,
            Some("c1"),
            &sync("AQEDAR-other", "43"),
            Some("identity cap")
        )
        .await,
        409
    );
    let full = format!(
        r#"{{"li_at":"AQEDAR","li_a":"","user_agent":"{UA}","ip":"203.0.113.7","country":"fr","linkedin_member_id":"77"}}"#
    );
    assert_eq!(send(&mut answers, Some("c2"), &full, None).await, 201);
    let nulls = format!(
        r#"{{"li_at":"AQEDAR","li_a":null,"user_agent":"{UA}","ip":null,"country":null,"linkedin_member_id":"78"}}"#
    );
    send(&mut answers, Some("c3"), &nulls, None).await;
    world
        .unipile
        .script_cookie_outcomes([CookieOutcome::Checkpoint("2FA".into())]);
    assert_eq!(
        send(&mut answers, Some("c4"), &sync("AQEDAR", "50"), None).await,
        202
    );
    world
        .unipile
        .script_cookie_outcomes([CookieOutcome::Fail(UnipileError::Api {
            status: 401,
            error_type: UnipileErrorType::InvalidCredentials,
            title: "invalid credentials".into(),
            detail: None,
        })]);
    assert_eq!(
        send(&mut answers, Some("c5"), &sync("AQEDAR", "51"), None).await,
        422
    );
    for body in [
        format!(
            r#"{{"li_at":"AQEDAR","user_agent":"{UA}","linkedin_member_id":"60","password":"x"}}"#
        ),
        format!(r#"{{"li_at":"AQEDAR","user_agent":"{UA}"}}"#),
        format!(r#"{{"li_at":"AQE;DAR","user_agent":"{UA}","linkedin_member_id":"60"}}"#),
        format!(r#"{{"li_at":"","user_agent":"{UA}","linkedin_member_id":"60"}}"#),
        format!(
            r#"{{"li_at":"AQEDAR","user_agent":"{UA}","linkedin_member_id":"60","country":"FRA"}}"#
        ),
        format!(r#"{{"li_at":"AQEDAR","user_agent":"{UA}","linkedin_member_id":"6 0"}}"#),
        r#"{"li_at":"AQEDAR","user_agent":"   ","linkedin_member_id":"60"}"#.to_owned(),
        format!(r#"{{"li_at":"AQEDAR","user_agent":"{UA}","linkedin_member_id":"60","li_a":7}}"#),
    ] {
        assert_eq!(
            send(&mut answers, Some("c6"), &body, None).await,
            400,
            "{body}"
        );
    }
    assert_eq!(
        send(
            &mut answers,
            None,
            &sync("AQEDAR", "61"),
            Some("no identity")
        )
        .await,
        401
    );
    let response = cookie_sync::handler(&cookies, request("GET", path, Some("c1"), ""))
        .await
        .expect("handled");
    answers.record(path, "POST", &response);

    // POST /extension/checkpoint: a connect that waits at a checkpoint (the clock stands
    // still: a checkpoint lives 5 minutes).
    let sync_now = async |answers: &mut Answers, user: &str, member: &str| {
        let body = sync("AQEDAR", member);
        let response = cookie_sync::handler(
            &cookies,
            request("POST", "/extension/cookies", Some(user), &body),
        )
        .await
        .expect("handled");
        answers.record("/extension/cookies", "POST", &response)
    };
    world
        .unipile
        .script_cookie_outcomes([CookieOutcome::Checkpoint("2FA".into())]);
    assert_eq!(sync_now(&mut answers, "c4", "50").await, 202);
    let path = "/extension/checkpoint";
    let answer = async |answers: &mut Answers, user: &str, body: &str| {
        let response = cookie_sync::handler(&cookies, request("POST", path, Some(user), body))
            .await
            .expect("handled");
        let status = answers.record(path, "POST", &response);
        answers.body(path, "POST", body, status, None);
        status
    };
    world
        .unipile
        .script_checkpoint_answers([CookieOutcome::Fail(UnipileError::Api {
            status: 401,
            error_type: UnipileErrorType::InvalidCheckpointSolution,
            title: "invalid checkpoint solution".into(),
            detail: None,
        })]);
    let code = |code: &str| format!(r#"{{"linkedin_member_id":"50","code":"{code}"}}"#);
    assert_eq!(answer(&mut answers, "c4", &code("000000")).await, 422);
    world
        .unipile
        .script_checkpoint_answers([CookieOutcome::Checkpoint("OTP".into())]);
    assert_eq!(
        answer(&mut answers, "c4", &code("TRY_ANOTHER_WAY")).await,
        202
    );
    assert_eq!(answer(&mut answers, "c4", &code(" 123456 ")).await, 200);
    assert_eq!(answer(&mut answers, "c4", &code("123456")).await, 409);
    for body in [
        r#"{"linkedin_member_id":"50","code":"12;34"}"#.to_owned(),
        r#"{"code":"123456"}"#.to_owned(),
        r#"{"linkedin_member_id":"50","code":"123456","type":"2FA"}"#.to_owned(),
        code(&"1".repeat(65)),
    ] {
        assert_eq!(answer(&mut answers, "c4", &body).await, 400, "{body}");
    }
    world
        .unipile
        .script_cookie_outcomes([CookieOutcome::Checkpoint("IN_APP_VALIDATION".into())]);
    assert_eq!(sync_now(&mut answers, "c7", "70").await, 202);
    let approval = r#"{"linkedin_member_id":"70","code":null}"#;
    assert_eq!(answer(&mut answers, "c7", approval).await, 202);
    world.clock.advance(Duration::minutes(6));
    assert_eq!(answer(&mut answers, "c7", approval).await, 410);

    // GET /extension/identities, PUT /extension/identities/{member_id}
    let listed = cookie_sync::handler(
        &cookies,
        request("GET", "/extension/identities", Some("c1"), ""),
    )
    .await
    .expect("handled");
    assert_eq!(answers.record("/extension/identities", "GET", &listed), 200);
    let path = "/extension/identities/{member_id}";
    let pause = async |answers: &mut Answers, member: &str, body: &str| {
        let uri = format!("/extension/identities/{member}");
        let put = request("PUT", &uri, Some("c1"), body)
            .with_path_parameters(HashMap::from([("member_id".to_owned(), member.to_owned())]));
        let response = cookie_sync::handler(&cookies, put).await.expect("handled");
        let status = answers.record(path, "PUT", &response);
        // Whose identity it is, the schema cannot say.
        let refused_for = (status == 404).then_some("an identity of the user");
        answers.body(path, "PUT", body, status, refused_for);
        status
    };
    assert_eq!(pause(&mut answers, "42", r#"{"paused":true}"#).await, 200);
    assert_eq!(pause(&mut answers, "999", r#"{"paused":true}"#).await, 404);
    assert_eq!(pause(&mut answers, "42", r#"{"paused":"yes"}"#).await, 400);
    assert_eq!(
        send(&mut answers, Some("c1"), &sync("AQEDAR-paused", "42"), None).await,
        200,
        "a paused identity's sync stores nothing"
    );
    let listed = cookie_sync::handler(
        &cookies,
        request("GET", "/extension/identities", Some("c1"), ""),
    )
    .await
    .expect("handled");
    assert_eq!(answers.record("/extension/identities", "GET", &listed), 200);
    assert_eq!(pause(&mut answers, "42", r#"{"paused":false}"#).await, 200);

    // DELETE /extension/cookies
    let deleted = cookie_sync::handler(
        &cookies,
        request("DELETE", "/extension/cookies", Some("c2"), ""),
    )
    .await
    .expect("handled");
    assert_eq!(
        answers.record("/extension/cookies", "DELETE", &deleted),
        200
    );

    // The team's backend: /service/accounts[/{account_id}], /service/links.
    own(&world, "owner", "acc_3").await;
    for (method, uri, service) in [
        ("GET", "/service/accounts?user_id=owner", true),
        ("GET", "/service/accounts?status=OK&limit=1", true),
        ("GET", "/service/accounts?status=CREDENTIALS", true),
        ("GET", "/service/accounts", true),
        ("GET", "/service/accounts?status=OK&cursor=%24%24", true),
        ("GET", "/service/accounts?user_id=owner", false),
        ("POST", "/service/accounts", true),
    ] {
        let request = if service {
            service_request(method, uri, "")
        } else {
            request(method, uri, Some("owner"), "")
        };
        let response = accounts::handler(&accounts, request)
            .await
            .expect("handled");
        answers.record("/service/accounts", "GET", &response);
    }
    let response = accounts::handler(&accounts, service_request("GET", "/accounts", ""))
        .await
        .expect("handled");
    answers.record("/accounts", "GET", &response);
    for (method, id) in [
        ("GET", "acc_3"),
        ("GET", "nobody"),
        ("DELETE", "nobody"),
        ("DELETE", "acc_3"),
    ] {
        let uri = format!("/service/accounts/{id}");
        let response = accounts::handler(&accounts, service_request(method, &uri, ""))
            .await
            .expect("handled");
        answers.record("/service/accounts/{account_id}", method, &response);
    }
    // GET /service/events: what the handlers above published, once it has settled.
    world.clock.advance(Duration::minutes(1));
    let path = "/service/events";
    let first = accounts::handler(&accounts, service_request("GET", path, ""))
        .await
        .expect("handled");
    assert_eq!(answers.record(path, "GET", &first), 200);
    let page: Value = serde_json::from_slice(first.body().as_ref()).expect("json");
    assert!(
        page["events"]
            .as_array()
            .is_some_and(|events| events.len() > 1),
        "{page}"
    );
    let after = page["next"].as_str().expect("an id").to_owned();
    for (method, uri, service) in [
        (
            "GET",
            format!("{path}?after={after}&account_id=acc_3&limit=500"),
            true,
        ),
        (
            "GET",
            format!("{path}?after=evt_0000000001000_abcdef012345"),
            true,
        ),
        ("GET", format!("{path}?after=acc_3"), true),
        ("GET", format!("{path}?limit=501"), true),
        ("GET", path.to_owned(), false),
        ("POST", path.to_owned(), true),
    ] {
        let request = if service {
            service_request(method, &uri, "")
        } else {
            request(method, &uri, Some("owner"), "")
        };
        let response = accounts::handler(&accounts, request)
            .await
            .expect("handled");
        answers.record(path, "GET", &response);
    }
    let path = "/service/links";
    for (body, refused_for) in [
        (
            r#"{"user_id":"owner","type":"create","providers":"*"}"#,
            None,
        ),
        (
            r#"{"user_id":"owner","type":"reconnect","reconnect_account":"acc_1"}"#,
            None,
        ),
        (
            r#"{"user_id":"stranger","type":"reconnect","reconnect_account":"acc_1"}"#,
            Some("ownership"),
        ),
        (r#"{"type":"create","providers":"*"}"#, None),
        (
            r#"{"user_id":"owner","type":"create","providers":"*","x":1}"#,
            None,
        ),
        (r#"{"user_id":"owner","type":"create"}"#, None),
    ] {
        let response = hosted_link::handler(&link, service_request("POST", path, body))
            .await
            .expect("handled");
        let status = answers.record(path, "POST", &response);
        answers.body(path, "POST", body, status, refused_for);
    }
    let response = hosted_link::handler(
        &link,
        request(
            "POST",
            path,
            Some("owner"),
            r#"{"user_id":"owner","type":"create","providers":"*"}"#,
        ),
    )
    .await
    .expect("handled");
    answers.record(path, "POST", &response);

    // Custom authentication: /accounts/connect, .../checkpoint, .../resend, .../{account_id}.
    let path = "/accounts/connect";
    let (status, started) = connect(
        &accounts,
        &mut answers,
        ("POST", path),
        Some("w1"),
        r#"{"provider":"WHATSAPP"}"#,
        None,
    )
    .await;
    assert_eq!(status, 202, "{started}");
    assert!(
        started["checkpoint"]["qrcode_svg"]
            .as_str()
            .is_some_and(|url| url.starts_with("data:image/svg+xml;base64,")),
        "{started}"
    );
    let qr_id = started["account_id"].as_str().expect("an id").to_owned();
    let poll_uri = format!("{path}/{qr_id}");
    let (status, waited) = connect(
        &accounts,
        &mut answers,
        ("GET", &poll_uri),
        Some("w1"),
        "",
        None,
    )
    .await;
    assert_eq!((status, &waited["status"]), (200, &json!("waiting")));
    let (status, second) = connect(
        &accounts,
        &mut answers,
        ("POST", path),
        Some("w1"),
        r#"{"provider":"whatsapp"}"#,
        None,
    )
    .await;
    assert_eq!(
        (status, &second["account_id"]),
        (409, &json!(qr_id)),
        "{second}"
    );
    let (status, _) = connect(
        &accounts,
        &mut answers,
        ("GET", &poll_uri),
        Some("w2"),
        "",
        None,
    )
    .await;
    assert_eq!(status, 404, "another user's sign-in");
    world
        .unipile
        .approve_in_app(&AccountId::parse(qr_id.as_str()).expect("id"));
    let (status, done) = connect(
        &accounts,
        &mut answers,
        ("GET", &poll_uri),
        Some("w1"),
        "",
        None,
    )
    .await;
    assert_eq!((status, &done["status"]), (200, &json!("connected")));

    world
        .unipile
        .script_login_outcomes([CookieOutcome::Checkpoint("2FA".into())]);
    let (status, started) = connect(
        &accounts,
        &mut answers,
        ("POST", path),
        Some("w1"),
        r#"{"provider":"LINKEDIN","username":"jane@example.com","password":"correct horse"}"#,
        None,
    )
    .await;
    assert_eq!(
        (status, &started["checkpoint"]["can_resend"]),
        (202, &json!(true)),
        "{started}"
    );
    let linkedin_id = started["account_id"].as_str().expect("an id").to_owned();
    world
        .unipile
        .script_checkpoint_answers([CookieOutcome::Fail(UnipileError::Api {
            status: 401,
            error_type: UnipileErrorType::InvalidCheckpointSolution,
            title: "wrong code".into(),
            detail: None,
        })]);
    let answer = |code: &str| json!({"account_id": linkedin_id, "code": code}).to_string();
    let checkpoint = ("POST", "/accounts/connect/checkpoint");
    let (status, _) = connect(
        &accounts,
        &mut answers,
        checkpoint,
        Some("w1"),
        &answer("000000"),
        None,
    )
    .await;
    assert_eq!(status, 422);
    let resend = json!({"account_id": linkedin_id}).to_string();
    let (status, sent) = connect(
        &accounts,
        &mut answers,
        ("POST", "/accounts/connect/resend"),
        Some("w1"),
        &resend,
        None,
    )
    .await;
    assert_eq!((status, &sent["status"]), (202, &json!("code_sent")));
    let (status, _) = connect(
        &accounts,
        &mut answers,
        checkpoint,
        Some("w1"),
        &answer("123456"),
        None,
    )
    .await;
    assert_eq!(status, 201);
    for (body, refused_for) in [
        (r#"{"account_id":"cu_1"}"#, None),
        (r#"{"account_id":"cu_1","code":"12;34"}"#, None),
        (r#"{"account_id":"cu_1","code":"123456","extra":1}"#, None),
    ] {
        let (status, _) = connect(
            &accounts,
            &mut answers,
            checkpoint,
            Some("w1"),
            body,
            refused_for,
        )
        .await;
        assert_eq!(status, 400, "{body}");
    }
    let (status, _) = connect(
        &accounts,
        &mut answers,
        ("POST", "/accounts/connect/resend"),
        Some("w1"),
        r#"{"account_id":"cu_1","code":"1"}"#,
        None,
    )
    .await;
    assert_eq!(status, 400);

    let mailbox = r#"{"provider":"MAIL","imap_user":"jane@example.com","imap_password":"app password","imap_host":"imap.example.com","imap_port":993,"imap_encryption":"ssl","smtp_host":"smtp.example.com","smtp_port":587}"#;
    for (user, body, refused_for, expected) in [
        (Some("w1"), mailbox, None, 201),
        (
            Some("w3"),
            r#"{"provider":"WHATSAPP","nickname":"jane"}"#,
            None,
            400,
        ),
        (Some("w3"), r#"{"provider":"GOOGLE"}"#, None, 400),
        (
            Some("w3"),
            r#"{"provider":"LINKEDIN","username":"jane@example.com"}"#,
            None,
            400,
        ),
        (
            Some("w3"),
            r#"{"provider":"MAIL","imap_user":"jane@example.com","imap_password":"pw","imap_host":"imap.example.com","imap_port":"993","smtp_host":"smtp.example.com","smtp_port":587}"#,
            None,
            400,
        ),
        (
            Some("w3"),
            r#"{"provider":"MAIL","imap_user":"jane@example.com","imap_password":"pw","imap_host":"imap.example.com","smtp_host":"smtp.example.com","smtp_port":587}"#,
            None,
            400,
        ),
        (
            Some("w3"),
            r#"{"provider":"WHATSAPP","phone_number":"06 12 34 56 78"}"#,
            None,
            400,
        ),
        (
            Some("w3"),
            r#"{"provider":"WHATSAPP","phone_number":"+33 6 12 ab"}"#,
            None,
            400,
        ),
        (
            Some("w3"),
            r#"{"provider":"WHATSAPP","password":"correct horse"}"#,
            Some("a field the provider does not take"),
            400,
        ),
        (
            Some("w3"),
            r#"{"provider":"LINKEDIN","username":"jane","password":"pw","email":"jane@example.com"}"#,
            Some("a field the provider does not take"),
            400,
        ),
        (
            Some("w3"),
            r#"{"provider":"LINKEDIN","reconnect_account":"acc_1","username":"jane","password":"pw"}"#,
            None,
            404,
        ),
        (Some("w3"), "{not json", None, 400),
        (None, r#"{"provider":"TELEGRAM"}"#, Some("no identity"), 401),
    ] {
        let (status, answered) = connect(
            &accounts,
            &mut answers,
            ("POST", path),
            user,
            body,
            refused_for,
        )
        .await;
        assert_eq!(status, expected, "{body}: {answered}");
    }

    world.unipile.script_login_outcomes(
        std::iter::repeat_with(|| {
            CookieOutcome::Fail(UnipileError::Api {
                status: 401,
                error_type: UnipileErrorType::InvalidCredentials,
                title: "bad credentials".into(),
                detail: None,
            })
        })
        .take(5),
    );
    let instagram = r#"{"provider":"INSTAGRAM","username":"jane","password":"not it"}"#;
    let mut refusals = Vec::new();
    for _ in 0..6 {
        let response = accounts::handler(&accounts, request("POST", path, Some("w5"), instagram))
            .await
            .expect("handled");
        let status = answers.record(path, "POST", &response);
        answers.body(path, "POST", instagram, status, None);
        refusals.push((status, response.headers().contains_key("retry-after")));
    }
    assert_eq!(
        refusals,
        [[(422, false); 5].as_slice(), &[(429, true)]].concat(),
        "five refusals count against the limit, the sixth start is not admitted"
    );

    world
        .unipile
        .fail_with(UnipileError::Transport("connection refused".into()));
    let (status, _) = connect(
        &accounts,
        &mut answers,
        ("POST", path),
        Some("w6"),
        r#"{"provider":"TELEGRAM"}"#,
        None,
    )
    .await;
    assert_eq!(status, 504);
    world.unipile.recover();

    answers.finish(&[
        ("POST /accounts/link", 200),
        ("POST /accounts/link", 400),
        ("POST /accounts/link", 401),
        ("POST /accounts/link", 404),
        ("POST /accounts/link", 405),
        ("POST /accounts/link", 502),
        ("POST /accounts/link", 504),
        ("GET /accounts", 200),
        ("GET /accounts", 401),
        ("GET /accounts", 405),
        ("DELETE /accounts/{id}", 204),
        ("DELETE /accounts/{id}", 400),
        ("DELETE /accounts/{id}", 401),
        ("DELETE /accounts/{id}", 404),
        ("DELETE /accounts/{id}", 504),
        ("GET /accounts", 403),
        ("GET /service/accounts", 200),
        ("GET /service/accounts", 400),
        ("GET /service/accounts", 403),
        ("GET /service/accounts", 405),
        ("GET /service/accounts/{account_id}", 200),
        ("GET /service/accounts/{account_id}", 404),
        ("DELETE /service/accounts/{account_id}", 204),
        ("DELETE /service/accounts/{account_id}", 404),
        ("GET /service/events", 200),
        ("GET /service/events", 400),
        ("GET /service/events", 403),
        ("GET /service/events", 404),
        ("GET /service/events", 405),
        ("POST /service/links", 200),
        ("POST /service/links", 400),
        ("POST /service/links", 403),
        ("POST /service/links", 404),
        ("POST /extension/cookies", 200),
        ("POST /extension/cookies", 201),
        ("POST /extension/cookies", 202),
        ("POST /extension/cookies", 400),
        ("POST /extension/cookies", 401),
        ("POST /extension/cookies", 405),
        ("POST /extension/cookies", 409),
        ("POST /extension/cookies", 422),
        ("POST /extension/checkpoint", 200),
        ("POST /extension/checkpoint", 202),
        ("POST /extension/checkpoint", 400),
        ("POST /extension/checkpoint", 409),
        ("POST /extension/checkpoint", 410),
        ("POST /extension/checkpoint", 422),
        ("GET /extension/identities", 200),
        ("PUT /extension/identities/{member_id}", 200),
        ("PUT /extension/identities/{member_id}", 400),
        ("PUT /extension/identities/{member_id}", 404),
        ("DELETE /extension/cookies", 200),
        ("POST /accounts/connect", 201),
        ("POST /accounts/connect", 202),
        ("POST /accounts/connect", 400),
        ("POST /accounts/connect", 401),
        ("POST /accounts/connect", 404),
        ("POST /accounts/connect", 409),
        ("POST /accounts/connect", 422),
        ("POST /accounts/connect", 429),
        ("POST /accounts/connect", 504),
        ("POST /accounts/connect/checkpoint", 201),
        ("POST /accounts/connect/checkpoint", 400),
        ("POST /accounts/connect/checkpoint", 422),
        ("POST /accounts/connect/resend", 202),
        ("POST /accounts/connect/resend", 400),
        ("GET /accounts/connect/{account_id}", 200),
        ("GET /accounts/connect/{account_id}", 404),
    ]);
}

/// One request to the custom-auth routes, recorded under its documented path, with its body
/// judged by the schema as the handler judged it: the status and the JSON answer.
async fn connect(
    accounts: &accounts::Accounts,
    answers: &mut Answers,
    (method, uri): (&str, &str),
    user: Option<&str>,
    body: &str,
    refused_for: Option<&str>,
) -> (u16, Value) {
    let documented = match uri {
        "/accounts/connect" | "/accounts/connect/checkpoint" | "/accounts/connect/resend" => uri,
        _ => "/accounts/connect/{account_id}",
    };
    // A poll holds up to 10 s while nothing happens, unless the invocation's deadline is near:
    // with one close at hand, as Lambda's can be, it looks once and answers.
    let deadline = tokio::time::Instant::now() + std::time::Duration::from_secs(3);
    let response = unipile_connect::deadline::within(
        deadline,
        accounts::handler(accounts, request(method, uri, user, body)),
    )
    .await
    .expect("handled");
    let status = answers.record(documented, method, &response);
    if method == "POST" {
        answers.body(documented, method, body, status, refused_for);
    }
    let answer = serde_json::from_slice(response.body().as_ref()).unwrap_or(Value::Null);
    (status, answer)
}

#[tokio::test]
async fn every_answer_to_unipile_and_of_the_web_files_is_documented_and_fits_its_schema() {
    harness::logs::captured();
    let mut answers = Answers::new();
    let world = world();
    for id in ["acc_1", "acc_2"] {
        world
            .unipile
            .add_account(&AccountId::parse(id).expect("id"), Provider::Whatsapp);
    }

    // POST /unipile/notify?state=...
    let callback = connect_callback::ConnectCallback {
        deps: world.deps(),
        state_key: StateKey::new(KEY.to_vec()).expect("key"),
        scheduler: world.scheduler.clone(),
    };
    let state = StateKey::new(KEY.to_vec())
        .expect("key")
        .sign(
            &UserId::parse("u1").expect("user"),
            &LinkPurpose::Create,
            world.clock.now() + Duration::minutes(45),
        )
        .expect("signed");
    let notify_uri = format!(
        "/unipile/notify?state={}",
        url::form_urlencoded::byte_serialize(state.as_bytes()).collect::<String>()
    );
    let path = "/unipile/notify";
    for (uri, body, refused_for) in [
        (
            notify_uri.as_str(),
            r#"{"status":"CREATION_SUCCESS","account_id":"acc_1","name":"u1"}"#,
            None,
        ),
        (
            notify_uri.as_str(),
            r#"{"status":"CREATION_SUCCESS","account_id":"acc_1","name":"u1","extra":"ignored"}"#,
            None,
        ),
        (
            notify_uri.as_str(),
            r#"{"status":"CREATION_SUCCESS","account_id":"acc_2","name":"u1"}"#,
            Some("a spent link"),
        ),
        (
            notify_uri.as_str(),
            r#"{"status":"CREATION_SUCCESS","account_id":"acc_1","name":"u2"}"#,
            Some("another user"),
        ),
        (
            "/unipile/notify?state=forged",
            r#"{"status":"CREATION_SUCCESS","account_id":"acc_1","name":"u1"}"#,
            Some("a forged state"),
        ),
        (
            "/unipile/notify",
            r#"{"status":"CREATION_SUCCESS","account_id":"acc_1","name":"u1"}"#,
            Some("no state"),
        ),
        (notify_uri.as_str(), r#"{"nothing":"known"}"#, None),
        (notify_uri.as_str(), "{not json", None),
    ] {
        let response = connect_callback::handler(&callback, request("POST", uri, None, body))
            .await
            .expect("handled");
        let status = answers.record(path, "POST", &response);
        answers.body(path, "POST", body, status, refused_for);
    }
    let response = connect_callback::handler(&callback, request("GET", &notify_uri, None, ""))
        .await
        .expect("handled");
    answers.record(path, "POST", &response);

    // POST /unipile/webhook
    own(&world, "u9", "acc_9").await;
    let webhook = status_webhook::StatusWebhook {
        secret: WebhookSecret::new(DEFAULT_WEBHOOK_HEADER, Some(SECRET))
            .expect("secret")
            .into(),
        follow_ups: world.follow_up_deps(),
    };
    let path = "/unipile/webhook";
    world.unipile.set_status(
        &AccountId::parse("acc_9").expect("id"),
        AccountStatus::Credentials,
    );
    for (secret, body) in [
        (
            Some(SECRET),
            r#"{"AccountStatus":{"account_id":"acc_9","account_type":"LINKEDIN","message":"CREDENTIALS"}}"#,
        ),
        (
            Some(SECRET),
            r#"{"AccountStatus":{"account_id":"acc_9","account_type":"LINKEDIN","message":"CREDENTIALS"}}"#,
        ),
        (
            Some(SECRET),
            r#"{"AccountStatus":{"account_id":"not_ours","message":"OK","extra":1}}"#,
        ),
        (
            Some(SECRET),
            r#"{"status":"RECONNECTED","account_id":"not_ours"}"#,
        ),
        (Some(SECRET), r#"{"AccountStatus":{"message":"OK"}}"#),
        (Some(SECRET), "[]"),
        (
            Some("wrong"),
            r#"{"AccountStatus":{"account_id":"acc_9","message":"OK"}}"#,
        ),
        (
            None,
            r#"{"AccountStatus":{"account_id":"acc_9","message":"OK"}}"#,
        ),
    ] {
        let mut delivery = request("POST", path, None, body);
        if let Some(secret) = secret {
            delivery.headers_mut().insert(
                DEFAULT_WEBHOOK_HEADER,
                http::HeaderValue::from_str(secret).expect("a header value"),
            );
        }
        let response = status_webhook::handler(&webhook, delivery)
            .await
            .expect("handled");
        let status = answers.record(path, "POST", &response);
        answers.body(
            path,
            "POST",
            body,
            status,
            (secret != Some(SECRET)).then_some("the secret"),
        );
    }
    let mut wrong_method = request("GET", path, None, "");
    wrong_method.headers_mut().insert(
        DEFAULT_WEBHOOK_HEADER,
        http::HeaderValue::from_static(SECRET),
    );
    let response = status_webhook::handler(&webhook, wrong_method)
        .await
        .expect("handled");
    answers.record(path, "POST", &response);

    // GET|HEAD /web/v{N}/{file}, on a table of its own and on what web/ holds.
    static FIXTURE: &[web_assets::EmbeddedFile] = &[
        web_assets::EmbeddedFile {
            name: "component.js",
            bytes: b"export class Accounts extends HTMLElement {}\n",
            etag: "\"0a1b2c\"",
        },
        web_assets::EmbeddedFile {
            name: "index.html",
            bytes: b"<!doctype html><script type=module src=component.js></script>\n",
            etag: "\"3d4e5f\"",
        },
    ];
    let path = web::asset_path("{file}");
    for assets in [
        web_assets::WebAssets::new(web_assets::Caching::Versioned, FIXTURE, None),
        web_assets::WebAssets::deployed(None),
        web_assets::WebAssets::local(),
    ] {
        let mut names: Vec<&str> = assets.files().iter().map(|f| f.name).collect();
        names.push("no-such-file.js");
        for name in names {
            for method in ["GET", "HEAD"] {
                let response =
                    web_assets::handler(&assets, request(method, &web::asset_path(name), None, ""))
                        .await
                        .expect("handled");
                answers.record(&path, method, &response);
                if let Some(etag) = response.headers().get("etag").cloned() {
                    let mut again = request(method, &web::asset_path(name), None, "");
                    again.headers_mut().insert("if-none-match", etag);
                    let response = web_assets::handler(&assets, again).await.expect("handled");
                    answers.record(&path, method, &response);
                }
            }
        }
        let response = web_assets::handler(
            &assets,
            request("POST", &web::asset_path("index.html"), None, ""),
        )
        .await
        .expect("handled");
        answers.record(&path, "GET", &response);
    }
    let web_get = format!("GET {path}");
    let web_head = format!("HEAD {path}");
    answers.finish(&[
        ("POST /unipile/notify", 200),
        ("POST /unipile/notify", 400),
        ("POST /unipile/notify", 401),
        ("POST /unipile/notify", 405),
        ("POST /unipile/notify", 409),
        ("POST /unipile/webhook", 200),
        ("POST /unipile/webhook", 400),
        ("POST /unipile/webhook", 401),
        ("POST /unipile/webhook", 405),
        (web_get.as_str(), 200),
        (web_get.as_str(), 304),
        (web_get.as_str(), 404),
        (web_get.as_str(), 405),
        (web_head.as_str(), 200),
        (web_head.as_str(), 304),
        (web_head.as_str(), 404),
    ]);
}
