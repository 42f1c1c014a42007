//! The rules the fuzz targets hold the parsers to, written out again here rather than taken
//! from the code under test, so that a parser drifting from its documented rule is caught.

/// An id as the domain documents one: 1 to `max` characters, no whitespace or control
/// character, not `.` or `..`.
pub fn is_id(value: &str, max: usize) -> bool {
    !value.is_empty()
        && value.chars().count() <= max
        && !value.chars().any(|c| c.is_whitespace() || c.is_control())
        && value != "."
        && value != ".."
}

/// A LinkedIn profile id as Unipile shows one (`ACoAAB…`): 1 to 128 ASCII letters, digits,
/// `-` and `_`.
pub fn is_profile_id(value: &str) -> bool {
    (1..=128).contains(&value.len())
        && value
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
}

/// An email as the domain takes one: an id of at most 320 characters with a local part and a
/// dotted domain.
pub fn is_email(value: &str) -> bool {
    is_id(value, 320)
        && value
            .split_once('@')
            .is_some_and(|(local, domain)| !local.is_empty() && domain.contains('.'))
}

/// Another secret of the same length and validity: each ASCII letter and digit moved on by
/// one. Two bodies that differ only by it must produce the same texts, or a text shows it.
pub fn rotated(text: &str) -> String {
    text.chars()
        .map(|c| match c {
            'z' => 'a',
            'Z' => 'A',
            '9' => '0',
            c if c.is_ascii_alphanumeric() => (c as u8 + 1) as char,
            c => c,
        })
        .collect()
}
