//! The landing page and its `<unipile-accounts>` element in a real browser (the harness:
//! `integration_tests::browser`). Each story saves a screenshot per step under
//! `<target>/screenshots/<story>/`.

use fantoccini::key::Key;
use harness::browser::{Screen, Story};
use local_stack::stack::DEMO_EMAIL;
use serde_json::json;

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
             import('/web/v5/time-words.js').then((t) => done([ \
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
