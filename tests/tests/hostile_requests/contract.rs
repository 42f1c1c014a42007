//! What `infra/openapi.yaml` says the stack serves: each route's methods, how it is
//! guarded, the schema of the body it takes, and the statuses it may answer.

use serde_json::Value;
use std::path::Path;

/// How a route tells who is calling.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Guard {
    /// The user's JWT (`Authorization: Bearer`), checked by the gateway.
    Bearer,
    /// The team's backend's JWT (a bearer granting the service scope): the gateway checks
    /// it, and refuses a user's.
    ServiceBearer,
    /// The signed `state` of a hosted-auth link, in the query.
    State,
    /// The webhook's shared-secret header.
    WebhookSecret,
    /// Nothing: public files.
    Public,
}

/// One documented operation: `method path`.
#[derive(Debug, Clone)]
pub struct Operation {
    /// As documented, with `{parameters}`.
    pub path: String,
    /// Upper case.
    pub method: String,
    pub guard: Guard,
    /// The JSON body's schema, when the operation takes a body.
    pub body_schema: Option<Value>,
}

pub struct Contract {
    doc: Value,
    pub operations: Vec<Operation>,
}

impl Contract {
    pub fn load() -> Self {
        let file = Path::new(env!("CARGO_MANIFEST_DIR")).join("../infra/openapi.yaml");
        let text = std::fs::read_to_string(file).expect("openapi.yaml");
        let doc: Value = serde_norway::from_str(&text).expect("openapi.yaml is YAML");
        let mut operations = Vec::new();
        for (path, item) in doc["paths"].as_object().expect("paths") {
            for (method, operation) in item.as_object().into_iter().flatten() {
                if !["get", "put", "post", "delete", "patch", "head"].contains(&method.as_str()) {
                    continue;
                }
                let security = operation
                    .get("security")
                    .unwrap_or(&doc["security"])
                    .to_string();
                let guard = if security.contains("notifyState") {
                    Guard::State
                } else if security.contains("unipileWebhookSecret") {
                    Guard::WebhookSecret
                } else if security.contains("userJwt") {
                    Guard::Bearer
                } else if security.contains("serviceJwt") {
                    Guard::ServiceBearer
                } else {
                    Guard::Public
                };
                let body = resolve(&doc, &operation["requestBody"]);
                let body_schema = body["content"]["application/json"]["schema"].clone();
                operations.push(Operation {
                    path: path.clone(),
                    method: method.to_uppercase(),
                    guard,
                    body_schema: (!body_schema.is_null()).then_some(body_schema),
                });
            }
        }
        assert!(operations.len() >= 10, "{operations:?}");
        Self { doc, operations }
    }

    /// `value`, or what its `$ref` points at.
    pub fn resolve<'a>(&'a self, value: &'a Value) -> &'a Value {
        resolve(&self.doc, value)
    }

    /// Whether some operation of `path` documents `status` (an answer to a method the path
    /// does not take is documented under the methods it takes, as 405 is).
    pub fn documents(&self, path: &str, status: u16) -> bool {
        self.doc["paths"][path]
            .as_object()
            .into_iter()
            .flatten()
            .any(|(_, operation)| !operation["responses"][status.to_string()].is_null())
    }
}

fn resolve<'a>(doc: &'a Value, value: &'a Value) -> &'a Value {
    match value.get("$ref").and_then(Value::as_str) {
        Some(reference) => {
            let pointer = reference.strip_prefix('#').expect("a local $ref");
            resolve(
                doc,
                doc.pointer(pointer).expect("the $ref is in the document"),
            )
        }
        None => value,
    }
}

/// The name a `$ref` gives its schema (`#/components/schemas/AccountId` is `AccountId`).
pub fn ref_name(schema: &Value) -> Option<&str> {
    schema
        .get("$ref")
        .and_then(Value::as_str)
        .and_then(|r| r.rsplit('/').next())
}

/// Whether the local stack routes `path` (a raw request path) to a handler: its segments fit
/// a documented path, where a `{parameter}` takes one non-empty segment and the web route's
/// `{file}` (`/web/{*file}` on the stack) the whole non-empty rest. Anything else is the
/// router's bare 404.
pub fn routed_path<'a>(contract: &'a Contract, path: &str) -> Option<&'a str> {
    let segments: Vec<&str> = path.strip_prefix('/')?.split('/').collect();
    if let Some(rest) = path.strip_prefix("/web/") {
        return (!rest.is_empty()).then(|| {
            contract
                .operations
                .iter()
                .find(|o| o.path.starts_with("/web/"))
                .map(|o| o.path.as_str())
                .expect("a web route")
        });
    }
    contract
        .operations
        .iter()
        .map(|o| o.path.as_str())
        .find(|documented| {
            let pattern: Vec<&str> = documented.trim_start_matches('/').split('/').collect();
            pattern.len() == segments.len()
                && pattern.iter().zip(&segments).all(|(p, s)| {
                    if p.starts_with('{') {
                        !s.is_empty()
                    } else {
                        p == s
                    }
                })
        })
}
