//! The landing page and its `<unipile-accounts>` element in a real browser: headless
//! Chromium driven over WebDriver (chromedriver), against the local stack in memory with its
//! Unipile simulator. Each story saves a screenshot per step under
//! `<target>/screenshots/<story>/`.
//!
//! Needs `chromium` and `chromedriver` (Debian: `apt-get install chromium chromium-driver`;
//! `.ci/run` installs them). Without them the stories are skipped with a message, unless
//! `BROWSER_REQUIRED=1` (set by `scripts/test.sh`), which makes that a failure.

use fantoccini::actions::{InputSource, KeyAction, KeyActions};
use fantoccini::elements::Element;
use fantoccini::key::Key;
use fantoccini::{Client, ClientBuilder, Locator};
use local_stack::stack::{DEMO_EMAIL, LocalStack};
use serde_json::{Value, json};
use std::collections::HashMap;
use std::os::unix::process::CommandExt;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

/// One browser at a time: the stories share two cores with everything else.
static ONE_BROWSER: tokio::sync::Mutex<()> = tokio::sync::Mutex::const_new(());

const PATIENCE: Duration = Duration::from_secs(10);

struct Tools {
    chromium: PathBuf,
    chromedriver: PathBuf,
}

fn find_program(env: &str, names: &[&str]) -> Option<PathBuf> {
    if let Some(path) = std::env::var_os(env) {
        return Some(PathBuf::from(path)).filter(|p| p.is_file());
    }
    let path = std::env::var_os("PATH").unwrap_or_default();
    names.iter().find_map(|name| {
        std::env::split_paths(&path)
            .map(|dir| dir.join(name))
            .find(|candidate| candidate.is_file())
    })
}

/// The browser and its driver, or `None` (the story is skipped) when they are missing and
/// not required.
fn tools() -> Option<Tools> {
    let chromium = find_program(
        "CHROMIUM",
        &["chromium", "chromium-browser", "google-chrome"],
    );
    let chromedriver = find_program("CHROMEDRIVER", &["chromedriver"]);
    match (chromium, chromedriver) {
        (Some(chromium), Some(chromedriver)) => Some(Tools {
            chromium,
            chromedriver,
        }),
        (chromium, chromedriver) => {
            let missing: Vec<&str> = [
                chromium.is_none().then_some("chromium"),
                chromedriver.is_none().then_some("chromedriver"),
            ]
            .into_iter()
            .flatten()
            .collect();
            let reason = format!(
                "{} missing (apt-get install -y chromium chromium-driver, \
                 or set CHROMIUM / CHROMEDRIVER)",
                missing.join(" and ")
            );
            assert!(
                std::env::var("BROWSER_REQUIRED").as_deref() != Ok("1"),
                "BROWSER_REQUIRED=1 but {reason}"
            );
            // Straight to stderr, once: the test harness would swallow eprintln! of a
            // passing test, and a skip nobody sees is a silent gap.
            static SAID: std::sync::Once = std::sync::Once::new();
            SAID.call_once(|| {
                use std::io::Write;
                let _ = writeln!(std::io::stderr(), "browser stories skipped: {reason}");
            });
            None
        }
    }
}

fn free_port() -> u16 {
    std::net::TcpListener::bind(("127.0.0.1", 0))
        .and_then(|listener| listener.local_addr())
        .map(|address| address.port())
        .expect("a free port")
}

/// The build's target folder, from this test binary's own path (`<target>/debug/deps/…`), so
/// screenshots land beside the build whether `CARGO_TARGET_DIR` is set or not.
fn target_dir() -> PathBuf {
    let exe = std::env::current_exe().expect("test binary path");
    exe.ancestors()
        .nth(3)
        .map(Path::to_path_buf)
        .expect("target folder")
}

/// chromedriver, the browser it starts and the browser's profile; all go when the story ends.
struct Driver {
    child: Child,
    profile: PathBuf,
}

impl Drop for Driver {
    fn drop(&mut self) {
        // chromedriver leads its own process group, which its browser joins: a story that
        // failed before closing its session would otherwise leave the browser running.
        let _ = Command::new("kill")
            .args(["-TERM", "--", &format!("-{}", self.child.id())])
            .stderr(Stdio::null())
            .status();
        let _ = self.child.kill();
        let _ = self.child.wait();
        let _ = std::fs::remove_dir_all(&self.profile);
    }
}

static PROFILES: AtomicUsize = AtomicUsize::new(0);

#[derive(Clone, Copy)]
enum Screen {
    Desktop,
    /// A small phone, 360 CSS pixels wide.
    Phone,
}

/// One story: a fresh local stack, a fresh browser, and numbered screenshots.
struct Story {
    browser: Client,
    stack: LocalStack,
    http: reqwest::Client,
    shots: PathBuf,
    step: AtomicUsize,
    _driver: Driver,
    _one_browser: tokio::sync::MutexGuard<'static, ()>,
}

impl Story {
    async fn begin(name: &str, screen: Screen) -> Option<Self> {
        let tools = tools()?;
        let one_browser = ONE_BROWSER.lock().await;
        let stack = LocalStack::start(0, HashMap::new())
            .await
            .expect("local stack starts");

        let port = free_port();
        let profile = std::env::temp_dir().join(format!(
            "unipile-browser-{}-{}",
            std::process::id(),
            PROFILES.fetch_add(1, Ordering::SeqCst)
        ));
        std::fs::create_dir_all(&profile).expect("profile folder");
        let child = Command::new(&tools.chromedriver)
            .arg(format!("--port={port}"))
            .process_group(0)
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("chromedriver starts");
        let driver = Driver { child, profile };

        let mut chrome_options = json!({
                "binary": tools.chromium,
                "args": [
                    "--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage",
                    "--disable-background-networking", "--disable-component-update",
                    "--disable-sync", "--no-first-run", "--lang=en-US",
                    "--hide-scrollbars",
                    "--window-size=1100,900",
                    format!("--user-data-dir={}", driver.profile.display()),
                ],
        });
        if let Screen::Phone = screen {
            // A window cannot be made narrower than about 500 px; a phone's viewport can.
            chrome_options["mobileEmulation"] = json!({
                "deviceMetrics": {"width": 360, "height": 760, "pixelRatio": 2, "mobile": true, "touch": true}
            });
        }
        let mut capabilities = serde_json::Map::new();
        capabilities.insert("goog:chromeOptions".into(), chrome_options);
        let webdriver = format!("http://127.0.0.1:{port}");
        let started = Instant::now();
        let browser = loop {
            // chromedriver takes a moment to listen; a refused connection means "not yet".
            match ClientBuilder::rustls()
                .expect("TLS roots")
                .capabilities(capabilities.clone())
                .connect(&webdriver)
                .await
            {
                Ok(client) => break client,
                Err(error) if started.elapsed() < PATIENCE => {
                    let _ = error;
                    tokio::time::sleep(Duration::from_millis(100)).await;
                }
                Err(error) => panic!("no browser session from chromedriver: {error}"),
            }
        };

        let shots = target_dir().join("screenshots").join(name);
        let _ = std::fs::remove_dir_all(&shots);
        std::fs::create_dir_all(&shots).expect("screenshot folder");
        Some(Self {
            browser,
            stack,
            http: reqwest::Client::new(),
            shots,
            step: AtomicUsize::new(0),
            _driver: driver,
            _one_browser: one_browser,
        })
    }

    async fn end(self) {
        let _ = self.browser.clone().close().await;
    }

    fn url(&self, path: &str) -> String {
        format!("{}{path}", self.stack.base_url)
    }

    async fn open(&self, path: &str) {
        self.browser
            .goto(&self.url(path))
            .await
            .expect("page opens");
    }

    async fn shot(&self, step: &str) {
        let number = self.step.fetch_add(1, Ordering::SeqCst) + 1;
        let png = self.browser.screenshot().await.expect("screenshot");
        let file = self.shots.join(format!("{number:02}-{step}.png"));
        std::fs::write(&file, png).expect("screenshot saved");
    }

    /// Runs `script` until it returns something truthy; on time-out, a screenshot of the
    /// moment and a failure naming what was awaited.
    async fn eventually(&self, what: &str, script: &str, args: Vec<Value>) -> Value {
        let started = Instant::now();
        let mut last = Value::Null;
        while started.elapsed() < PATIENCE {
            last = self
                .browser
                .execute(script, args.clone())
                .await
                .unwrap_or(Value::Null);
            let truthy = match &last {
                Value::Null => false,
                Value::Bool(b) => *b,
                Value::String(s) => !s.is_empty(),
                _ => true,
            };
            if truthy {
                return last;
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        self.shot("timed-out").await;
        panic!("timed out waiting for {what}; last answer: {last}");
    }

    /// The text of the first match of `css` inside the element's shadow root, once it
    /// contains `expected`.
    async fn component_says(&self, css: &str, expected: &str) -> String {
        let script = "const root = document.querySelector('unipile-accounts')?.shadowRoot; \
                      const found = root?.querySelector(arguments[0]); \
                      const text = found ? found.textContent : ''; \
                      return text.includes(arguments[1]) ? text : null;";
        self.eventually(
            &format!("{css:?} to say {expected:?}"),
            script,
            vec![json!(css), json!(expected)],
        )
        .await
        .as_str()
        .unwrap_or_default()
        .to_owned()
    }

    async fn in_component(&self, css: &str) -> Element {
        let started = Instant::now();
        loop {
            let host = self
                .browser
                .find(Locator::Css("unipile-accounts"))
                .await
                .expect("the element is on the page");
            let found = match host.shadow_root().await {
                Ok(root) => root.find(Locator::Css(css)).await.ok(),
                Err(_) => None,
            };
            if let Some(element) = found {
                return element;
            }
            if started.elapsed() > PATIENCE {
                self.shot("timed-out").await;
                panic!("no {css:?} in <unipile-accounts>");
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    }

    async fn on_page(&self, css: &str) -> Element {
        let started = Instant::now();
        loop {
            if let Ok(element) = self.browser.find(Locator::Css(css)).await
                && element.is_displayed().await.unwrap_or(false)
            {
                return element;
            }
            if started.elapsed() > PATIENCE {
                self.shot("timed-out").await;
                panic!(
                    "no visible {css:?} on {:?}",
                    self.browser.current_url().await
                );
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    }

    async fn click_in_component(&self, css: &str) {
        self.in_component(css).await.click().await.expect("clicked");
    }

    async fn wait_for_path(&self, prefix: &str) {
        let script = "return location.pathname.startsWith(arguments[0]) \
                      && document.readyState === 'complete';";
        self.eventually(
            &format!("the page at {prefix}"),
            script,
            vec![json!(prefix)],
        )
        .await;
    }

    async fn sign_in_as_demo_user(&self) {
        self.on_page("#demo").await.click().await.expect("clicked");
        self.eventually(
            "the signed-in greeting",
            "return document.getElementById('signed-in-as').textContent;",
            vec![],
        )
        .await;
    }

    /// Presses the simulator's hosted-auth page button `outcome` (`connect`, `fail`).
    async fn press_on_hosted_page(&self, outcome: &str) {
        self.on_page(&format!("button[value={outcome}]"))
            .await
            .click()
            .await
            .expect("clicked");
    }

    /// "Connect an account" with the provider chosen, then Connect on the simulator's hosted
    /// page: back on the landing page, the new account reads OK. Returns its id.
    async fn connect_an_account(&self) -> String {
        self.click_in_component("form.connect button").await;
        self.wait_for_path("/_sim/hosted/").await;
        self.press_on_hosted_page("connect").await;
        self.wait_for_path("/").await;
        self.account_with_status("OK").await
    }

    /// The first account on the list once it shows `status`: its id.
    async fn account_with_status(&self, status: &str) -> String {
        let script = "const root = document.querySelector('unipile-accounts')?.shadowRoot; \
                      const card = root?.querySelector(`li.account[data-status='${arguments[0]}']`); \
                      return card ? card.dataset.accountId : null;";
        self.eventually(
            &format!("an account in {status}"),
            script,
            vec![json!(status)],
        )
        .await
        .as_str()
        .expect("an account id")
        .to_owned()
    }

    async fn press(&self, key: Key) {
        let keys = KeyActions::new("keyboard".into())
            .then(KeyAction::Down { value: key.into() })
            .then(KeyAction::Up { value: key.into() });
        self.browser
            .perform_actions(keys)
            .await
            .expect("key pressed");
    }

    /// What has the keyboard focus, looking inside shadow roots: its accessible label as a
    /// user would hear it (aria-label, else its text), or the tag of an unlabelled element.
    async fn focused(&self) -> String {
        let script = "let el = document.activeElement; \
                      while (el && el.shadowRoot && el.shadowRoot.activeElement) el = el.shadowRoot.activeElement; \
                      if (!el) return ''; \
                      const label = el.getAttribute('aria-label') || (el.labels && el.labels[0] && el.labels[0].textContent) || el.textContent || ''; \
                      return label.trim().replace(/\\s+/g, ' ') || el.tagName.toLowerCase();";
        self.browser
            .execute(script, vec![])
            .await
            .ok()
            .and_then(|v| v.as_str().map(str::to_owned))
            .unwrap_or_default()
    }

    /// Presses Tab until `label` has the focus, and answers every label passed on the way.
    async fn tab_to(&self, label: &str) -> Vec<String> {
        let mut passed = Vec::new();
        for _ in 0..15 {
            self.press(Key::Tab).await;
            let now = self.focused().await;
            if now.starts_with(label) {
                return passed;
            }
            passed.push(now);
        }
        self.shot("timed-out").await;
        panic!("Tab never reached {label:?}; passed {passed:?}");
    }

    /// What the simulator does when Unipile reports a status: the webhook to the stack.
    async fn unipile_reports(&self, account_id: &str, message: &str) {
        let answer = self
            .http
            .post(self.url(&format!("/_sim/accounts/{account_id}/status")))
            .json(&json!({"message": message, "retry_delay_ms": 1}))
            .send()
            .await
            .expect("simulator answers");
        assert_eq!(answer.status(), 200, "status delivered");
    }
}

#[tokio::test]
async fn a_user_signs_in_connects_an_account_on_the_hosted_page_and_finds_it_connected() {
    let Some(story) = Story::begin("connect", Screen::Desktop).await else {
        return;
    };
    story.open("/").await;
    story.on_page("#demo").await;
    story
        .component_says(".notice.problem", "Sign in to see your accounts.")
        .await;
    story.shot("signed-out").await;

    story.sign_in_as_demo_user().await;
    story
        .component_says(".state", "No account connected yet.")
        .await;
    story.shot("no-account-yet").await;

    story
        .in_component("select")
        .await
        .select_by_value("LINKEDIN")
        .await
        .expect("LinkedIn chosen");
    story.click_in_component("form.connect button").await;
    story.wait_for_path("/_sim/hosted/").await;
    story.shot("hosted-page").await;
    story.press_on_hosted_page("connect").await;

    story.wait_for_path("/").await;
    story
        .component_says(".notice.outcome", "Your account is connected.")
        .await;
    let account_id = story.account_with_status("OK").await;
    let card = story.component_says("li.account", "LinkedIn").await;
    assert!(card.contains("Connected"), "{card}");
    assert!(
        card.contains("demo-user (simulated)"),
        "the display name: {card}"
    );
    assert!(card.contains("Updated") && card.contains("now"), "{card}");
    let reconnect = story
        .eventually(
            "the card without a Reconnect button",
            "return !document.querySelector('unipile-accounts').shadowRoot.querySelector('button.reconnect');",
            vec![],
        )
        .await;
    assert_eq!(
        reconnect,
        json!(true),
        "a healthy account needs nothing from its user"
    );
    let address_bar = story.browser.current_url().await.expect("url");
    assert_eq!(address_bar.query(), None, "the outcome marker is dropped");
    story.shot("connected").await;

    story.click_in_component("button.disconnect").await;
    story
        .component_says(
            "dialog[open]",
            "Disconnect LinkedIn (demo-user (simulated))?",
        )
        .await;
    story.shot("confirm-disconnect").await;
    story
        .click_in_component("dialog button[value=disconnect]")
        .await;
    story
        .component_says(".notice.outcome", "Your LinkedIn account is disconnected.")
        .await;
    story
        .component_says(".state", "No account connected yet.")
        .await;
    let answer = story
        .http
        .get(story.url(&format!("/api/v1/accounts/{account_id}")))
        .header("x-api-key", local_stack::simulator::DEFAULT_API_KEY)
        .send()
        .await
        .expect("simulator answers");
    assert_eq!(answer.status(), 404, "disconnected at Unipile too");
    story.shot("disconnected").await;
    story.end().await;
}

#[tokio::test]
async fn when_unipile_says_credentials_the_user_sees_it_gets_the_email_and_reconnects() {
    let Some(story) = Story::begin("credentials", Screen::Desktop).await else {
        return;
    };
    story.open("/").await;
    story.sign_in_as_demo_user().await;
    let account_id = story.connect_an_account().await;

    story.unipile_reports(&account_id, "CREDENTIALS").await;
    story.browser.refresh().await.expect("reloaded");
    story.account_with_status("CREDENTIALS").await;
    let card = story.component_says("li.account", "Signed out").await;
    assert!(card.contains("Reconnect to sign in again"), "{card}");
    story.in_component("button.reconnect").await;
    story.shot("needs-reconnecting").await;

    story.open("/_local/mail").await;
    let mail = story.on_page("article.email").await;
    let text = mail.text().await.expect("text");
    assert!(text.contains(DEMO_EMAIL), "sent to the demo user: {text}");
    story.shot("the-email").await;
    story.browser.enter_frame(0).await.expect("the HTML body");
    story
        .on_page("a[href*='reconnect=']")
        .await
        .click()
        .await
        .expect("the email's link");
    // The link left the frame for the whole tab; the driver may already be back at the top.
    let _ = story.browser.enter_parent_frame().await;
    story.wait_for_path("/").await;
    story
        .component_says(".notice.outcome", "Press Reconnect to sign in again.")
        .await;
    let focused = story.focused().await;
    assert!(
        focused.starts_with("Reconnect"),
        "focus on Reconnect: {focused}"
    );
    story.shot("from-the-email").await;

    story
        .click_in_component(&format!(
            "li.account[data-account-id='{account_id}'] button.reconnect"
        ))
        .await;
    story.wait_for_path("/_sim/hosted/").await;
    let page = story.on_page("h1").await.text().await.expect("title");
    assert_eq!(page, "Reconnect your account");
    story.shot("hosted-reconnect-page").await;
    story.press_on_hosted_page("connect").await;
    story.wait_for_path("/").await;
    story
        .component_says(".notice.outcome", "Your account is reconnected.")
        .await;
    assert_eq!(story.account_with_status("OK").await, account_id);
    story.shot("reconnected").await;
    story.end().await;
}

#[tokio::test]
async fn a_failed_connection_a_unipile_outage_and_a_lost_network_each_say_what_happened() {
    let Some(story) = Story::begin("failure", Screen::Desktop).await else {
        return;
    };
    story.open("/").await;
    story.sign_in_as_demo_user().await;
    story
        .in_component("select")
        .await
        .select_by_value("WHATSAPP")
        .await
        .expect("WhatsApp chosen");
    story.click_in_component("form.connect button").await;
    story.wait_for_path("/_sim/hosted/").await;
    story.press_on_hosted_page("fail").await;
    story.wait_for_path("/").await;
    story
        .component_says(".notice.outcome", "The account was not connected.")
        .await;
    story
        .component_says(".state", "No account connected yet.")
        .await;
    story.shot("connection-failed").await;

    let fault = story
        .http
        .post(story.url("/_sim/faults"))
        .json(&json!({"route": "hosted_link", "status": 503, "type": "errors/service_unavailable", "times": 10}))
        .send()
        .await
        .expect("simulator answers");
    assert!(fault.status().is_success());
    story.click_in_component("form.connect button").await;
    story
        .component_says(
            ".notice.problem",
            "The connection service (Unipile) is not answering",
        )
        .await;
    let still_here = story.browser.current_url().await.expect("url");
    assert_eq!(still_here.path(), "/");
    story.shot("unipile-down").await;

    // The network goes: the page's API address stops answering.
    story
        .browser
        .execute(
            "document.querySelector('unipile-accounts').setAttribute('api-base', 'http://127.0.0.1:9');",
            vec![],
        )
        .await
        .expect("api moved");
    story
        .component_says(
            ".notice.problem",
            "Cannot reach the server to load your accounts.",
        )
        .await;
    story.in_component(".notice.problem button.retry").await;
    story.shot("network-down").await;
    story
        .browser
        .execute(
            "document.querySelector('unipile-accounts').setAttribute('api-base', '');",
            vec![],
        )
        .await
        .expect("api back");
    story
        .component_says(".state", "No account connected yet.")
        .await;
    let cleared = story
        .eventually(
            "the network message gone",
            "return document.querySelector('unipile-accounts').shadowRoot.querySelector('.notice.problem').textContent === '';",
            vec![],
        )
        .await;
    assert_eq!(cleared, json!(true));
    story.end().await;
}

#[tokio::test]
async fn an_expired_token_asks_the_user_to_sign_in_again() {
    let Some(story) = Story::begin("expired-token", Screen::Desktop).await else {
        return;
    };
    let expired = story
        .stack
        .authorizer
        .mint(
            "demo-user",
            Some(DEMO_EMAIL),
            chrono::Duration::minutes(-10),
        )
        .expect("token");
    story.open("/").await;
    story
        .on_page("#token")
        .await
        .send_keys(&expired)
        .await
        .expect("typed");
    story
        .on_page("#token-form button[type=submit]")
        .await
        .click()
        .await
        .expect("clicked");
    story
        .component_says(
            ".notice.problem",
            "Your session has expired. Sign in again to see your accounts.",
        )
        .await;
    // The page takes the hint: the sign-in form is back, the stale token gone.
    story.on_page("#token-form").await;
    let kept = story
        .browser
        .execute("return sessionStorage.length;", vec![])
        .await
        .expect("storage");
    assert_eq!(kept, json!(0));
    story.shot("session-expired").await;
    story.end().await;
}

#[tokio::test]
async fn the_connect_story_works_with_the_keyboard_alone() {
    let Some(story) = Story::begin("keyboard", Screen::Desktop).await else {
        return;
    };
    story.open("/").await;
    story.on_page("#demo").await;
    story.tab_to("Sign in as the demo user").await;
    story.shot("focus-on-sign-in").await;
    story.press(Key::Enter).await;
    story
        .component_says(".state", "No account connected yet.")
        .await;

    // From the greeting, the order a sighted keyboard user expects: sign out, then the
    // element's provider choice and its button.
    let passed = story.tab_to("Connect an account").await;
    assert_eq!(passed, vec!["Sign out", "Provider"], "focus order");
    story.shot("focus-on-connect").await;
    story.press(Key::Enter).await;

    story.wait_for_path("/_sim/hosted/").await;
    story.tab_to("Connect").await;
    story.shot("focus-on-hosted-connect").await;
    story.press(Key::Enter).await;

    story.wait_for_path("/").await;
    story
        .component_says(".notice.outcome", "Your account is connected.")
        .await;
    story.account_with_status("OK").await;
    let focused = story.focused().await;
    assert_eq!(
        focused, "Your account is connected.",
        "the news has the focus on return"
    );
    story.shot("connected").await;

    // The confirmation opens on its safe choice, and Escape leaves everything as it was.
    story.tab_to("Disconnect").await;
    story.press(Key::Enter).await;
    story.component_says("dialog[open]", "Disconnect").await;
    assert_eq!(story.focused().await, "Keep it");
    story.shot("confirmation").await;
    story.press(Key::Escape).await;
    let focused = story.focused().await;
    assert!(focused.starts_with("Disconnect"), "focus back: {focused}");
    story.account_with_status("OK").await;
    story.end().await;
}

#[tokio::test]
async fn on_a_360_pixel_screen_nothing_scrolls_sideways() {
    let Some(story) = Story::begin("phone", Screen::Phone).await else {
        return;
    };
    let no_sideways_scroll = "return window.innerWidth === 360 \
                              && document.documentElement.scrollWidth <= 360;";
    story.open("/").await;
    story.on_page("#demo").await;
    story
        .eventually(
            "a 360 px page without sideways scroll",
            no_sideways_scroll,
            vec![],
        )
        .await;
    story.shot("signed-out").await;

    story.sign_in_as_demo_user().await;
    let account_id = story.connect_an_account().await;
    story.unipile_reports(&account_id, "CREDENTIALS").await;
    story.browser.refresh().await.expect("reloaded");
    story.account_with_status("CREDENTIALS").await;
    story
        .eventually(
            "the account card without sideways scroll",
            no_sideways_scroll,
            vec![],
        )
        .await;
    story.shot("account-needs-reconnecting").await;

    story.click_in_component("button.disconnect").await;
    story.component_says("dialog[open]", "Disconnect").await;
    story
        .eventually(
            "the dialog without sideways scroll",
            no_sideways_scroll,
            vec![],
        )
        .await;
    story.shot("confirmation").await;
    story.end().await;
}

#[tokio::test]
async fn a_passing_outage_and_a_status_this_page_does_not_know_read_calmly() {
    let Some(story) = Story::begin("statuses", Screen::Desktop).await else {
        return;
    };
    story.open("/").await;
    story.sign_in_as_demo_user().await;
    let account_id = story.connect_an_account().await;
    let no_reconnect = "return !document.querySelector('unipile-accounts').shadowRoot.querySelector('button.reconnect');";

    story.unipile_reports(&account_id, "CONNECTING").await;
    story.browser.refresh().await.expect("reloaded");
    story.account_with_status("CONNECTING").await;
    let card = story.component_says("li.account", "Connecting").await;
    assert!(card.contains("Nothing to do"), "{card}");
    let calm = story
        .eventually("no Reconnect while connecting", no_reconnect, vec![])
        .await;
    assert_eq!(calm, json!(true));
    story.shot("connecting").await;

    // A status Unipile may add later: named as sent, without alarm or a button.
    story.unipile_reports(&account_id, "PAUSED").await;
    story.browser.refresh().await.expect("reloaded");
    story.account_with_status("PAUSED").await;
    let card = story.component_says("li.account", "Unknown status").await;
    assert!(card.contains("PAUSED"), "{card}");
    let calm = story
        .eventually("no Reconnect for an unknown status", no_reconnect, vec![])
        .await;
    assert_eq!(calm, json!(true));
    story.shot("unknown-status").await;

    // Older changes read the way people say them, in the reader's language.
    let said = story
        .browser
        .execute_async(
            "const done = arguments[arguments.length - 1]; \
             import('/web/v1/time-words.js').then((t) => done([ \
               t.relativeTime(new Date(Date.now() - 3 * 60000), {locale: 'en-US'}), \
               t.relativeTime(new Date(Date.now() - 26 * 3600000), {locale: 'en-US'}), \
               t.relativeTime(new Date(Date.now() - 3 * 60000), {locale: 'fr'}), \
               t.calendarDate('2026-03-01T12:00:00Z', {locale: 'en-GB'})]));",
            vec![],
        )
        .await
        .expect("time words");
    assert_eq!(
        said,
        json!([
            "3 minutes ago",
            "yesterday",
            "il y a 3 minutes",
            "1 Mar 2026"
        ])
    );
    story.end().await;
}
