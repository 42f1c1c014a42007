//! `POST /extension/checkpoint` bodies, read as the handler reads them: no bytes make the
//! parser panic; an accepted code is trimmed, short and of the documented characters; and no
//! `Debug` depends on the code (a credential for a few minutes), so none can show it.
#![no_main]

use libfuzzer_sys::fuzz_target;
use serde_json::Value;
use unipile_connect_fuzz::rotated;
use unipile_domain::checkpoint::{CheckpointAnswer, CheckpointBody};

/// The `Debug` of the body and of what it parses to.
fn shown(body: &[u8]) -> Option<(String, String)> {
    let parsed = serde_json::from_slice::<CheckpointBody>(body).ok()?;
    let body = format!("{parsed:?}");
    let answer = match CheckpointAnswer::parse(parsed) {
        Ok((_, answer)) => format!("{answer:?}"),
        Err(error) => format!("{error:?}"),
    };
    Some((body, answer))
}

fuzz_target!(|body: &[u8]| {
    if let Ok(parsed) = serde_json::from_slice::<CheckpointBody>(body)
        && let Ok((member, answer)) = CheckpointAnswer::parse(parsed)
    {
        assert!(!member.as_str().is_empty());
        if let CheckpointAnswer::Code(code) = answer {
            let code = code.expose();
            assert!(!code.is_empty() && code.chars().count() <= 64);
            assert_eq!(code.trim(), code);
            assert!(
                code.chars()
                    .all(|c| c.is_ascii_alphanumeric() || " +()-_".contains(c))
            );
        }
    }
    // The same body with another code must show exactly the same texts.
    let Ok(mut value) = serde_json::from_slice::<Value>(body) else {
        return;
    };
    let original = serde_json::to_vec(&value).expect("a Value serializes");
    if let Some(Value::String(code)) = value.get_mut("code") {
        *code = rotated(code);
    }
    let other = serde_json::to_vec(&value).expect("a Value serializes");
    assert_eq!(shown(&original), shown(&other), "a Debug shows the code");
});
