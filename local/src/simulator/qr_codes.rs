//! The random texts a native login hands out: the QR text WhatsApp and Telegram show, the
//! WhatsApp pairing code, the Arkose key of a CAPTCHA. Shaped like the real ones so that a
//! front end rendering them (a QR image, a code to type) meets what production sends; every
//! call draws fresh randomness so that a test can tell one start from the next.

/// Random bytes; only unpredictability between calls matters here, so a failing system
/// source falls back to the clock.
fn random_bytes<const N: usize>() -> [u8; N] {
    let mut bytes = [0u8; N];
    if getrandom::fill(&mut bytes).is_err() {
        let nanos = chrono::Utc::now()
            .timestamp_nanos_opt()
            .unwrap_or_default()
            .to_le_bytes();
        for (i, byte) in bytes.iter_mut().enumerate() {
            *byte = nanos[i % nanos.len()].wrapping_add(i as u8);
        }
    }
    bytes
}

const STANDARD: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
const URL_SAFE: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";

/// Base64 of `bytes` over `alphabet`, `=`-padded when `pad`.
fn base64(bytes: &[u8], alphabet: &[u8], pad: bool) -> String {
    let mut out = String::with_capacity(bytes.len().div_ceil(3) * 4);
    for chunk in bytes.chunks(3) {
        let n = chunk
            .iter()
            .enumerate()
            .fold(0u32, |n, (i, b)| n | u32::from(*b) << (16 - 8 * i));
        let sextets = chunk.len() + 1;
        for i in 0..4 {
            if i < sextets {
                out.push(alphabet[(n >> (18 - 6 * i) & 63) as usize] as char);
            } else if pad {
                out.push('=');
            }
        }
    }
    out
}

/// WhatsApp's multi-device linking text: `2@<ref>,<noise key>,<identity key>,<adv secret>`,
/// each part standard base64 (the keys are 32 bytes).
pub(super) fn whatsapp_qr() -> String {
    format!(
        "2@{},{},{},{}",
        base64(&random_bytes::<36>(), STANDARD, true),
        base64(&random_bytes::<32>(), STANDARD, true),
        base64(&random_bytes::<32>(), STANDARD, true),
        base64(&random_bytes::<32>(), STANDARD, true),
    )
}

/// Telegram's login-by-QR link: `tg://login?token=<base64url, unpadded>`.
pub(super) fn telegram_qr() -> String {
    format!(
        "tg://login?token={}",
        base64(&random_bytes::<32>(), URL_SAFE, false)
    )
}

/// A WhatsApp pairing code: eight characters from the alphabet WhatsApp uses (no `0`, `O`,
/// `I`, `U`, which read alike), shown `ABCD-1234`.
pub(super) fn pairing_code() -> String {
    const ALPHABET: &[u8] = b"123456789ABCDEFGHJKLMNPQRSTVWXYZ";
    let chars: String = random_bytes::<8>()
        .iter()
        .map(|b| ALPHABET[*b as usize % ALPHABET.len()] as char)
        .collect();
    format!("{}-{}", &chars[..4], &chars[4..])
}

/// An Arkose Labs public key: an upper-case UUID.
pub(super) fn captcha_public_key() -> String {
    let hex: String = random_bytes::<16>()
        .iter()
        .map(|b| format!("{b:02X}"))
        .collect();
    format!(
        "{}-{}-{}-{}-{}",
        &hex[..8],
        &hex[8..12],
        &hex[12..16],
        &hex[16..20],
        &hex[20..]
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn base64_matches_the_standard_encoding() {
        assert_eq!(base64(b"", STANDARD, true), "");
        assert_eq!(base64(b"f", STANDARD, true), "Zg==");
        assert_eq!(base64(b"fo", STANDARD, true), "Zm8=");
        assert_eq!(base64(b"foo", STANDARD, true), "Zm9v");
        assert_eq!(base64(b"foob", STANDARD, false), "Zm9vYg");
        assert_eq!(base64(&[0xfb, 0xff], URL_SAFE, false), "-_8");
        assert_eq!(base64(&[0xfb, 0xff], STANDARD, true), "+/8=");
    }

    #[test]
    fn whatsapp_text_has_the_multi_device_shape_and_changes_each_time() {
        let qr = whatsapp_qr();
        let parts: Vec<&str> = qr
            .strip_prefix("2@")
            .expect("2@ prefix")
            .split(',')
            .collect();
        assert_eq!(
            parts.iter().map(|p| p.len()).collect::<Vec<_>>(),
            [48, 44, 44, 44]
        );
        assert_ne!(qr, whatsapp_qr());
    }

    #[test]
    fn telegram_text_is_a_login_link_with_a_url_safe_token() {
        let qr = telegram_qr();
        let token = qr.strip_prefix("tg://login?token=").expect("tg link");
        assert_eq!(token.len(), 43);
        assert!(
            token
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
        );
        assert_ne!(qr, telegram_qr());
    }

    #[test]
    fn pairing_codes_and_captcha_keys_are_shaped_like_the_real_ones() {
        let code = pairing_code();
        assert_eq!(code.len(), 9);
        assert_eq!(&code[4..5], "-");
        assert!(
            code.bytes()
                .filter(|b| *b != b'-')
                .all(|b| b.is_ascii_uppercase() || b.is_ascii_digit())
        );
        let key = captcha_public_key();
        assert_eq!(
            key.split('-').map(str::len).collect::<Vec<_>>(),
            [8, 4, 4, 4, 12]
        );
    }
}
