//! `GET /_sim/phone`, "The simulated phone": the page a person trying the local stack uses
//! in place of the phone they would scan a QR code with, type a WhatsApp pairing code into,
//! or approve a LinkedIn sign-in on. Each waiting login gets a button; its form posts to
//! `/_sim/phone/{id}/scan` or `/approve`, which complete it and come back here (303).

use super::checkpoint_control::CheckpointView;
use super::state::Simulator;
use axum::extract::{Path, State};
use axum::http::{StatusCode, header};
use axum::response::{Html, IntoResponse, Response};
use unipile_connect::domain::notification::escape_html as escape;

/// One waiting login as a list item with its button.
fn item(view: &CheckpointView) -> Option<String> {
    let (action, label, what) = match view.kind.as_str() {
        "QRCODE" => ("scan", "Scan the QR code", "QR code".to_owned()),
        "PAIRING_CODE" => (
            "scan",
            "Enter the pairing code",
            format!(
                "pairing code <code>{}</code>",
                escape(view.code.as_deref().unwrap_or_default())
            ),
        ),
        "IN_APP_VALIDATION" => (
            "approve",
            "Approve the sign-in",
            "sign-in to approve".into(),
        ),
        _ => return None,
    };
    Some(format!(
        "<li><p><strong>{provider}</strong> account <code>{id}</code>: {what}</p>\
         <form method=\"post\" action=\"/_sim/phone/{path_id}/{action}\">\
         <button>{label}</button></form></li>",
        provider = escape(&view.provider),
        id = escape(&view.account_id),
        path_id = escape(&url_segment(&view.account_id)),
    ))
}

/// Percent-encodes everything but Unipile's id alphabet, so an id cannot leave its path
/// segment.
fn url_segment(text: &str) -> String {
    text.bytes()
        .map(|b| match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' => (b as char).to_string(),
            _ => format!("%{b:02X}"),
        })
        .collect()
}

/// The page: every login waiting on the phone, or a line saying there is none.
pub(super) fn render(sim: &Simulator) -> String {
    let items: Vec<String> = sim.checkpoints().iter().filter_map(item).collect();
    let list = if items.is_empty() {
        "<p>Nothing waits on the phone. Start a WhatsApp or Telegram login, then reload.</p>"
            .to_owned()
    } else {
        format!("<ul>{}</ul>", items.concat())
    };
    format!(
        "<!doctype html><html><head><meta charset=\"utf-8\"><title>The simulated phone</title>\
         <style>body{{font-family:system-ui;max-width:36rem;margin:3rem auto}}li{{margin-bottom:1rem}}</style>\
         </head><body><h1>The simulated phone</h1>{list}\
         <p><a href=\"/_sim/phone\">Reload</a></p><p><small>Unipile simulator</small></p></body></html>"
    )
}

pub(super) async fn show(State(sim): State<Simulator>) -> Response {
    Html(render(&sim)).into_response()
}

fn back() -> Response {
    (StatusCode::SEE_OTHER, [(header::LOCATION, "/_sim/phone")]).into_response()
}

/// The phone's "scan" button: [`Simulator::scan`], then back to the page whatever happened
/// (an expired code simply disappears from the list).
pub(super) async fn scan(State(sim): State<Simulator>, Path(id): Path<String>) -> Response {
    // A refusal (nothing waiting, expired) shows as the item gone from the page.
    let _ = sim.scan(&id).await;
    back()
}

/// The phone's "approve" button: the in-app approval, then back to the page.
pub(super) async fn approve(State(sim): State<Simulator>, Path(id): Path<String>) -> Response {
    if let Some(Some(completion)) = sim.take_approval(&id) {
        sim.announce(completion).await;
    }
    back()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids_stay_in_their_path_segment() {
        assert_eq!(url_segment("e54m8LR22bA7G5qsAc8w"), "e54m8LR22bA7G5qsAc8w");
        assert_eq!(url_segment("a/../b?c"), "a%2F%2E%2E%2Fb%3Fc");
    }

    #[test]
    fn the_page_lists_what_waits_on_the_phone_and_escapes_it() {
        let sim = Simulator::new("k");
        assert!(render(&sim).contains("Nothing waits on the phone"));
        let account = sim.add_account("WHATSAPP", "WhatsApp (simulated)");
        let mut pairing =
            super::super::records::SimCheckpoint::new("PAIRING_CODE", "<b>AB-1</b>", false);
        pairing.custom = true;
        sim.lock().checkpoints.insert(account.id.clone(), pairing);
        let page = render(&sim);
        assert!(page.contains("<strong>WHATSAPP</strong>"));
        assert!(page.contains("&lt;b&gt;AB-1&lt;/b&gt;"));
        assert!(!page.contains("<b>AB-1</b>"));
        assert!(page.contains(&format!("action=\"/_sim/phone/{}/scan\"", account.id)));
        // A checkpoint the phone cannot answer is not listed.
        let other = sim.add_account("LINKEDIN", "x");
        let code = super::super::records::SimCheckpoint::new("2FA", "123456", false);
        sim.lock().checkpoints.insert(other.id.clone(), code);
        assert!(!render(&sim).contains(&other.id));
    }
}
