//! Connecting here, in the page: the `<unipile-accounts>` wizard in a real browser against the
//! local stack and its Unipile simulator (the harness: `harness::browser`). Each story saves a
//! screenshot per step under `<target>/screenshots/<story>/`. Every password and code typed
//! is named `never-logged…`, which the run's log scan looks for.

use harness::browser::{Screen, Story};
use serde_json::json;

/// The text of the QR code in a screenshot (a PNG), or `None` when none can be read there.
fn qr_text_in(png: &[u8]) -> Option<String> {
    let picture = image::load_from_memory_with_format(png, image::ImageFormat::Png)
        .expect("a PNG screenshot")
        .to_luma8();
    let (width, height) = (picture.width(), picture.height());
    let mut prepared =
        rqrr::PreparedImage::prepare_from_greyscale(width as usize, height as usize, |x, y| {
            picture.get_pixel(x as u32, y as u32).0[0]
        });
    prepared
        .detect_grids()
        .into_iter()
        .find_map(|grid| grid.decode().ok().map(|(_, text)| text))
}

/// Waits for the QR step's picture to be drawn, screenshots it and reads the code in it.
async fn qr_code_on_screen(story: &Story, step: &str) -> String {
    story
        .eventually(
            "the QR code drawn",
            "const img = document.querySelector('unipile-accounts').shadowRoot\
             .querySelector('section.wizard [data-step=qrcode] .qr:not(.expired) img'); \
             return Boolean(img && img.complete && img.naturalWidth > 0);",
            vec![],
        )
        .await;
    let png = story.shot_png(step).await;
    qr_text_in(&png).unwrap_or_else(|| panic!("no QR code readable in the screenshot {step}"))
}

#[tokio::test]
async fn whatsapp_connects_here_by_scanning_the_qr_code_on_the_screen() {
    let Some(story) = Story::begin("whatsapp-qr-code", Screen::Desktop).await else {
        return;
    };
    story.open("/").await;
    story.sign_in_as_demo_user().await;
    story
        .component_says(".state", "No account connected yet.")
        .await;
    story.choose_provider("WHATSAPP").await;
    story.connect_here().await;
    let form = story.wizard_at("credentials").await;
    assert!(form.contains("Connect WhatsApp"), "{form}");
    assert!(form.contains("scan a QR code"), "{form}");
    story.shot("whatsapp-form").await;

    story.submit_wizard().await;
    let step = story.wizard_at("qrcode").await;
    assert!(step.contains("Scan the QR code with WhatsApp"), "{step}");
    assert!(step.contains("Linked devices"), "{step}");
    story.component_says(".countdown", "Expires in").await;
    let on_screen = qr_code_on_screen(&story, "qr-code").await;
    let waiting = story.waiting_login("WHATSAPP", |_| true).await;
    assert_eq!(waiting.kind, "QRCODE");
    assert_eq!(
        Some(on_screen.as_str()),
        waiting.qrcode.as_deref(),
        "the code on the screen is the one WhatsApp would link"
    );
    assert!(on_screen.starts_with("2@"), "{on_screen}");

    story.scan_with_phone(&waiting.account_id).await;
    let card = story.wizard_connected(&waiting.account_id, "OK").await;
    assert!(
        card.contains("WhatsApp") && card.contains("Connected"),
        "{card}"
    );
    story
        .component_says(".notice.outcome", "Your WhatsApp account is connected.")
        .await;
    assert_eq!(story.accounts_listed().await, 1);
    story.shot("connected").await;
    story.end().await;
}

/// Chooses `provider`, opens the wizard and sends its sign-in form with `username` and
/// `password` (both named `never-logged…` where secret).
async fn sign_in_here(story: &Story, provider: &str, username: &str, password: &str) {
    story.choose_provider(provider).await;
    story.connect_here().await;
    story.type_in_wizard("username", username).await;
    story.type_in_wizard("password", password).await;
    story.shot("credentials").await;
    story.submit_wizard().await;
}

#[tokio::test]
async fn linkedin_asks_for_a_code_by_text_message_and_a_wrong_code_is_refused_in_words() {
    let Some(story) = Story::begin("linkedin-2fa", Screen::Desktop).await else {
        return;
    };
    story
        .script_logins(&["checkpoint:2FA:never-logged-li-code:SMS"])
        .await;
    story.open("/").await;
    story.sign_in_as_demo_user().await;
    sign_in_here(&story, "LINKEDIN", "demo@example.com", "never-logged-li-pw").await;

    let step = story.wizard_at("code").await;
    assert!(step.contains("Enter your LinkedIn security code"), "{step}");
    assert!(
        step.contains("LinkedIn sent a code to your phone by text message."),
        "{step}"
    );
    let waiting = story.waiting_login("LINKEDIN", |_| true).await;
    assert_eq!(waiting.kind, "2FA");
    let password_left = story
        .browser
        .execute(
            "return [...document.querySelector('unipile-accounts').shadowRoot\
             .querySelectorAll('input')].some((i) => i.value.includes('never-logged'));",
            vec![],
        )
        .await
        .expect("inputs read");
    assert_eq!(
        password_left,
        json!(false),
        "nothing typed stays in the page"
    );
    story.shot("code-step").await;

    story
        .type_in_wizard("code", "never-logged-wrong-code")
        .await;
    story.submit_wizard().await;
    let problem = story
        .component_says(
            "section.wizard .step-problem",
            "That code was not accepted. Check it and type it again.",
        )
        .await;
    assert!(!problem.contains("never-logged"), "{problem}");
    story.wizard_at("code").await;
    story.shot("wrong-code").await;

    story.type_in_wizard("code", "never-logged-li-code").await;
    story.submit_wizard().await;
    let card = story.wizard_connected(&waiting.account_id, "OK").await;
    assert!(
        card.contains("LinkedIn") && card.contains("Connected"),
        "{card}"
    );
    story
        .component_says(".notice.outcome", "Your LinkedIn account is connected.")
        .await;
    assert_eq!(story.accounts_listed().await, 1);
    assert_eq!(story.logins_waiting("LINKEDIN"), 0, "the login is over");
    story.shot("connected").await;
    story.end().await;
}

#[tokio::test]
async fn instagram_asks_for_the_code_of_the_authenticator_app() {
    let Some(story) = Story::begin("instagram-2fa", Screen::Desktop).await else {
        return;
    };
    story
        .script_logins(&["checkpoint:2FA:never-logged-ig-code:APP"])
        .await;
    story.open("/").await;
    story.sign_in_as_demo_user().await;
    sign_in_here(&story, "INSTAGRAM", "demo.insta", "never-logged-ig-pw").await;

    let step = story.wizard_at("code").await;
    assert!(
        step.contains("Enter your Instagram security code"),
        "{step}"
    );
    assert!(
        step.contains("Open your authenticator app and type the code it shows."),
        "{step}"
    );
    let waiting = story.waiting_login("INSTAGRAM", |_| true).await;
    assert_eq!(waiting.kind, "2FA");
    story.shot("code-step").await;

    story.type_in_wizard("code", "never-logged-ig-code").await;
    story.submit_wizard().await;
    let card = story.wizard_connected(&waiting.account_id, "OK").await;
    assert!(
        card.contains("Instagram") && card.contains("Connected"),
        "{card}"
    );
    story
        .component_says(".notice.outcome", "Your Instagram account is connected.")
        .await;
    assert_eq!(story.accounts_listed().await, 1);
    story.shot("connected").await;
    story.end().await;
}

/// Chooses Email (IMAP), opens the wizard and sends the mailbox's address, `password` and
/// servers.
async fn sign_in_to_a_mailbox(story: &Story, password: &str) {
    story.choose_provider("MAIL").await;
    story.connect_here().await;
    story.type_in_wizard("imap_user", "demo@example.com").await;
    story.type_in_wizard("imap_password", password).await;
    story.type_in_wizard("imap_host", "imap.example.com").await;
    story.type_in_wizard("smtp_host", "smtp.example.com").await;
    story.shot("mailbox-form").await;
    story.submit_wizard().await;
}

#[tokio::test]
async fn a_mailbox_refuses_a_wrong_password_in_words_then_connects_with_the_right_one() {
    let Some(story) = Story::begin("imap-wrong-password", Screen::Desktop).await else {
        return;
    };
    story.open("/").await;
    story.sign_in_as_demo_user().await;
    sign_in_to_a_mailbox(&story, "never-logged-wrong-imap-pw").await;

    let problem = story
        .component_says(
            "section.wizard [data-step=credentials] .step-problem",
            "did not accept this username and password. Check them and try again.",
        )
        .await;
    assert!(problem.starts_with("Email (IMAP)"), "{problem}");
    let kept = story
        .browser
        .execute(
            "const form = document.querySelector('unipile-accounts').shadowRoot\
             .querySelector('section.wizard form.credentials'); \
             return [form.elements.imap_user.value, form.elements.imap_password.value, \
                     form.elements.imap_host.value];",
            vec![],
        )
        .await
        .expect("form read");
    assert_eq!(
        kept,
        json!(["demo@example.com", "", "imap.example.com"]),
        "the address and servers stay, the refused password goes"
    );
    assert_eq!(story.accounts_listed().await, 0);
    story.shot("password-refused").await;

    story
        .type_in_wizard("imap_password", "never-logged-imap-pw")
        .await;
    story.submit_wizard().await;
    let account_id = story.fresh_account().await;
    let card = story.wizard_connected(&account_id, "OK").await;
    assert!(
        card.contains("Email (IMAP)") && card.contains("Connected"),
        "{card}"
    );
    story
        .component_says(".notice.outcome", "Your Email (IMAP) account is connected.")
        .await;
    assert_eq!(story.accounts_listed().await, 1);
    story.shot("connected").await;
    story.end().await;
}

#[tokio::test]
async fn an_expired_qr_code_says_so_and_new_code_shows_another() {
    let Some(story) = Story::begin("whatsapp-qr-expired", Screen::Desktop).await else {
        return;
    };
    story.open("/").await;
    story.sign_in_as_demo_user().await;
    story.choose_provider("WHATSAPP").await;
    story.connect_here().await;
    story.submit_wizard().await;
    story.wizard_at("qrcode").await;
    let first = qr_code_on_screen(&story, "first-qr-code").await;
    let expired = story.waiting_login("WHATSAPP", |_| true).await;
    assert_eq!(Some(first.as_str()), expired.qrcode.as_deref());

    story.advance_clock(61).await;
    story
        .component_says(
            "section.wizard .wizard-status",
            "The code has expired. Press New code to get another.",
        )
        .await;
    story
        .eventually(
            "the expired code greyed and New code the main button",
            "const root = document.querySelector('unipile-accounts').shadowRoot; \
             return Boolean(root.querySelector('section.wizard [data-step=qrcode] .qr.expired') \
               && root.querySelector('section.wizard button.new-code.primary'));",
            vec![],
        )
        .await;
    // The page's own clock still has a minute to go: the server's word stops it.
    let clock = story
        .component_says("section.wizard [data-step=qrcode] .countdown", "Expired")
        .await;
    assert_eq!(clock, "Expired");
    story.shot("expired").await;

    story
        .click_in_component("section.wizard button.new-code")
        .await;
    let renewed = story
        .waiting_login("WHATSAPP", |waiting| {
            waiting.qrcode.as_deref() != Some(first.as_str())
        })
        .await;
    let second = qr_code_on_screen(&story, "new-qr-code").await;
    assert_ne!(second, first, "a new code");
    assert_eq!(Some(second.as_str()), renewed.qrcode.as_deref());
    let status = story
        .component_says("section.wizard .wizard-status", "Waiting for you to scan")
        .await;
    assert_eq!(status, "Waiting for you to scan the code.");
    story
        .component_says("section.wizard [data-step=qrcode] .countdown", "Expires in")
        .await;

    story.scan_with_phone(&renewed.account_id).await;
    story.wizard_connected(&renewed.account_id, "OK").await;
    assert_eq!(
        story.accounts_listed().await,
        1,
        "the expired code's attempt left no account"
    );
    story.shot("connected").await;
    story.end().await;
}

#[tokio::test]
async fn on_a_360_pixel_screen_a_signed_out_mailbox_reconnects_here_with_its_password() {
    let Some(story) = Story::begin("imap-reconnect-phone", Screen::Phone).await else {
        return;
    };
    story.open("/").await;
    story.sign_in_as_demo_user().await;
    sign_in_to_a_mailbox(&story, "never-logged-imap-pw").await;
    let account_id = story.fresh_account().await;
    story.wizard_connected(&account_id, "OK").await;

    story.unipile_reports(&account_id, "CREDENTIALS").await;
    story.browser.refresh().await.expect("reloaded");
    story.account_with_status("CREDENTIALS").await;
    story.fits_the_width("the signed-out card").await;
    story.shot("signed-out").await;

    story
        .click_in_component(&format!(
            "li.account[data-account-id='{account_id}'] button.reconnect-here"
        ))
        .await;
    let form = story.wizard_at("credentials").await;
    assert!(form.contains("Sign in again to Email (IMAP)"), "{form}");
    let fields = story
        .browser
        .execute(
            "return [...document.querySelector('unipile-accounts').shadowRoot\
             .querySelectorAll('section.wizard form.credentials input[name]:not([disabled])')]\
             .filter((i) => i.type !== 'checkbox').map((i) => i.name);",
            vec![],
        )
        .await
        .expect("fields read");
    assert_eq!(fields, json!(["imap_password"]), "the password only");
    story.fits_the_width("the reconnect form").await;
    story.shot("reconnect-form").await;

    story
        .type_in_wizard("imap_password", "never-logged-imap-pw-again")
        .await;
    story.submit_wizard().await;
    let card = story.wizard_connected(&account_id, "OK").await;
    assert!(card.contains("Connected"), "{card}");
    story
        .component_says(
            ".notice.outcome",
            "Your Email (IMAP) account is reconnected.",
        )
        .await;
    assert_eq!(story.accounts_listed().await, 1);
    story.fits_the_width("the reconnected card").await;
    story.shot("reconnected").await;
    story.end().await;
}

#[tokio::test]
async fn telegram_messenger_and_x_each_connect_here_and_are_listed_for_the_user() {
    let Some(story) = Story::begin("telegram-messenger-x", Screen::Desktop).await else {
        return;
    };
    story
        .script_logins(&["checkpoint:2FA:never-logged-fb-code:SMS", "success"])
        .await;
    story.open("/").await;
    story.sign_in_as_demo_user().await;

    // Telegram: a QR code, scanned with the phone.
    story.choose_provider("TELEGRAM").await;
    story.connect_here().await;
    story.wizard_at("credentials").await;
    story.submit_wizard().await;
    story.wizard_at("qrcode").await;
    let on_screen = qr_code_on_screen(&story, "telegram-qr-code").await;
    let telegram = story.waiting_login("TELEGRAM", |_| true).await;
    assert_eq!(Some(on_screen.as_str()), telegram.qrcode.as_deref());
    assert!(on_screen.starts_with("tg://login?token="), "{on_screen}");
    story.scan_with_phone(&telegram.account_id).await;
    story.wizard_connected(&telegram.account_id, "OK").await;
    story
        .component_says(".notice.outcome", "Your Telegram account is connected.")
        .await;
    story.shot("telegram-connected").await;

    // Messenger: a password, then the code Facebook sent.
    sign_in_here(&story, "MESSENGER", "demo.messenger", "never-logged-fb-pw").await;
    story.wizard_at("code").await;
    let messenger = story.waiting_login("MESSENGER", |_| true).await;
    story.type_in_wizard("code", "never-logged-fb-code").await;
    story.submit_wizard().await;
    story.wizard_connected(&messenger.account_id, "OK").await;
    story
        .component_says(".notice.outcome", "Your Messenger account is connected.")
        .await;
    story.shot("messenger-connected").await;

    // X: the password is enough.
    sign_in_here(&story, "TWITTER", "demo_x", "never-logged-x-pw").await;
    story
        .component_says(".notice.outcome", "Your X account is connected.")
        .await;
    let x = story.fresh_account().await;
    let card = story.wizard_connected(&x, "OK").await;
    assert!(card.contains("Connected"), "{card}");
    story.shot("x-connected").await;

    assert_eq!(story.accounts_listed().await, 3, "each listed for the user");
    story.end().await;
}
