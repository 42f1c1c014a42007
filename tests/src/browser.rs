//! The browser harness of the browser stories (`tests/browser.rs`, `tests/extension.rs`):
//! headless Chromium driven over WebDriver (chromedriver) against the local stack in memory
//! with its Unipile simulator, and a screenshot per step under `<target>/screenshots/<story>/`.
//!
//! Needs `chromium` and `chromedriver` (Debian: `apt-get install chromium chromium-driver`;
//! `.ci/run` installs them). Without them a story is skipped with a message, unless
//! `BROWSER_REQUIRED=1` (set by `scripts/test.sh`), which makes that a failure.

use fantoccini::actions::{InputSource, KeyAction, KeyActions};
use fantoccini::elements::Element;
use fantoccini::key::Key;
use fantoccini::{Client, ClientBuilder, Locator};
use local_stack::simulator::CheckpointView;
use local_stack::stack::LocalStack;
use serde_json::{Value, json};
use std::collections::HashMap;
use std::os::unix::process::CommandExt;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

/// One browser at a time: the stories share two cores with everything else.
static ONE_BROWSER: tokio::sync::Mutex<()> = tokio::sync::Mutex::const_new(());

pub const PATIENCE: Duration = Duration::from_secs(10);

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

pub fn free_port() -> u16 {
    std::net::TcpListener::bind(("127.0.0.1", 0))
        .and_then(|listener| listener.local_addr())
        .map(|address| address.port())
        .expect("a free port")
}

/// The build's target folder, from this test binary's own path (`<target>/debug/deps/…`), so
/// screenshots land beside the build whether `CARGO_TARGET_DIR` is set or not.
pub fn target_dir() -> PathBuf {
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
pub enum Screen {
    Desktop,
    /// A small phone, 360 CSS pixels wide.
    Phone,
}

/// One story: a fresh local stack, a fresh browser, and numbered screenshots.
pub struct Story {
    pub browser: Client,
    pub stack: LocalStack,
    pub http: reqwest::Client,
    shots: PathBuf,
    step: AtomicUsize,
    _driver: Driver,
    _one_browser: tokio::sync::MutexGuard<'static, ()>,
}

impl Story {
    pub async fn begin(name: &str, screen: Screen) -> Option<Self> {
        Self::begin_with(name, screen, HashMap::new(), |_| Vec::new()).await
    }

    /// A story whose local stack starts with `env` and whose browser starts with the
    /// arguments `extra_args` gives for that stack (an extension built for its address, host
    /// rules).
    pub async fn begin_with(
        name: &str,
        screen: Screen,
        env: HashMap<String, String>,
        extra_args: impl FnOnce(&LocalStack) -> Vec<String>,
    ) -> Option<Self> {
        let tools = tools()?;
        let one_browser = ONE_BROWSER.lock().await;
        crate::logs::captured();
        let stack = LocalStack::start(0, env).await.expect("local stack starts");
        let extra_args = extra_args(&stack);

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
        if let Some(args) = chrome_options["args"].as_array_mut() {
            args.extend(extra_args.iter().map(|a| json!(a)));
        }
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

    pub async fn end(self) {
        let _ = self.browser.clone().close().await;
    }

    pub fn url(&self, path: &str) -> String {
        format!("{}{path}", self.stack.base_url)
    }

    pub async fn open(&self, path: &str) {
        self.browser
            .goto(&self.url(path))
            .await
            .expect("page opens");
    }

    pub async fn shot(&self, step: &str) {
        self.shot_png(step).await;
    }

    /// [`Story::shot`], answering the PNG it saved.
    pub async fn shot_png(&self, step: &str) -> Vec<u8> {
        let number = self.step.fetch_add(1, Ordering::SeqCst) + 1;
        let png = self.browser.screenshot().await.expect("screenshot");
        let file = self.shots.join(format!("{number:02}-{step}.png"));
        std::fs::write(&file, &png).expect("screenshot saved");
        png
    }

    /// Runs `script` until it returns something truthy; on time-out, a screenshot of the
    /// moment and a failure naming what was awaited.
    pub async fn eventually(&self, what: &str, script: &str, args: Vec<Value>) -> Value {
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
    pub async fn component_says(&self, css: &str, expected: &str) -> String {
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

    pub async fn in_component(&self, css: &str) -> Element {
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

    pub async fn on_page(&self, css: &str) -> Element {
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

    pub async fn click_in_component(&self, css: &str) {
        self.in_component(css).await.click().await.expect("clicked");
    }

    pub async fn wait_for_path(&self, prefix: &str) {
        let script = "return location.pathname.startsWith(arguments[0]) \
                      && document.readyState === 'complete';";
        self.eventually(
            &format!("the page at {prefix}"),
            script,
            vec![json!(prefix)],
        )
        .await;
    }

    pub async fn sign_in_as_demo_user(&self) {
        self.on_page("#demo").await.click().await.expect("clicked");
        self.eventually(
            "the signed-in greeting",
            "return document.getElementById('signed-in-as').textContent;",
            vec![],
        )
        .await;
    }

    /// Presses the simulator's hosted-auth page button `outcome` (`connect`, `fail`).
    pub async fn press_on_hosted_page(&self, outcome: &str) {
        self.on_page(&format!("button[value={outcome}]"))
            .await
            .click()
            .await
            .expect("clicked");
    }

    /// "Connect an account" with the provider chosen, then Connect on the simulator's hosted
    /// page: back on the landing page, the new account reads OK. Returns its id.
    pub async fn connect_an_account(&self) -> String {
        self.click_in_component("form.connect button").await;
        self.wait_for_path("/_sim/hosted/").await;
        self.press_on_hosted_page("connect").await;
        self.wait_for_path("/").await;
        self.account_with_status("OK").await
    }

    /// The first account on the list once it shows `status`: its id.
    pub async fn account_with_status(&self, status: &str) -> String {
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

    pub async fn press(&self, key: Key) {
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
    pub async fn focused(&self) -> String {
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
    pub async fn tab_to(&self, label: &str) -> Vec<String> {
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
    pub async fn unipile_reports(&self, account_id: &str, message: &str) {
        let answer = self
            .http
            .post(self.url(&format!("/_sim/accounts/{account_id}/status")))
            .json(&json!({"message": message, "retry_delay_ms": 1}))
            .send()
            .await
            .expect("simulator answers");
        assert_eq!(answer.status(), 200, "status delivered");
    }

    // ---- connecting here (the wizard) ---------------------------------------------------

    /// Chooses `provider` (`WHATSAPP`, `LINKEDIN`, …) in the connect form.
    pub async fn choose_provider(&self, provider: &str) {
        self.in_component("form.connect select")
            .await
            .select_by_value(provider)
            .await
            .expect("provider chosen");
    }

    /// "Connect here": the wizard opens at its sign-in form.
    pub async fn connect_here(&self) {
        self.click_in_component("form.connect button.custom").await;
        self.wizard_at("credentials").await;
    }

    /// Waits for the wizard to show `step` (`credentials`, `qrcode`, `code`, …): its text.
    pub async fn wizard_at(&self, step: &str) -> String {
        let css = format!("section.wizard [data-step={step}]");
        self.component_says(&css, "").await
    }

    /// Types `text` into the wizard's input named `name`.
    pub async fn type_in_wizard(&self, name: &str, text: &str) {
        let field = self
            .in_component(&format!("section.wizard input[name={name}]"))
            .await;
        field.clear().await.expect("field cleared");
        field.send_keys(text).await.expect("typed");
    }

    /// Presses the main button of the wizard's current form (Sign in, Verify, Continue).
    pub async fn submit_wizard(&self) {
        self.click_in_component("section.wizard form button[type=submit]")
            .await;
    }

    /// The wizard has closed and the account it connected is listed, marked fresh, in
    /// `status`: its card's text.
    pub async fn wizard_connected(&self, account_id: &str, status: &str) -> String {
        let script = "const root = document.querySelector('unipile-accounts')?.shadowRoot; \
                      if (!root || root.querySelector('section.wizard')) return null; \
                      const card = root.querySelector(`li.account.fresh[data-account-id='${arguments[0]}']`); \
                      return card && card.dataset.status === arguments[1] ? card.textContent : null;";
        self.eventually(
            &format!("account {account_id} listed as fresh in {status}"),
            script,
            vec![json!(account_id), json!(status)],
        )
        .await
        .as_str()
        .unwrap_or_default()
        .to_owned()
    }

    /// How many accounts the list shows.
    pub async fn accounts_listed(&self) -> u64 {
        self.browser
            .execute(
                "return document.querySelector('unipile-accounts').shadowRoot\
                 .querySelectorAll('li.account').length;",
                vec![],
            )
            .await
            .ok()
            .and_then(|n| n.as_u64())
            .unwrap_or_default()
    }

    fn simulator(&self) -> &local_stack::simulator::Simulator {
        self.stack
            .simulator
            .as_ref()
            .expect("the stack's simulator")
    }

    /// The login of `provider` waiting at a checkpoint at the simulator (what the user's
    /// phone or inbox would see), once one does for which `wanted` holds.
    pub async fn waiting_login(
        &self,
        provider: &str,
        wanted: impl Fn(&CheckpointView) -> bool,
    ) -> CheckpointView {
        let started = Instant::now();
        loop {
            let found = self
                .simulator()
                .checkpoints()
                .into_iter()
                .find(|waiting| waiting.provider == provider && wanted(waiting));
            if let Some(waiting) = found {
                return waiting;
            }
            if started.elapsed() > PATIENCE {
                self.shot("timed-out").await;
                panic!("no such {provider} login waits at the simulator");
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    }

    /// How many logins of `provider` wait at a checkpoint at the simulator.
    pub fn logins_waiting(&self, provider: &str) -> usize {
        self.simulator()
            .checkpoints()
            .iter()
            .filter(|waiting| waiting.provider == provider)
            .count()
    }

    /// The wizard has closed and the list marks the account it connected as fresh: its id.
    pub async fn fresh_account(&self) -> String {
        let script = "const root = document.querySelector('unipile-accounts')?.shadowRoot; \
                      if (!root || root.querySelector('section.wizard')) return null; \
                      return root.querySelector('li.account.fresh')?.dataset.accountId;";
        self.eventually("the wizard closed and a fresh account", script, vec![])
            .await
            .as_str()
            .expect("an account id")
            .to_owned()
    }

    /// The user's phone scans the QR code (or types the pairing code) of `account_id`, through
    /// the simulator's `/_sim` route.
    pub async fn scan_with_phone(&self, account_id: &str) {
        let answer = self
            .http
            .post(self.url(&format!("/_sim/checkpoints/{account_id}/scan")))
            .send()
            .await
            .expect("simulator answers");
        assert_eq!(answer.status(), 200, "scanned");
    }

    /// What the simulator's next native logins do (`checkpoint:2FA:<CODE>:SMS`, `success`, …).
    pub async fn script_logins(&self, outcomes: &[&str]) {
        let answer = self
            .http
            .post(self.url("/_sim/login-outcomes"))
            .json(&json!({ "outcomes": outcomes }))
            .send()
            .await
            .expect("simulator answers");
        assert!(answer.status().is_success(), "outcomes scripted");
    }

    /// Moves the stack's virtual clock on by `seconds`.
    pub async fn advance_clock(&self, seconds: i64) {
        let answer = self
            .http
            .post(self.url("/_local/clock/advance"))
            .json(&json!({ "seconds": seconds }))
            .send()
            .await
            .expect("the stack answers");
        assert!(answer.status().is_success(), "clock advanced");
    }

    /// Fails unless the page fits its viewport's width (nothing scrolls sideways).
    pub async fn fits_the_width(&self, what: &str) {
        self.eventually(
            &format!("{what} without sideways scroll"),
            "return document.documentElement.scrollWidth <= window.innerWidth;",
            vec![],
        )
        .await;
    }
}
