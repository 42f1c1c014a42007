//! Values that a request-body schema of `openapi.yaml` takes, generated from the schema
//! itself (types, `required`, `enum`, `const`, `pattern`, lengths, `oneOf`/`anyOf`/`allOf`,
//! `format`), with the stack's own names mixed in where a schema names one (an account the
//! stack knows, an allowed redirect origin), so that valid-looking bodies reach past the
//! first check.

use crate::contract::{Contract, ref_name};
use proptest::prelude::*;
use proptest::strategy::Union;
use serde_json::{Map, Value, json};
use std::collections::HashMap;

/// Values the stack knows, by the name of the schema they fit (`AccountId`, ...) or of the
/// property they go in (`status`, ...).
pub type Vocabulary = HashMap<&'static str, Vec<Value>>;

pub fn valid(contract: &Contract, vocabulary: &Vocabulary, schema: &Value) -> BoxedStrategy<Value> {
    if let Some(name) = ref_name(schema) {
        let generated = valid(contract, vocabulary, contract.resolve(schema));
        return match vocabulary.get(name) {
            Some(known) => prop_oneof![
                3 => prop::sample::select(known.clone()),
                1 => generated,
            ]
            .boxed(),
            None => generated,
        };
    }
    if let Some(value) = schema.get("const") {
        return Just(value.clone()).boxed();
    }
    if let Some(values) = schema["enum"].as_array() {
        return prop::sample::select(values.clone()).boxed();
    }
    if let Some(parts) = schema["allOf"].as_array() {
        let generated = valid(contract, vocabulary, &merged(contract, schema, parts));
        let known = parts
            .iter()
            .filter_map(ref_name)
            .find_map(|name| vocabulary.get(name));
        return match known {
            Some(known) => prop_oneof![
                3 => prop::sample::select(known.clone()),
                1 => generated,
            ]
            .boxed(),
            None => generated,
        };
    }
    for choice in ["oneOf", "anyOf"] {
        if let Some(branches) = schema[choice].as_array() {
            let mut around = schema.clone();
            if let Some(map) = around.as_object_mut() {
                map.remove(choice);
                map.remove("description");
            }
            // A branch inherits what the schema around it says (its lengths, say), if anything.
            let branches = branches.iter().map(|branch| {
                if around.as_object().is_none_or(Map::is_empty) {
                    valid(contract, vocabulary, branch)
                } else {
                    valid(
                        contract,
                        vocabulary,
                        &merged(contract, &around, std::slice::from_ref(branch)),
                    )
                }
            });
            return Union::new(branches).boxed();
        }
    }
    match &schema["type"] {
        Value::Array(types) => Union::new(types.iter().map(|t| {
            let mut one = schema.clone();
            one["type"] = t.clone();
            valid(contract, vocabulary, &one)
        }))
        .boxed(),
        Value::String(t) => match t.as_str() {
            "object" => object(contract, vocabulary, schema),
            "array" => array(contract, vocabulary, schema),
            "string" => string(schema),
            "boolean" => any::<bool>().prop_map(Value::from).boxed(),
            "integer" => any::<i64>().prop_map(Value::from).boxed(),
            "number" => any::<f64>().prop_map(|n| json!(n)).boxed(),
            "null" => Just(Value::Null).boxed(),
            other => panic!("a schema type this generator does not know: {other}"),
        },
        _ if schema.get("properties").is_some() => object(contract, vocabulary, schema),
        _ => any_json().boxed(),
    }
}

/// `schema` without `allOf`, with every part's keywords (resolved) over its own, as one
/// schema.
fn merged(contract: &Contract, schema: &Value, parts: &[Value]) -> Value {
    let mut whole: Map<String, Value> = schema.as_object().cloned().unwrap_or_default();
    whole.remove("allOf");
    for part in parts {
        let part = contract.resolve(part);
        for (key, value) in part.as_object().into_iter().flatten() {
            whole.insert(key.clone(), value.clone());
        }
    }
    Value::Object(whole)
}

fn object(contract: &Contract, vocabulary: &Vocabulary, schema: &Value) -> BoxedStrategy<Value> {
    let required: Vec<&str> = schema["required"]
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(Value::as_str)
        .collect();
    let fields: Vec<BoxedStrategy<Option<(String, Value)>>> = schema["properties"]
        .as_object()
        .into_iter()
        .flatten()
        .map(|(name, property)| {
            let name = name.clone();
            let generated = valid(contract, vocabulary, property);
            let value = match vocabulary.get(name.as_str()) {
                Some(known) => prop_oneof![
                    3 => prop::sample::select(known.clone()),
                    1 => generated,
                ]
                .boxed(),
                None => generated,
            };
            if required.contains(&name.as_str()) {
                value.prop_map(move |v| Some((name.clone(), v))).boxed()
            } else {
                prop::option::of(value.prop_map(move |v| (name.clone(), v))).boxed()
            }
        })
        .collect();
    fields
        .prop_map(|fields| Value::Object(fields.into_iter().flatten().collect()))
        .boxed()
}

fn array(contract: &Contract, vocabulary: &Vocabulary, schema: &Value) -> BoxedStrategy<Value> {
    let min = schema["minItems"].as_u64().unwrap_or(0) as usize;
    let items = valid(contract, vocabulary, &schema["items"]);
    prop::collection::vec(items, min..=min + 3)
        .prop_map(Value::Array)
        .boxed()
}

fn string(schema: &Value) -> BoxedStrategy<Value> {
    let min = schema["minLength"].as_u64().unwrap_or(0) as usize;
    let max = schema["maxLength"]
        .as_u64()
        .map_or(usize::MAX, |m| m as usize);
    let text: BoxedStrategy<String> = match (schema["format"].as_str(), schema["pattern"].as_str())
    {
        (Some("ipv4"), _) => any::<std::net::Ipv4Addr>()
            .prop_map(|ip| ip.to_string())
            .boxed(),
        (Some("ipv6"), _) => any::<std::net::Ipv6Addr>()
            .prop_map(|ip| ip.to_string())
            .boxed(),
        (_, Some(pattern)) => {
            // JSON Schema patterns are searched for; those of this document are anchored at
            // both ends, which the generator takes as given.
            let bare = pattern.trim_start_matches('^').trim_end_matches('$');
            proptest::string::string_regex(bare)
                .unwrap_or_else(|e| panic!("pattern {pattern}: {e}"))
                .boxed()
        }
        _ => ".{0,40}".prop_map(String::from).boxed(),
    };
    text.prop_filter("within the schema's lengths", move |s| {
        (min..=max).contains(&s.chars().count())
    })
    .prop_map(Value::String)
    .boxed()
}

/// Any JSON value, a few levels deep.
pub fn any_json() -> impl Strategy<Value = Value> {
    let leaf = prop_oneof![
        Just(Value::Null),
        any::<bool>().prop_map(Value::from),
        any::<i64>().prop_map(Value::from),
        any::<f64>().prop_map(|n| json!(n)),
        ".{0,20}".prop_map(Value::String),
    ];
    leaf.prop_recursive(3, 16, 4, |inner| {
        prop_oneof![
            prop::collection::vec(inner.clone(), 0..4).prop_map(Value::Array),
            prop::collection::btree_map(".{0,8}", inner, 0..4)
                .prop_map(|m| Value::Object(m.into_iter().collect())),
        ]
    })
}
