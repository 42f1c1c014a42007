//! The reference Chrome extension (`extension/`) in a real browser: headless Chromium loads a
//! development build of it unpacked (written by `extension/build.mjs` for this walk's local
//! stack), a LinkedIn-shaped page served here (on www.linkedin.com, mapped to this machine)
//! sets the session cookies and holds the member id and profile id, and the local stack (in memory, with its
//! Unipile simulator) is the deployment. One walk, a screenshot per step under
//! `<target>/screenshots/extension-walk/`.

use axum::extract::State;
use axum::response::{Html, IntoResponse, Response};
use harness::browser::{PATIENCE, Screen, Story};
use serde_json::{Value, json};
use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex, OnceLock};
use std::time::{Duration, Instant};

fn extension_dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("../extension")
        .canonicalize()
        .expect("extension/ exists")
}

/// `node`, which the extension's build script and unit tests need; `None` (what needs it is
/// skipped) when it is missing and the browser stories are not required.
fn node() -> Option<PathBuf> {
    let found = std::env::split_paths(&std::env::var_os("PATH").unwrap_or_default())
        .map(|dir| dir.join("node"))
        .find(|candidate| candidate.is_file());
    if found.is_none() {
        assert!(
            std::env::var("BROWSER_REQUIRED").as_deref() != Ok("1"),
            "BROWSER_REQUIRED=1 but node is missing (apt-get install -y nodejs)"
        );
    }
    found
}

/// The development build this walk loads, as a team's developer makes one
/// (`node extension/build.mjs --development ...`): it trusts `api` origins with the cookie
/// and `app` origins' pages with a session, nothing else. Written under `<target>/`, never
/// into `extension/`.
fn development_build(node: &Path, api: &[&str], app: &[&str]) -> PathBuf {
    let out = harness::browser::target_dir().join("extension-walk");
    let mut command = std::process::Command::new(node);
    command
        .arg(extension_dir().join("build.mjs"))
        .arg("--development");
    for origin in api {
        command.args(["--api", origin]);
    }
    for origin in app {
        command.args(["--app", origin]);
    }
    let output = command.arg("--out").arg(&out).output().expect("node runs");
    assert!(
        output.status.success(),
        "the development build failed: {}",
        String::from_utf8_lossy(&output.stderr)
    );
    out
}

/// What a [`Recorder`] saw of one request: never a cookie's value, only whether one came.
#[derive(Debug, Clone)]
struct Seen {
    method: String,
    path: String,
    carried_li_at: bool,
    member: Option<String>,
    profile: Option<String>,
}

/// A server on a port of its own that records every request it gets. Without an upstream it
/// is a trap: an API no build trusts, which must see nothing. With one it is a gateway: a
/// second API origin the walk's build trusts, in front of the stack, showing what the
/// extension's sync body carries.
#[derive(Clone, Default)]
struct Recorder {
    seen: Arc<Mutex<Vec<Seen>>>,
    upstream: Arc<OnceLock<String>>,
    http: reqwest::Client,
}

impl Recorder {
    /// Listens on a free port: the recorder and its origin (`http://127.0.0.1:PORT`).
    async fn start() -> (Self, String) {
        let recorder = Self::default();
        let app = axum::Router::new()
            .fallback(record)
            .with_state(recorder.clone());
        let listener = tokio::net::TcpListener::bind(("127.0.0.1", 0))
            .await
            .expect("a port");
        let origin = format!("http://{}", listener.local_addr().expect("address"));
        tokio::spawn(async move {
            let _ = axum::serve(listener, app).await;
        });
        (recorder, origin)
    }

    /// Forwards every request to `base` (the local stack) from now on.
    fn forward_to(&self, base: &str) {
        let _ = self.upstream.set(base.to_owned());
    }

    fn seen(&self) -> Vec<Seen> {
        self.seen.lock().expect("seen").clone()
    }

    /// The cookie syncs it saw.
    fn syncs(&self) -> Vec<Seen> {
        self.seen()
            .into_iter()
            .filter(|s| s.method == "POST" && s.path == "/extension/cookies")
            .collect()
    }

    /// The cookie syncs it saw, once it saw one.
    async fn syncs_once_one_came(&self) -> Vec<Seen> {
        let started = Instant::now();
        loop {
            let syncs = self.syncs();
            if !syncs.is_empty() {
                return syncs;
            }
            assert!(
                started.elapsed() < PATIENCE,
                "no sync came through the gateway"
            );
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    }
}

async fn record(State(recorder): State<Recorder>, request: axum::extract::Request) -> Response {
    let (parts, body) = request.into_parts();
    let bytes = axum::body::to_bytes(body, 1 << 20)
        .await
        .unwrap_or_default();
    let json: Value = serde_json::from_slice(&bytes).unwrap_or(Value::Null);
    let field = |name: &str| json.get(name).and_then(Value::as_str).map(str::to_owned);
    recorder.seen.lock().expect("seen").push(Seen {
        method: parts.method.to_string(),
        path: parts.uri.path().to_owned(),
        carried_li_at: json.get("li_at").is_some(),
        member: field("linkedin_member_id"),
        profile: field("linkedin_profile_id"),
    });
    let Some(upstream) = recorder.upstream.get() else {
        return (http::StatusCode::NOT_FOUND, "recorded").into_response();
    };
    let target = format!(
        "{upstream}{}",
        parts.uri.path_and_query().map_or("/", |p| p.as_str())
    );
    let mut forwarded = recorder.http.request(parts.method.clone(), target);
    for name in [
        http::header::AUTHORIZATION,
        http::header::CONTENT_TYPE,
        http::header::ACCEPT,
    ] {
        if let Some(value) = parts.headers.get(&name) {
            forwarded = forwarded.header(name, value);
        }
    }
    match forwarded.body(bytes).send().await {
        Ok(answer) => {
            let status = answer.status();
            let content_type = answer.headers().get(http::header::CONTENT_TYPE).cloned();
            let body = answer.bytes().await.unwrap_or_default();
            let mut response = (status, body).into_response();
            if let Some(content_type) = content_type {
                response
                    .headers_mut()
                    .insert(http::header::CONTENT_TYPE, content_type);
            }
            response
        }
        Err(_) => http::StatusCode::BAD_GATEWAY.into_response(),
    }
}

/// Another site, on a port of its own: a page the extension's build does not name. Its own
/// script tries to hand the extension a session (the token from the page's fragment) naming
/// the site's own API, `api`, and says on the page what came of it (`#outcome`, its reason in
/// `data-reason`): "unavailable" when the page cannot reach the extension at all.
async fn serve_another_site(extension_id: String, api: String) -> String {
    let page = format!(
        "<!doctype html><html><head><title>Another site</title>\
         <style>body {{ font: 1rem/1.45 system-ui, sans-serif; margin: 2rem; max-width: 44rem; }}</style>\
         </head><body><h1>Another site</h1>\
         <p>This page is on an origin the LinkedIn sync extension's build does not name. Its \
         script asks the extension to take the signed-in user's session and send the LinkedIn \
         cookie to this site's own API, <code>{api}</code>.</p>\
         <p id=\"outcome\" role=\"status\">Asking the extension…</p>\
         <script>\
         const outcome = document.getElementById('outcome');\
         const say = (reason, words) => {{ outcome.dataset.reason = reason; outcome.textContent = words; }};\
         if (!globalThis.chrome || !chrome.runtime || !chrome.runtime.sendMessage) {{\
           say('unavailable', 'Refused: the browser gives this page no way to reach the extension, so no cookie can come here.');\
         }} else {{\
           chrome.runtime.sendMessage({id:?}, \
             {{type: 'unipile-connect/session', token: location.hash.slice(1), api_base: {api:?}}}, \
             (reply) => chrome.runtime.lastError \
               ? say('error', 'The browser said: ' + chrome.runtime.lastError.message) \
               : say(reply && reply.ok ? 'accepted' : String(reply && reply.reason), \
                     'The extension answered: ' + JSON.stringify(reply)));\
         }}\
         </script></body></html>",
        id = extension_id,
    );
    let app = axum::Router::new().route(
        "/",
        axum::routing::get(move || {
            let page = page.clone();
            async move { Html(page) }
        }),
    );
    let listener = tokio::net::TcpListener::bind(("127.0.0.1", 0))
        .await
        .expect("a port");
    let origin = format!("http://{}", listener.local_addr().expect("address"));
    tokio::spawn(async move {
        let _ = axum::serve(listener, app).await;
    });
    origin
}

/// What a page runs to hand the extension a session naming `api_base`: the extension's
/// reply, "unavailable" when the page cannot reach the extension at all, or the browser's
/// error.
const OFFER_SESSION: &str = "const [id, token, api] = arguments; \
     if (!globalThis.chrome || !chrome.runtime || !chrome.runtime.sendMessage) return 'unavailable'; \
     return new Promise((done) => chrome.runtime.sendMessage(id, \
       {type: 'unipile-connect/session', token, api_base: api}, \
       (reply) => done(chrome.runtime.lastError ? 'error: ' + chrome.runtime.lastError.message : reply)));";

fn extension_id() -> String {
    std::fs::read_to_string(extension_dir().join("extension-id.txt"))
        .expect("extension/extension-id.txt")
        .trim()
        .to_owned()
}

/// Who is signed in to the LinkedIn-shaped page, and with which cookie.
#[derive(Clone)]
struct LinkedinSession {
    member: String,
    li_at: String,
}

type Linkedin = Arc<Mutex<LinkedinSession>>;

/// The member's profile id as LinkedIn's pages and Unipile's Account show it (`ACoAA…`).
fn profile_of(member: &str) -> String {
    format!("ACoAAB{member}x-Yz_Q")
}

/// Text as HTML holds it, as LinkedIn embeds its JSON in `<code>` elements.
fn escaped(text: &str) -> String {
    text.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
}

/// The page a signed-in LinkedIn member loads: the session cookies, and in the page's
/// embedded JSON, where LinkedIn puts them, the member id (`plainId` of the "Me" document)
/// and the member's profile (`urn:li:fsd_profile:ACoAA…`), after another person's profile
/// from the feed.
async fn feed(State(session): State<Linkedin>) -> Response {
    let session = session.lock().expect("session").clone();
    let member = &session.member;
    let profile = profile_of(member);
    let someone_else = json!({
        "data": {"$type": "com.linkedin.voyager.feed.Update"},
        "included": [{
            "dashEntityUrn": "urn:li:fsd_profile:ACoAAOther-author",
            "objectUrn": "urn:li:member:999",
        }],
    });
    let me = json!({
        "data": {
            "$type": "com.linkedin.voyager.common.Me",
            "plainId": member.parse::<u64>().expect("a numeric member id"),
            "*miniProfile": format!("urn:li:fs_miniProfile:{profile}"),
        },
        "included": [{
            "$type": "com.linkedin.voyager.identity.shared.MiniProfile",
            "dashEntityUrn": format!("urn:li:fsd_profile:{profile}"),
            "entityUrn": format!("urn:li:fs_miniProfile:{profile}"),
            "objectUrn": format!("urn:li:member:{member}"),
            "publicIdentifier": format!("member-{member}"),
        }],
    });
    let page = format!(
        "<!doctype html><html><head><title>Feed | LinkedIn</title></head><body>\
         <h1>LinkedIn (test page)</h1>\
         <code style=\"display:none\" id=\"bpr-guid-1\">{someone_else}</code>\
         <code style=\"display:none\" id=\"bpr-guid-2\">{me}</code>\
         <code style=\"display:none\" id=\"bpr-guid-3\">not json</code>\
         </body></html>",
        someone_else = escaped(&someone_else.to_string()),
        me = escaped(&me.to_string()),
    );
    (
        // Appended, not inserted: both cookies.
        axum::response::AppendHeaders([
            (
                http::header::SET_COOKIE,
                format!(
                    "li_at={}; Domain=.linkedin.com; Path=/; HttpOnly",
                    session.li_at
                ),
            ),
            (
                http::header::SET_COOKIE,
                "li_a=AQJ2-premium; Domain=.linkedin.com; Path=/; HttpOnly".to_owned(),
            ),
        ]),
        Html(page),
    )
        .into_response()
}

/// The LinkedIn-shaped page on a free port; Chromium reaches it as www.linkedin.com.
async fn serve_linkedin(session: Linkedin) -> u16 {
    let app = axum::Router::new()
        .route("/feed/", axum::routing::get(feed))
        .with_state(session);
    let listener = tokio::net::TcpListener::bind(("127.0.0.1", 0))
        .await
        .expect("a port");
    let port = listener.local_addr().expect("address").port();
    tokio::spawn(async move {
        let _ = axum::serve(listener, app).await;
    });
    port
}

struct Walk {
    story: Story,
    linkedin: Linkedin,
    popup: String,
    /// A token of the demo user, for asking the API what the user would see.
    token: String,
}

impl Walk {
    /// Signs in to the LinkedIn-shaped page as `member` with `li_at`: the content script reads
    /// the member id, the next sync sends that cookie.
    async fn linkedin_as(&self, member: &str, li_at: &str) {
        *self.linkedin.lock().expect("session") = LinkedinSession {
            member: member.to_owned(),
            li_at: li_at.to_owned(),
        };
        let url = "http://www.linkedin.com/feed/";
        self.story.browser.goto(url).await.expect("LinkedIn opens");
        self.story
            .eventually(
                "the LinkedIn page",
                "return document.readyState === 'complete' && document.title.includes('LinkedIn');",
                vec![],
            )
            .await;
        self.open_popup().await;
        self.story
            .eventually(
                &format!("the popup to show member {member}"),
                "const m = document.getElementById('member'); return m && m.textContent.includes(arguments[0]);",
                vec![json!(member)],
            )
            .await;
    }

    /// Opens the app's landing page (signed in in this tab), and waits until the page has
    /// lent the extension its session (its own handshake, which names the stack's API) and
    /// says so: a handshake the walk sends next comes after it, not before.
    async fn open_app(&self) {
        self.story.open("/").await;
        self.story
            .eventually(
                "the page to lend the extension its session",
                "const s = document.getElementById('extension-status'); \
                 return s && !s.hidden && s.dataset.state === 'connected';",
                vec![],
            )
            .await;
    }

    async fn open_popup(&self) {
        self.story
            .browser
            .goto(&self.popup)
            .await
            .expect("the popup opens as a page");
    }

    /// The popup's state (`data-state` of `#state`), once it is one of `states`.
    async fn popup_state(&self, states: &[&str]) -> String {
        self.story
            .eventually(
                &format!("the popup to say one of {states:?}"),
                "const s = document.getElementById('state'); \
                 return s && arguments[0].includes(s.dataset.state) ? s.dataset.state : null;",
                vec![json!(states)],
            )
            .await
            .as_str()
            .unwrap_or_default()
            .to_owned()
    }

    async fn click(&self, css: &str) {
        self.story
            .on_page(css)
            .await
            .click()
            .await
            .expect("clicked");
    }

    /// "Sync now" in the popup, and the state it ends in.
    async fn sync_now(&self, expected: &[&str]) -> String {
        self.open_popup().await;
        self.click("#sync-now").await;
        self.popup_state(expected).await
    }

    /// The list `field` of what `GET path` answers the demo user.
    async fn listed(&self, path: &str, field: &str) -> Vec<Value> {
        let answer: Value = self
            .story
            .http
            .get(self.story.url(path))
            .bearer_auth(&self.token)
            .send()
            .await
            .expect("the API answers")
            .json()
            .await
            .expect("JSON");
        answer[field].as_array().cloned().unwrap_or_default()
    }

    /// The demo user's accounts as the API lists them.
    async fn accounts(&self) -> Vec<Value> {
        self.listed("/accounts", "accounts").await
    }

    /// The demo user's accounts, once there are `count` of them.
    async fn accounts_settle(&self, count: usize) -> Vec<Value> {
        let started = Instant::now();
        loop {
            let accounts = self.accounts().await;
            if accounts.len() == count {
                return accounts;
            }
            if started.elapsed() > PATIENCE {
                self.story.shot("timed-out").await;
                panic!("expected {count} accounts, the API lists {accounts:?}");
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    }

    /// The demo user's LinkedIn identities as the extension's API lists them.
    async fn identities(&self) -> Vec<Value> {
        self.listed("/extension/identities", "identities").await
    }

    async fn simulator(&self, path: &str, body: Value) {
        let answer = self
            .story
            .http
            .post(self.story.url(path))
            .json(&body)
            .send()
            .await
            .expect("the simulator answers");
        assert!(answer.status().is_success(), "{path}: {}", answer.status());
    }
}

/// A token of the local stack's demo user; `extra` adds to the query (`&expires_in=-3600`).
async fn demo_token(story: &Story, extra: &str) -> String {
    let answer: Value = story
        .http
        .get(story.url(&format!(
            "/_local/token?sub=demo-user&email=demo%40example.com{extra}"
        )))
        .send()
        .await
        .expect("a token")
        .json()
        .await
        .expect("JSON");
    answer["token"].as_str().expect("token").to_owned()
}

fn account_of<'a>(accounts: &'a [Value], id: &str) -> &'a Value {
    accounts
        .iter()
        .find(|a| a["account_id"] == id)
        .unwrap_or_else(|| panic!("no account {id} in {accounts:?}"))
}

#[tokio::test]
async fn the_extension_connects_switches_reconnects_solves_a_checkpoint_pauses_and_stops() {
    let linkedin = Arc::new(Mutex::new(LinkedinSession {
        member: "111".into(),
        li_at: "AQEDAR-member-111-first".into(),
    }));
    let linkedin_port = serve_linkedin(linkedin.clone()).await;
    let Some(node) = node() else {
        return;
    };
    // A trap: an API on another local port that no build trusts. It records any request.
    let (trap, trap_origin) = Recorder::start().await;
    // A second API origin the walk's build does trust: a gateway in front of the stack.
    let (gateway, gateway_origin) = Recorder::start().await;
    let another_site = serve_another_site(extension_id(), trap_origin.clone()).await;
    // The same stack under another name, which the build names as an app's page but not as
    // an API: its landing page (whose handshake names its own origin as the API) is refused.
    let app_only: OnceLock<String> = OnceLock::new();
    // No throttle between logins: the walk's steps follow each other within seconds.
    let env = HashMap::from([("CONNECT_THROTTLE_SECONDS".to_owned(), "0".to_owned())]);
    let browser_args = |stack: &local_stack::stack::LocalStack| {
        gateway.forward_to(&stack.base_url);
        let by_name = stack.base_url.replace("127.0.0.1", "localhost");
        let _ = app_only.set(by_name.clone());
        // The build trusts the stack's origin (its page and its API) and the gateway's API,
        // and the stack by name as an app's page only.
        let dir = development_build(
            &node,
            &[&stack.base_url, &gateway_origin],
            &[&stack.base_url, &by_name],
        );
        vec![
            format!("--disable-extensions-except={}", dir.display()),
            format!("--load-extension={}", dir.display()),
            // www.linkedin.com is the test page, on its default port: Chromium binds cookies to
            // the port that set them, and the extension reads LinkedIn's.
            format!("--host-resolver-rules=MAP www.linkedin.com 127.0.0.1:{linkedin_port}"),
            // The test page is plain http: Chromium would try https first and fail.
            "--disable-features=HttpsUpgrades,HttpsFirstBalancedModeAutoEnable".to_owned(),
        ]
    };
    let Some(story) = Story::begin_with("extension-walk", Screen::Desktop, env, browser_args).await
    else {
        return;
    };
    let token = demo_token(&story, "").await;
    let walk = Walk {
        popup: format!("chrome-extension://{}/popup.html", extension_id()),
        token,
        story,
        linkedin,
    };

    // The user is signed in to LinkedIn, then to the app, whose page hands the extension
    // their session (the token is never typed into the extension).
    walk.linkedin_as("111", "AQEDAR-member-111-first").await;
    walk.story.open("/").await;
    walk.story.sign_in_as_demo_user().await;
    walk.story
        .eventually(
            "the page to say the extension has the session",
            "const s = document.getElementById('extension-status'); return s && !s.hidden && s.textContent.length > 0;",
            vec![],
        )
        .await;

    // 0. Nobody else gets the cookie. A page of another site cannot even reach the extension
    //    (its build names the app's origin only), so it cannot point it at an API of its own;
    //    and the app's own page cannot point it at an API the build does not name, here a
    //    server on another local port.
    walk.story
        .browser
        .goto(&format!("{another_site}/#{}", walk.token))
        .await
        .expect("the other site opens");
    let from_elsewhere = walk
        .story
        .eventually(
            "the other site to say what came of its attempt",
            "return document.getElementById('outcome').dataset.reason;",
            vec![],
        )
        .await;
    assert_eq!(from_elsewhere, json!("unavailable"), "{from_elsewhere}");
    walk.story
        .shot("another-site-cannot-reach-the-extension")
        .await;
    walk.open_app().await;
    let to_elsewhere = walk
        .story
        .browser
        .execute(
            OFFER_SESSION,
            vec![json!(extension_id()), json!(walk.token), json!(trap_origin)],
        )
        .await
        .expect("the handshake answers");
    assert_eq!(to_elsewhere["ok"], false, "{to_elsewhere}");
    assert_eq!(
        to_elsewhere["reason"], "api-not-permitted",
        "{to_elsewhere}"
    );

    //    An app page the build names whose API it does not (the stack by another name): the
    //    landing page's own handshake is refused, and the page says so in plain words rather
    //    than nothing.
    let app_only = app_only.get().expect("the build was made").clone();
    walk.story
        .browser
        .goto(&format!("{app_only}/"))
        .await
        .expect("the landing page opens by name");
    walk.story.sign_in_as_demo_user().await;
    let refused = walk
        .story
        .eventually(
            "the page to say the extension is not set up for it",
            "const s = document.getElementById('extension-status'); \
             return s && !s.hidden && s.dataset.state === 'not-set-up' \
               ? {text: s.textContent, role: s.getAttribute('role')} : null;",
            vec![],
        )
        .await;
    assert_eq!(
        refused,
        json!({
            "text": "The LinkedIn sync extension in this browser is not set up for this app.",
            "role": "status",
        })
    );
    walk.story
        .shot("landing-page-says-the-extension-is-not-set-up-for-it")
        .await;

    //    A session naming an API the build does not name is no session, however it came to
    //    be stored (here written into the extension's own storage, as session.js keeps it):
    //    "Sync now" sends nothing and the popup says the user is signed out.
    walk.open_popup().await;
    let planted = walk
        .story
        .browser
        .execute(
            "return chrome.storage.session \
               .set({session: {token: arguments[0], apiBase: arguments[1]}}) \
               .then(() => chrome.storage.session.get('session')) \
               .then((stored) => stored.session.apiBase);",
            vec![json!(walk.token), json!(trap_origin)],
        )
        .await
        .expect("the session is written");
    assert_eq!(planted, json!(trap_origin));
    walk.click("#sync-now").await;
    // What a sync with that session would end in (a call the trap refuses: waiting to
    // retry), or what no session ends in.
    let after = walk.popup_state(&["signed-out", "retrying", "error"]).await;
    assert!(trap.seen().is_empty(), "the trap saw {:?}", trap.seen());
    assert_eq!(after, "signed-out");
    walk.story
        .shot("a-stored-session-naming-another-api-is-none")
        .await;

    // 1. The first sync connects an account with the cookie, through the stack's API only.
    walk.open_app().await;
    assert_eq!(walk.sync_now(&["connected"]).await, "connected");
    walk.story.shot("first-sync-connected").await;
    let accounts = walk.accounts_settle(1).await;
    let first = accounts[0]["account_id"].as_str().expect("id").to_owned();
    assert_eq!(accounts[0]["status"], "OK");
    assert!(trap.seen().is_empty(), "the trap saw {:?}", trap.seen());

    //    A second API origin the build names works too: the app's page hands over a session
    //    on it (a gateway in front of the stack), and the next sync goes there, then back.
    //    What the gateway sees is the sync's body: beside the member id, the member's
    //    profile id as Unipile shows it (the bare ACoAA… id, not the page's urn, and not the
    //    other person's on the page). The page's own handshake comes first, so that it
    //    cannot replace the gateway's session.
    walk.open_app().await;
    let to_gateway = walk
        .story
        .browser
        .execute(
            OFFER_SESSION,
            vec![
                json!(extension_id()),
                json!(walk.token),
                json!(gateway_origin),
            ],
        )
        .await
        .expect("the handshake answers");
    assert_eq!(to_gateway["ok"], true, "{to_gateway}");
    // The new session syncs at once.
    let through_gateway = gateway.syncs_once_one_came().await;
    assert!(through_gateway[0].carried_li_at);
    assert_eq!(through_gateway[0].member.as_deref(), Some("111"));
    assert_eq!(
        through_gateway[0].profile.as_deref(),
        Some(profile_of("111").as_str())
    );
    assert_eq!(walk.sync_now(&["connected"]).await, "connected");
    walk.open_app().await;

    // 2. Switching to another LinkedIn member connects a second account.
    walk.linkedin_as("222", "AQEDAR-member-222-first").await;
    assert_eq!(walk.sync_now(&["connected"]).await, "connected");
    walk.story.shot("second-member-connected").await;
    let accounts = walk.accounts_settle(2).await;
    let second = accounts
        .iter()
        .map(|a| a["account_id"].as_str().expect("id").to_owned())
        .find(|id| *id != first)
        .expect("a second account");

    // 3. Unipile says CREDENTIALS; the next sync brings a fresh cookie and reconnects it
    //    without the user.
    walk.story.unipile_reports(&second, "CREDENTIALS").await;
    assert_eq!(
        account_of(&walk.accounts().await, &second)["status"],
        "CREDENTIALS"
    );
    walk.linkedin_as("222", "AQEDAR-member-222-fresh").await;
    assert_eq!(walk.sync_now(&["connected"]).await, "connected");
    walk.story.shot("fresh-cookie-reconnected").await;
    assert_eq!(account_of(&walk.accounts().await, &second)["status"], "OK");

    // 4. A third member's sign-in stops at a 2FA checkpoint; the popup asks for the code.
    walk.simulator(
        "/_sim/cookie-outcomes",
        json!({"outcomes": ["checkpoint:2FA:424242"]}),
    )
    .await;
    walk.linkedin_as("333", "AQEDAR-member-333-first").await;
    assert_eq!(
        walk.sync_now(&["needs-verification"]).await,
        "needs-verification"
    );
    walk.story.on_page("#checkpoint-form").await;
    walk.story.shot("checkpoint-asks-for-the-code").await;
    walk.story
        .on_page("#checkpoint-code")
        .await
        .send_keys("111111")
        .await
        .expect("typed");
    walk.click("#checkpoint-submit").await;
    walk.story
        .eventually(
            "the popup to say the code was refused",
            "const m = document.getElementById('checkpoint-message'); return m && m.textContent.length > 0 ? m.textContent : null;",
            vec![],
        )
        .await;
    walk.story.shot("checkpoint-wrong-code").await;
    let code = walk.story.on_page("#checkpoint-code").await;
    code.clear().await.expect("cleared");
    code.send_keys("424242").await.expect("typed");
    walk.click("#checkpoint-submit").await;
    assert_eq!(walk.popup_state(&["connected"]).await, "connected");
    walk.story.shot("checkpoint-solved").await;
    let accounts = walk.accounts_settle(3).await;
    let third = accounts
        .iter()
        .map(|a| a["account_id"].as_str().expect("id").to_owned())
        .find(|id| *id != first && *id != second)
        .expect("a third account");

    // 5. The user disconnects that account on the landing page: the extension's next sync
    //    connects nothing and the popup says the member is paused, until the user turns it
    //    back on there.
    walk.story.open("/").await;
    walk.story
        .click_in_component(&format!(
            "li.account[data-account-id='{third}'] button.disconnect"
        ))
        .await;
    walk.story
        .click_in_component("dialog button[value=disconnect]")
        .await;
    walk.accounts_settle(2).await;
    assert_eq!(walk.sync_now(&["paused"]).await, "paused");
    walk.story.shot("disconnected-member-paused").await;
    assert_eq!(walk.accounts().await.len(), 2, "nothing connected");
    let paused = walk.identities().await;
    let member = paused
        .iter()
        .find(|i| i["linkedin_member_id"] == "333")
        .expect("member 333 listed");
    assert_eq!(member["paused"], true, "the pause shows through the API");
    walk.click("#resume").await;
    assert_eq!(walk.popup_state(&["connected"]).await, "connected");
    walk.story.shot("turned-back-on").await;
    walk.accounts_settle(3).await;

    // 6. The app's session ends while the extension holds it (the app handed over a token
    //    that has since expired): the next sync is refused, the popup says so, and no more
    //    syncs are scheduled.
    let expired = demo_token(&walk.story, "&expires_in=-3600").await;
    walk.open_app().await;
    let handed = walk
        .story
        .browser
        .execute(
            "return new Promise((done) => chrome.runtime.sendMessage(arguments[0], \
             {type: 'unipile-connect/session', token: arguments[1], api_base: location.origin}, done));",
            vec![
                json!(extension_id()),
                json!(expired),
            ],
        )
        .await
        .expect("the handshake answers");
    assert_eq!(handed["ok"], true, "{handed}");
    assert_eq!(walk.sync_now(&["signed-out"]).await, "signed-out");
    walk.story.shot("session-ended-syncs-stop").await;
    let alarms = walk
        .story
        .browser
        .execute(
            "return chrome.alarms.getAll().then((all) => all.map((a) => a.name));",
            vec![],
        )
        .await
        .expect("alarms listed");
    assert_eq!(alarms, json!([]), "no sync left scheduled");

    // Through the whole walk, the API no build names never heard from the extension; the
    // gateway heard only while it held the session (member 111's syncs, before the switch).
    assert!(trap.seen().is_empty(), "the trap saw {:?}", trap.seen());
    let through_gateway = gateway.syncs();
    assert!(
        through_gateway
            .iter()
            .all(|sync| sync.member.as_deref() == Some("111")),
        "{through_gateway:?}"
    );

    walk.story.end().await;
}

/// The extension's own unit tests (`extension/tests/`, plain `node:test`): the back-off, the
/// messages it accepts, the origins it trusts (and the service worker's handshake on a fake
/// browser), its builds, the states, the popup's words, the member id found in page JSON and
/// the API calls. Needs `node` (`.ci/run` installs it); required where the browser is.
#[test]
fn the_extensions_own_unit_tests_pass() {
    let Some(node) = node() else {
        return;
    };
    let output = std::process::Command::new(node)
        .args(["--test", "tests/"])
        .current_dir(extension_dir())
        .output()
        .expect("node runs");
    let report = String::from_utf8_lossy(&output.stdout);
    assert!(
        output.status.success(),
        "{report}{}",
        String::from_utf8_lossy(&output.stderr)
    );
    assert!(report.contains("# fail 0"), "{report}");
}
