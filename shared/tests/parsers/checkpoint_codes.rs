//! The user's answer to a LinkedIn verification: a code is letters, digits, spaces and
//! `+()-_`, at most 64 characters once trimmed; it never prints.

use crate::{hostile_text, is_id};
use proptest::prelude::*;
use unipile_connect::domain::checkpoint::{
    CheckpointAnswer, CheckpointBody, CheckpointCode, CheckpointCodeError,
};

fn code() -> impl Strategy<Value = String> {
    prop_oneof![
        "\\s{0,2}[A-Za-z0-9 +()_-]{1,70}\\s{0,2}",
        hostile_text(),
        Just("TRY_ANOTHER_WAY".to_owned()),
        Just("(+33)0612345678".to_owned()),
    ]
}

proptest! {
    #[test]
    fn an_accepted_code_is_the_trimmed_text_within_the_rule(raw in code()) {
        match CheckpointCode::parse(&raw) {
            Ok(code) => {
                let kept = code.expose();
                prop_assert_eq!(kept, raw.trim());
                prop_assert!((1..=64).contains(&kept.chars().count()));
                prop_assert!(kept.chars().all(|c| c.is_ascii_alphanumeric() || " +()-_".contains(c)));
                prop_assert_eq!(format!("{code:?}"), "CheckpointCode(..)");
            }
            Err(error) => {
                // The reasons are fixed sentences: none quotes what was typed.
                let reasons = [
                    CheckpointCodeError::Empty,
                    CheckpointCodeError::TooLong,
                    CheckpointCodeError::BadCharacter,
                ];
                prop_assert!(reasons.contains(&error));
            }
        }
    }

    #[test]
    fn an_answer_names_a_valid_member_and_a_blank_code_awaits_an_approval(
        member in hostile_text(),
        code in prop::option::of(code()),
    ) {
        let body = CheckpointBody { linkedin_member_id: member.clone(), code: code.clone() };
        let printed = format!("{body:?}");
        if let Some(code) = code.as_ref().filter(|c| c.trim().len() >= 4 && !member.contains(c.trim())) {
            prop_assert!(!printed.contains(code.trim()), "{printed}");
        }
        if let Ok((parsed, answer)) = CheckpointAnswer::parse(body) {
            prop_assert!(is_id(parsed.as_str(), 128));
            let blank = code.as_ref().is_none_or(|c| c.trim().is_empty());
            prop_assert_eq!(blank, matches!(answer, CheckpointAnswer::AwaitApproval));
        }
    }
}
