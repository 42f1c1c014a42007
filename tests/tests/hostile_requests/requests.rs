//! Whole requests for one documented operation: its method or another, its path with
//! parameters as they should be or with tricks (`..`, `%2e%2e`, encoded slashes, unicode,
//! very long), a query string, what the route's guard is shown, a content type, and a body
//! from its schema, valid-looking or broken.

use crate::broken_bodies::{self, Breakage};
use crate::contract::{Contract, Guard, Operation};
use crate::credentials::{Credentials, Header, Shown};
use crate::schema_values::{self, Vocabulary};
use harness::raw_http::RawRequest;
use proptest::prelude::*;
use serde_json::Value;
use std::sync::Arc;
use unipile_connect::domain::{LinkPurpose, UserId};

/// One generated request and what the generator meant by it.
#[derive(Debug, Clone)]
pub struct Case {
    /// The documented path it was made for (`/accounts/{id}`).
    pub operation_path: String,
    pub request: RawRequest,
    /// Everything as the operation takes it: its method, a genuine credential, plain path
    /// parameters, a JSON content type and an intact body.
    pub looks_valid: bool,
    /// What this request carried that no answer may contain (cookies, tokens).
    pub secrets: Vec<String>,
}

const OTHER_METHODS: &[&str] = &[
    "GET", "POST", "PUT", "DELETE", "PATCH", "HEAD", "OPTIONS", "TRACE", "post", "FOO", "PROPFIND",
];

const CONTENT_TYPES: &[&str] = &[
    "text/plain",
    "application/x-www-form-urlencoded",
    "multipart/form-data; boundary=hostile",
    "application/json; charset=utf-16",
    "application/problem+json",
    "application/xml",
    "*/*",
    "application/json, text/html",
];

/// Path parameters as a trickster writes them, sent exactly so.
const PATH_TRICKS: &[&str] = &[
    "..",
    ".",
    "%2e%2e",
    "%2E%2e",
    "..%2f",
    "%2e%2e%2f%2e%2e%2fetc%2fpasswd",
    "a%2Fb",
    "%2F",
    "%5C",
    "..%5C..%5Cwindows",
    "%00",
    "acc_1%00.js",
    "%0d%0aSet-Cookie:%20x=1",
    "%zz",
    "%",
    "%u002e%u002e",
    "%C0%AE%C0%AE",
    "%c0%af",
    "acc_1;x=1",
    "acc_1%3Fx=1",
    "acc_1%23fragment",
    "~root",
    "*",
    "a%20b",
    "%E2%80%AE",
    "%F0%9F%98%80",
    "%EF%BC%8E%EF%BC%8E",
    "../accounts",
    "a/b",
    "..%2F../openapi.yaml",
    "./x",
    ".git/config",
    ".env",
    "unipile-accounts.js/",
    "UNIPILE-ACCOUNTS.JS",
    "unipile-accounts.js%00.html",
    "icons/../unipile-accounts.js",
    "icons//x.svg",
];

/// Whole paths that are not quite a route.
const PATH_VARIANTS: &[&str] = &["{}/", "/{}", "{}//", "{}/.", "{}/..", "{}%2F"];

/// Everything a generated request may draw on.
pub struct Material {
    pub contract: Contract,
    pub vocabulary: Vocabulary,
    pub credentials: Credentials,
}

/// A third of the requests are aimed to be taken (every part as the operation wants it, so
/// that they reach the handlers' deeper rules); the rest break something, often several
/// things at once.
pub fn case(material: Arc<Material>) -> BoxedStrategy<Case> {
    let count = material.contract.operations.len();
    (0..count, prop::bool::weighted(0.35))
        .prop_flat_map(move |(i, aimed)| for_operation(material.clone(), i, aimed))
        .boxed()
}

fn for_operation(material: Arc<Material>, index: usize, aimed: bool) -> BoxedStrategy<Case> {
    let operation = material.contract.operations[index].clone();
    let own_method = Just((operation.method.clone(), true));
    let method = if aimed {
        own_method.boxed()
    } else {
        prop_oneof![
            1 => own_method,
            1 => prop::sample::select(OTHER_METHODS)
                .prop_map({
                    let own = operation.method.clone();
                    move |m| (m.to_owned(), m == own)
                }),
        ]
        .boxed()
    };
    let body = body(&material, &operation, aimed);
    let json = Just((Some("application/json".to_owned()), true));
    let content_type = if aimed {
        json.boxed()
    } else {
        prop_oneof![
            4 => json,
            1 => Just((None, false)),
            2 => prop::sample::select(CONTENT_TYPES).prop_map(|c| (Some(c.to_owned()), false)),
        ]
        .boxed()
    };
    let guard = guard(&material.credentials, operation.guard, aimed);
    let query = query();
    let signer = material.clone();
    (
        method,
        path(&material, &operation, aimed),
        query,
        guard,
        content_type,
        body,
        prop::bool::weighted(0.75),
    )
        .prop_map(
            move |(
                (method, own_method),
                (path, plain_path),
                query,
                guard,
                (content_type, json),
                draft,
                names_the_link_user,
            )| {
                let mut draft = draft;
                let mut secrets = Vec::new();
                let mut headers = Vec::new();
                if let Some(content_type) = content_type {
                    headers.push(("content-type".to_owned(), content_type.into_bytes()));
                }
                let mut query = query;
                let genuine = match guard {
                    Credential::Header(shown) => {
                        if let Some((name, value)) = shown.value {
                            secrets.push(String::from_utf8_lossy(&value).into_owned());
                            headers.push((name, value));
                        }
                        shown.genuine
                    }
                    Credential::State(shown) => {
                        let state = shown.value.map(|state| match state {
                            State::Fresh(link) => {
                                // A callback for a link names the link's user, mostly.
                                if let Some((Value::Object(fields), _)) = &mut draft
                                    && names_the_link_user
                                    && fields.contains_key("name")
                                {
                                    fields.insert("name".into(), link.0.as_str().into());
                                }
                                signer.credentials.fresh_state(&link)
                            }
                            State::Written(text) => text,
                        });
                        if let Some(state) = state {
                            secrets.push(state.clone());
                            let state: String =
                                url::form_urlencoded::byte_serialize(state.as_bytes()).collect();
                            query.insert(0, format!("state={state}"));
                        }
                        shown.genuine
                    }
                    Credential::Nothing => true,
                };
                let target = match query.is_empty() {
                    true => path,
                    false => format!("{path}?{}", query.join("&")),
                };
                let (body, intact) = match &draft {
                    Some((value, breakage)) => {
                        secrets.extend(carried_cookies(value, &signer.vocabulary["CookieValue"]));
                        (broken_bodies::apply(value, breakage), breakage.is_intact())
                    }
                    None => (Vec::new(), true),
                };
                let body_taken = operation.body_schema.is_some();
                Case {
                    operation_path: operation.path.clone(),
                    request: RawRequest {
                        method,
                        target,
                        headers,
                        body,
                    },
                    looks_valid: own_method
                        && plain_path
                        && genuine
                        && (!body_taken || (json && intact)),
                    secrets,
                }
            },
        )
        .boxed()
}

/// What a request shows its route's guard.
#[derive(Debug, Clone)]
enum Credential {
    Header(Shown<Option<Header>>),
    State(Shown<Option<State>>),
    Nothing,
}

#[derive(Debug, Clone)]
enum State {
    /// Signed when the request is made, for this link.
    Fresh((UserId, LinkPurpose)),
    Written(String),
}

fn guard(credentials: &Credentials, guard: Guard, aimed: bool) -> BoxedStrategy<Credential> {
    let split = |genuine: Vec<Credential>, forged: Vec<Credential>| {
        let genuine = prop::sample::select(genuine);
        if aimed {
            return genuine.boxed();
        }
        prop_oneof![
            1 => genuine,
            3 => prop::sample::select(forged),
        ]
        .boxed()
    };
    match guard {
        Guard::Bearer | Guard::ServiceBearer => {
            let as_header = |s: &Shown<Option<Vec<u8>>>| {
                Credential::Header(Shown {
                    value: s.value.clone().map(|v| ("authorization".to_owned(), v)),
                    genuine: s.genuine,
                })
            };
            let shown = match guard {
                Guard::Bearer => &credentials.bearers,
                _ => &credentials.service_bearers,
            };
            let (genuine, forged): (Vec<_>, Vec<_>) = shown.iter().partition(|s| s.genuine);
            split(
                genuine.into_iter().map(as_header).collect(),
                forged.into_iter().map(as_header).collect(),
            )
        }
        Guard::State => split(
            credentials
                .links
                .iter()
                .map(|link| {
                    Credential::State(Shown {
                        value: Some(State::Fresh(link.clone())),
                        genuine: true,
                    })
                })
                .collect(),
            credentials
                .forged_states
                .iter()
                .map(|shown| {
                    Credential::State(Shown {
                        value: shown.value.clone().map(State::Written),
                        genuine: false,
                    })
                })
                .collect(),
        ),
        Guard::WebhookSecret => {
            let (genuine, forged): (Vec<_>, Vec<_>) =
                credentials.webhook_headers.iter().partition(|s| s.genuine);
            split(
                genuine
                    .into_iter()
                    .cloned()
                    .map(Credential::Header)
                    .collect(),
                forged
                    .into_iter()
                    .cloned()
                    .map(Credential::Header)
                    .collect(),
            )
        }
        // A public route is shown anything, which it ignores.
        Guard::Public => prop_oneof![
            3 => Just(Credential::Nothing),
            1 => prop::sample::select(
                credentials
                    .bearers
                    .iter()
                    .map(|s| Credential::Header(Shown {
                        value: s.value.clone().map(|v| ("authorization".to_owned(), v)),
                        genuine: true,
                    }))
                    .collect::<Vec<_>>()
            ),
        ]
        .boxed(),
    }
}

/// The path, and whether its parameters are plain.
fn path(material: &Material, operation: &Operation, aimed: bool) -> BoxedStrategy<(String, bool)> {
    let template = operation.path.clone();
    let Some(open) = template.find('{') else {
        let exact = Just((template.clone(), true));
        if aimed {
            return exact.boxed();
        }
        return prop_oneof![
            4 => exact,
            1 => prop::sample::select(PATH_VARIANTS)
                .prop_map(move |v| (v.replace("{}", &template), false)),
        ]
        .boxed();
    };
    let close = template.find('}').expect("a closed parameter");
    let (before, after) = (
        template[..open].to_owned(),
        template[close + 1..].to_owned(),
    );
    let name = &template[open + 1..close];
    let plain = match name {
        "id" => known(material, "AccountId"),
        "member_id" => known(material, "LinkedinMemberId"),
        _ => web_files(),
    };
    let plain = plain.prop_map(|s| (encode_segment(&s), true));
    if aimed {
        return plain
            .prop_map(move |(parameter, plain)| (format!("{before}{parameter}{after}"), plain))
            .boxed();
    }
    let trick = prop::sample::select(PATH_TRICKS).prop_map(|t| (t.to_owned(), false));
    let long = (1usize..4_000, any::<char>())
        .prop_map(|(n, c)| (encode_segment(&c.to_string().repeat(n)), false));
    let unicode = any::<String>().prop_map(|s| (encode_segment(&s), false));
    prop_oneof![
        3 => plain,
        3 => trick,
        1 => long,
        1 => unicode,
    ]
    .prop_map(move |(parameter, plain)| (format!("{before}{parameter}{after}"), plain))
    .boxed()
}

fn known(material: &Material, schema: &str) -> BoxedStrategy<String> {
    let known: Vec<String> = material.vocabulary[schema]
        .iter()
        .filter_map(|v| v.as_str().map(str::to_owned))
        .collect();
    let contract = &material.contract;
    let generated = schema_values::valid(
        contract,
        &Vocabulary::new(),
        &serde_json::json!({"$ref": format!("#/components/schemas/{schema}")}),
    )
    .prop_map(|v| v.as_str().unwrap_or_default().to_owned());
    prop_oneof![3 => prop::sample::select(known), 1 => generated].boxed()
}

fn web_files() -> BoxedStrategy<String> {
    let names: Vec<String> = web_assets::embedded_files()
        .iter()
        .map(|f| f.name.to_owned())
        .collect();
    prop_oneof![
        3 => prop::sample::select(names),
        1 => "[A-Za-z0-9_-][A-Za-z0-9._-]{0,20}",
    ]
    .boxed()
}

/// A path segment as a client would encode it: unreserved characters kept, the rest `%XX`.
fn encode_segment(text: &str) -> String {
    text.bytes()
        .map(|b| match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'.' | b'_' | b'~' => {
                (b as char).to_string()
            }
            _ => format!("%{b:02X}"),
        })
        .collect()
}

/// Query parameters, written out (`key=value`).
fn query() -> BoxedStrategy<Vec<String>> {
    let pair = prop_oneof![
        Just("state=".to_owned()),
        Just("STATE=x".to_owned()),
        Just("%zz=%zz".to_owned()),
        Just("a=%00".to_owned()),
        Just("user_id=hostile-bob".to_owned()),
        Just("sub=hostile-bob".to_owned()),
        Just("x".repeat(2_000)),
        (".{0,12}", ".{0,24}").prop_map(|(k, v): (String, String)| {
            let k: String = url::form_urlencoded::byte_serialize(k.as_bytes()).collect();
            let v: String = url::form_urlencoded::byte_serialize(v.as_bytes()).collect();
            format!("{k}={v}")
        }),
    ];
    prop_oneof![
        3 => Just(Vec::new()),
        1 => prop::collection::vec(pair, 1..4),
    ]
    .boxed()
}

/// A body before it is written out: a value from the schema (or any JSON, for an operation
/// that takes no body) and what is done to it; `None` for no body.
type Draft = Option<(Value, Breakage)>;

fn body(material: &Material, operation: &Operation, aimed: bool) -> BoxedStrategy<Draft> {
    let breakage = if aimed {
        Just(Breakage::Intact).boxed()
    } else {
        broken_bodies::breakage().boxed()
    };
    match &operation.body_schema {
        Some(schema) => {
            let valid = schema_values::valid(&material.contract, &material.vocabulary, schema);
            (valid, breakage).prop_map(Some).boxed()
        }
        None if aimed => Just(None).boxed(),
        None => prop_oneof![
            4 => Just(None),
            1 => (schema_values::any_json(), breakage).prop_map(Some),
        ]
        .boxed(),
    }
}

/// The known cookie values `value` holds anywhere.
fn carried_cookies(value: &Value, cookies: &[Value]) -> Vec<String> {
    let text = value.to_string();
    cookies
        .iter()
        .filter_map(Value::as_str)
        .filter(|c| text.contains(c))
        .map(str::to_owned)
        .collect()
}
