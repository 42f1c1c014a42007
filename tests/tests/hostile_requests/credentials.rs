//! What a caller can show for each guard: genuine bearer tokens minted by the stack and
//! forged, expired, tampered or odd ones; genuine and forged `state` tokens; the webhook's
//! secret header, right and wrong.

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD as B64;
use chrono::{Duration, Utc};
use local_stack::jwt::{DEFAULT_LOCAL_JWT_SECRET, LocalAuthorizer};
use local_stack::stack::DEFAULT_LOCAL_WEBHOOK_SECRET;
use unipile_connect::domain::{LinkPurpose, UserId};
use unipile_connect::http::{DEFAULT_WEBHOOK_HEADER, StateKey};

/// A credential and whether the stack should take it.
#[derive(Debug, Clone)]
pub struct Shown<T> {
    pub value: T,
    pub genuine: bool,
}

fn genuine<T>(value: T) -> Shown<T> {
    Shown {
        value,
        genuine: true,
    }
}

fn forged<T>(value: T) -> Shown<T> {
    Shown {
        value,
        genuine: false,
    }
}

/// A header's name and value, as sent.
pub type Header = (String, Vec<u8>);

pub struct Credentials {
    /// `Authorization` header values (`None`: no header).
    pub bearers: Vec<Shown<Option<Vec<u8>>>>,
    /// `Authorization` header values for the service routes: the service's tokens are
    /// genuine there, and a user's (refused, 403) is not; on a user's route, a service
    /// token is one of the forged `bearers`.
    pub service_bearers: Vec<Shown<Option<Vec<u8>>>>,
    /// `state` query values that are not genuine (`None`: no state).
    pub forged_states: Vec<Shown<Option<String>>>,
    /// The links a genuine state is signed for (user, purpose): each request gets a fresh
    /// one, so that each may spend its link.
    pub links: Vec<(UserId, LinkPurpose)>,
    pub state_key: StateKey,
    /// Webhook secret headers (`None`: no header).
    pub webhook_headers: Vec<Shown<Option<Header>>>,
    /// What no answer may ever contain.
    pub secrets: Vec<String>,
}

/// A token the stack mints at `/_local/token`, as a developer or the landing page gets one.
pub async fn mint(base_url: &str, query: &str) -> String {
    let minted: serde_json::Value = reqwest::get(format!("{base_url}/_local/token?{query}"))
        .await
        .expect("the stack mints tokens")
        .json()
        .await
        .expect("a JSON answer");
    minted["token"].as_str().expect("a token").to_owned()
}

impl Credentials {
    /// `users` hold the tokens the stack minted for them; `state_key` is the stack's;
    /// `links` are those genuine states are signed for.
    pub async fn gather(
        base_url: &str,
        users: &[(&str, String)],
        state_key: &StateKey,
        links: Vec<(UserId, LinkPurpose)>,
    ) -> Self {
        let mut bearers: Vec<Shown<Option<Vec<u8>>>> = users
            .iter()
            .map(|(_, token)| genuine(Some(format!("Bearer {token}").into_bytes())))
            .collect();
        let token = &users[0].1;
        let expired = mint(base_url, "sub=hostile-expired&expires_in=-3600").await;
        let other_secret = LocalAuthorizer::new("not-the-stack's-secret")
            .mint("hostile-ann", None, Duration::hours(1))
            .expect("mints");
        let odd = LocalAuthorizer::new(DEFAULT_LOCAL_JWT_SECRET);
        let odd_sub = |sub: &str| {
            odd.mint(sub, Some("odd@example.com"), Duration::hours(1))
                .expect("mints")
        };
        let parts: Vec<&str> = token.split('.').collect();
        let none_alg = format!(
            "{}.{}.",
            B64.encode(r#"{"alg":"none","typ":"JWT"}"#),
            parts[1]
        );
        let tampered = format!(
            "{}.{}.{}",
            parts[0],
            B64.encode(format!(
                r#"{{"sub":"hostile-bob","exp":{}}}"#,
                (Utc::now() + Duration::hours(1)).timestamp()
            )),
            parts[2]
        );
        let flipped = flip_one_character(token);
        for header in [
            None,
            Some(format!("Bearer {expired}")),
            Some(format!("Bearer {other_secret}")),
            Some(format!("Bearer {none_alg}")),
            Some(format!("Bearer {tampered}")),
            Some(format!("Bearer {flipped}")),
            Some(format!("Bearer {}", &token[..token.len() - 5])),
            Some(format!("Bearer {}", odd_sub(""))),
            Some(format!("Bearer {}", odd_sub("has space"))),
            Some(format!("Bearer {}", odd_sub("tab\there"))),
            Some(format!("Bearer {}", odd_sub(&"x".repeat(300)))),
            Some(format!("bearer {token}")),
            Some(format!("Bearer  {token}")),
            Some(token.clone()),
            Some("Basic aG9zdGlsZTpzZWNyZXQ=".to_owned()),
            Some("Bearer".to_owned()),
            Some("Bearer ".to_owned()),
            Some("Bearer not.a.jwt".to_owned()),
            Some(format!("Bearer {}", "A".repeat(8_000))),
        ] {
            bearers.push(forged(header.map(String::into_bytes)));
        }
        bearers.push(forged(Some(b"Bearer \xff\xfe".to_vec())));
        let service = mint(base_url, "service=1&client=hostile-backend").await;
        let expired_service = mint(base_url, "service=1&expires_in=-3600").await;
        let mut service_bearers: Vec<Shown<Option<Vec<u8>>>> =
            vec![genuine(Some(format!("Bearer {service}").into_bytes()))];
        service_bearers.extend(bearers.iter().map(|s| forged(s.value.clone())));
        service_bearers.push(forged(Some(
            format!("Bearer {expired_service}").into_bytes(),
        )));
        bearers.push(forged(Some(format!("Bearer {service}").into_bytes())));

        let now = Utc::now();
        let sign = |key: &StateKey, user: &str, purpose: &LinkPurpose, at| {
            key.sign(&UserId::parse(user).expect("user"), purpose, at)
                .expect("signs")
        };
        let create = LinkPurpose::Create;
        let later = now + Duration::minutes(30);
        let valid = sign(state_key, "hostile-ann", &create, later);
        let other_key = StateKey::new(vec![7u8; 32]).expect("key");
        let mut forged_states = Vec::new();
        for state in [
            None,
            Some(String::new()),
            Some(sign(
                state_key,
                "hostile-ann",
                &create,
                now - Duration::minutes(1),
            )),
            Some(sign(&other_key, "hostile-ann", &create, later)),
            Some(valid[..valid.len() - 4].to_owned()),
            Some(flip_one_character(&valid)),
            Some(valid.replacen("v2.", "v1.", 1)),
            Some(format!("{valid}.extra")),
            Some("v2..".to_owned()),
            Some("v2.e30.AAAA".to_owned()),
            Some("forged".to_owned()),
            Some("x".repeat(5_000)),
        ] {
            forged_states.push(forged(state));
        }

        let header = DEFAULT_WEBHOOK_HEADER.to_owned();
        let secret = DEFAULT_LOCAL_WEBHOOK_SECRET;
        let mut webhook_headers = vec![
            genuine(Some((header.clone(), secret.as_bytes().to_vec()))),
            genuine(Some((
                header.to_ascii_lowercase(),
                secret.as_bytes().to_vec(),
            ))),
        ];
        for shown in [
            None,
            Some((header.clone(), Vec::new())),
            Some((
                header.clone(),
                secret.as_bytes()[..secret.len() - 1].to_vec(),
            )),
            Some((header.clone(), format!("{secret}x").into_bytes())),
            Some((header.clone(), secret.to_ascii_uppercase().into_bytes())),
            Some((header.clone(), b"local-webhook-secre\xff".to_vec())),
            Some(("X-Unipile-Auth".to_owned(), secret.as_bytes().to_vec())),
            Some((header.clone(), "A".repeat(8_000).into_bytes())),
        ] {
            webhook_headers.push(forged(shown));
        }

        let mut secrets = vec![
            DEFAULT_LOCAL_JWT_SECRET.to_owned(),
            DEFAULT_LOCAL_WEBHOOK_SECRET.to_owned(),
            valid,
        ];
        secrets.extend(users.iter().map(|(_, token)| token.clone()));
        Self {
            bearers,
            service_bearers,
            forged_states,
            links,
            state_key: state_key.clone(),
            webhook_headers,
            secrets,
        }
    }

    /// A genuine state for `link`, valid for half an hour, with a nonce of its own.
    pub fn fresh_state(&self, link: &(UserId, LinkPurpose)) -> String {
        self.state_key
            .sign(&link.0, &link.1, Utc::now() + Duration::minutes(30))
            .expect("signs")
    }
}

/// `text` with one character in its middle changed.
fn flip_one_character(text: &str) -> String {
    let middle = text.len() / 2;
    let mut bytes = text.as_bytes().to_vec();
    bytes[middle] = if bytes[middle] == b'A' { b'B' } else { b'A' };
    String::from_utf8(bytes).expect("ASCII stays ASCII")
}
