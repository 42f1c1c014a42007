//! Bodies that break a schema's rules one at a time (a field missing, one too many, of the
//! wrong type, huge, full of unicode or control characters, nested deep, a number where a
//! string goes) and bodies that are not JSON at all.

use proptest::prelude::*;
use proptest::sample::Index;
use serde_json::{Map, Value};

/// What is done to a valid-looking body.
#[derive(Debug, Clone)]
pub enum Breakage {
    /// Nothing: the body as the schema takes it.
    Intact,
    DropField(Index),
    ExtraField(String, Value),
    /// A field (at any depth) given a value of another JSON type.
    WrongType(Index, Value),
    HugeString(Index, usize, char),
    Unicode(Index, String),
    ControlCharacters(Index, String),
    /// A field replaced by arrays (or objects) nested this deep.
    DeepNesting(Index, usize, bool),
    NumberForString(Index, Value),
    /// A field replaced by raw text that is not valid JSON there (`NaN`, a lone surrogate,
    /// `1e999999`, bytes that are not UTF-8).
    RawToken(Index, Vec<u8>),
    /// A whole body of another JSON type.
    NotAnObject(Value),
    Malformed(Malformation),
}

#[derive(Debug, Clone)]
pub enum Malformation {
    Truncated(Index),
    TrailingGarbage(String),
    ByteOrderMark,
    SingleQuotes,
    Comment,
    DuplicateKey,
    Empty,
    Whitespace,
    RandomBytes(Vec<u8>),
}

impl Breakage {
    pub fn is_intact(&self) -> bool {
        matches!(self, Self::Intact)
    }
}

const UNICODE: &[&str] = &[
    "\u{202E}gnp.exe",
    "zero\u{200B}width",
    "😀🏳️‍🌈",
    "e\u{301}\u{301}\u{301}",
    "\u{FEFF}bom",
    "İstanbul ß",
    "\u{10FFFF}\u{FFFD}",
    "𝔘𝔫𝔦𝔠𝔬𝔡𝔢",
    "١٢٣٤٥٦",
    "ＡＢＣ１２３",
    "line\u{2028}separator",
    "ﷺ",
];

const CONTROL: &[&str] = &[
    "\u{0}",
    "a\nb",
    "a\r\nb",
    "\t",
    "\u{7f}",
    "\u{85}",
    "\u{1b}[31mred",
    "back\u{8}space",
];

const RAW_TOKENS: &[&[u8]] = &[
    b"NaN",
    b"Infinity",
    b"-Infinity",
    b"1e999999",
    b"-0",
    b"123456789012345678901234567890123456789",
    b"\"\\ud800\"",
    b"\"\\udfff\\ud800\"",
    b"\"\xff\xfe\xfd\"",
    b"\"\xc0\xae\"",
    b"undefined",
    b"'single'",
    b"0x10",
    b"+1",
    b".5",
    b"01",
];

pub fn breakage() -> impl Strategy<Value = Breakage> {
    let other_type = prop_oneof![
        Just(Value::Null),
        any::<bool>().prop_map(Value::from),
        any::<i64>().prop_map(Value::from),
        Just(serde_json::json!(1.5e300)),
        Just(serde_json::json!([])),
        Just(serde_json::json!({})),
        Just(serde_json::json!(["a", 1])),
        Just(serde_json::json!({"nested": {"x": 1}})),
    ];
    let number = prop_oneof![
        any::<i64>().prop_map(Value::from),
        any::<u64>().prop_map(Value::from),
        Just(serde_json::json!(0.1)),
        Just(serde_json::json!(-1)),
    ];
    let field_name = prop_oneof![
        Just("user_id".to_owned()),
        Just("__proto__".to_owned()),
        Just("constructor".to_owned()),
        Just("".to_owned()),
        Just("li_at ".to_owned()),
        Just("TYPE".to_owned()),
        ".{1,12}",
    ];
    prop_oneof![
        10 => Just(Breakage::Intact),
        6 => any::<Index>().prop_map(Breakage::DropField),
        6 => (field_name, crate::schema_values::any_json())
            .prop_map(|(k, v)| Breakage::ExtraField(k, v)),
        8 => (any::<Index>(), other_type).prop_map(|(i, v)| Breakage::WrongType(i, v)),
        3 => (any::<Index>(), 4_096usize..65_536, any::<char>())
            .prop_map(|(i, n, c)| Breakage::HugeString(i, n, c)),
        6 => (
            any::<Index>(),
            prop_oneof![
                prop::sample::select(UNICODE).prop_map(str::to_owned),
                any::<String>(),
            ]
        )
            .prop_map(|(i, s)| Breakage::Unicode(i, s)),
        6 => (any::<Index>(), prop::sample::select(CONTROL))
            .prop_map(|(i, s)| Breakage::ControlCharacters(i, s.to_owned())),
        3 => (
            any::<Index>(),
            prop_oneof![3 => 2usize..200, 1 => 200usize..50_000],
            any::<bool>()
        )
            .prop_map(|(i, depth, arrays)| Breakage::DeepNesting(i, depth, arrays)),
        5 => (any::<Index>(), number).prop_map(|(i, n)| Breakage::NumberForString(i, n)),
        5 => (any::<Index>(), prop::sample::select(RAW_TOKENS))
            .prop_map(|(i, t)| Breakage::RawToken(i, t.to_vec())),
        4 => crate::schema_values::any_json()
            .prop_filter("not an object", |v| !v.is_object())
            .prop_map(Breakage::NotAnObject),
        8 => malformation().prop_map(Breakage::Malformed),
    ]
}

fn malformation() -> impl Strategy<Value = Malformation> {
    prop_oneof![
        any::<Index>().prop_map(Malformation::Truncated),
        prop_oneof![Just("}".to_owned()), Just(",".to_owned()), ".{1,8}"]
            .prop_map(Malformation::TrailingGarbage),
        Just(Malformation::ByteOrderMark),
        Just(Malformation::SingleQuotes),
        Just(Malformation::Comment),
        Just(Malformation::DuplicateKey),
        Just(Malformation::Empty),
        Just(Malformation::Whitespace),
        prop::collection::vec(any::<u8>(), 1..256).prop_map(Malformation::RandomBytes),
    ]
}

/// Stands for raw text in a value, until the body is written out.
const RAW: &str = "\u{1}RAW\u{1}";

/// The body `valid` becomes once broken.
pub fn apply(valid: &Value, breakage: &Breakage) -> Vec<u8> {
    let mut value = valid.clone();
    let mut raw: Option<Vec<u8>> = None;
    match breakage {
        Breakage::Intact => {}
        Breakage::DropField(i) => {
            if let Some(path) = pick(&value, i) {
                remove(&mut value, &path);
            }
        }
        Breakage::ExtraField(key, extra) => {
            if let Value::Object(map) = &mut value {
                map.insert(key.clone(), extra.clone());
            }
        }
        Breakage::WrongType(i, other) | Breakage::NumberForString(i, other) => {
            replace(&mut value, i, other.clone());
        }
        Breakage::HugeString(i, length, c) => {
            replace(&mut value, i, Value::String(c.to_string().repeat(*length)));
        }
        Breakage::Unicode(i, text) | Breakage::ControlCharacters(i, text) => {
            replace(&mut value, i, Value::String(text.clone()));
        }
        Breakage::DeepNesting(i, depth, arrays) => {
            let (open, close) = if *arrays {
                ("[", "]")
            } else {
                ("{\"a\":", "}")
            };
            let inner = if *arrays { "" } else { "1" };
            let text = format!("{}{inner}{}", open.repeat(*depth), close.repeat(*depth));
            raw = Some(text.into_bytes());
            replace(&mut value, i, Value::String(RAW.into()));
        }
        Breakage::RawToken(i, token) => {
            raw = Some(token.clone());
            replace(&mut value, i, Value::String(RAW.into()));
        }
        Breakage::NotAnObject(other) => value = other.clone(),
        Breakage::Malformed(malformation) => return malformed(&value, malformation),
    }
    let text = serde_json::to_vec(&value).unwrap_or_default();
    match raw {
        Some(raw) => splice(&text, &serde_json::to_vec(RAW).unwrap_or_default(), &raw),
        None => text,
    }
}

fn malformed(value: &Value, malformation: &Malformation) -> Vec<u8> {
    let text = serde_json::to_string(value).unwrap_or_default();
    match malformation {
        Malformation::Truncated(i) => {
            let cut = i.index(text.len().max(1));
            text.as_bytes()[..cut].to_vec()
        }
        Malformation::TrailingGarbage(garbage) => format!("{text}{garbage}").into_bytes(),
        Malformation::ByteOrderMark => format!("\u{FEFF}{text}").into_bytes(),
        Malformation::SingleQuotes => text.replace('"', "'").into_bytes(),
        Malformation::Comment => format!("/* hostile */{text}").into_bytes(),
        Malformation::DuplicateKey => match value.as_object().and_then(|m| m.keys().next()) {
            Some(key) => {
                let key = serde_json::to_string(key).unwrap_or_default();
                text.replacen('{', &format!("{{{key}:null,"), 1)
                    .into_bytes()
            }
            None => text.into_bytes(),
        },
        Malformation::Empty => Vec::new(),
        Malformation::Whitespace => b" \r\n\t ".to_vec(),
        Malformation::RandomBytes(bytes) => bytes.clone(),
    }
}

/// The JSON pointers of every member of every object in `value`, outermost first.
fn members(value: &Value) -> Vec<Vec<String>> {
    let mut found = Vec::new();
    let mut stack = vec![(Vec::new(), value)];
    while let Some((path, value)) = stack.pop() {
        if let Value::Object(map) = value {
            for (key, inner) in map {
                let mut here = path.clone();
                here.push(key.clone());
                found.push(here.clone());
                stack.push((here, inner));
            }
        }
    }
    found
}

fn pick(value: &Value, index: &Index) -> Option<Vec<String>> {
    let members = members(value);
    (!members.is_empty()).then(|| members[index.index(members.len())].clone())
}

fn parent<'a>(value: &'a mut Value, path: &[String]) -> Option<&'a mut Map<String, Value>> {
    let (_, ancestors) = path.split_last()?;
    let mut here = value;
    for key in ancestors {
        here = here.as_object_mut()?.get_mut(key)?;
    }
    here.as_object_mut()
}

fn remove(value: &mut Value, path: &[String]) {
    if let (Some(map), Some(last)) = (parent(value, path), path.last()) {
        map.remove(last);
    }
}

/// Replaces a member picked by `index`, or the whole body when it has none.
fn replace(value: &mut Value, index: &Index, with: Value) {
    match pick(value, index) {
        Some(path) => {
            if let (Some(map), Some(last)) = (parent(value, &path), path.last()) {
                map.insert(last.clone(), with);
            }
        }
        None => *value = with,
    }
}

fn splice(text: &[u8], placeholder: &[u8], raw: &[u8]) -> Vec<u8> {
    match text
        .windows(placeholder.len())
        .position(|w| w == placeholder)
    {
        Some(at) => [&text[..at], raw, &text[at + placeholder.len()..]].concat(),
        None => text.to_vec(),
    }
}
