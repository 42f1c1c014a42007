//! The hosted-auth page a link opens: pick a provider, then "Connect" (the account is created
//! or reconnected, `notify_url` is called as Unipile calls it, and the browser goes to the
//! success URL) or "Fail" (the browser goes to the failure URL, nothing is notified).

use super::state::{NotifyDelivery, SimAccount, Simulator, new_id};
use axum::Form;
use axum::extract::{Path, State};
use axum::http::{StatusCode, header};
use axum::response::{Html, IntoResponse, Response};
use chrono::Utc;
use serde_json::json;
use std::collections::HashMap;

use unipile_connect::domain::notification::escape_html as escape;

fn page(status: StatusCode, title: &str, body: &str) -> Response {
    let html = format!(
        "<!doctype html><html><head><meta charset=\"utf-8\"><title>{title}</title>\
         <style>body{{font-family:system-ui;max-width:32rem;margin:3rem auto}}button{{margin-right:.5rem;padding:.5rem 1rem}}</style>\
         </head><body><h1>{title}</h1>{body}<p><small>Unipile simulator</small></p></body></html>",
        title = escape(title)
    );
    (status, Html(html)).into_response()
}

fn expired() -> Response {
    page(
        StatusCode::UNAUTHORIZED,
        "This link has expired",
        "<p>errors/expired_link: ask for a new link.</p>",
    )
}

pub(super) async fn show(State(sim): State<Simulator>, Path(token): Path<String>) -> Response {
    let Some(link) = sim.lock().links.get(&token).cloned() else {
        return expired();
    };
    if link.used || link.expires_on <= Utc::now() {
        return expired();
    }
    let options: String = link
        .providers
        .iter()
        .map(|p| format!("<option value=\"{0}\">{0}</option>", escape(p)))
        .collect();
    let chooser = match &link.reconnect_account {
        Some(account) => format!("<p>Reconnect account <code>{}</code>.</p>", escape(account)),
        None => {
            format!("<p><label>Provider <select name=\"provider\">{options}</select></label></p>")
        }
    };
    let body = format!(
        "<p>Signed in as <code>{name}</code>.</p><form method=\"post\">{chooser}\
         <button name=\"outcome\" value=\"connect\">Connect</button>\
         <button name=\"outcome\" value=\"fail\">Fail</button></form>",
        name = escape(&link.name)
    );
    page(
        StatusCode::OK,
        if link.kind == "reconnect" {
            "Reconnect your account"
        } else {
            "Connect an account"
        },
        &body,
    )
}

fn redirect_or_page(url: Option<&str>, title: &str, text: &str) -> Response {
    match url {
        Some(url) => (StatusCode::SEE_OTHER, [(header::LOCATION, url.to_owned())]).into_response(),
        None => page(StatusCode::OK, title, &format!("<p>{}</p>", escape(text))),
    }
}

pub(super) async fn submit(
    State(sim): State<Simulator>,
    Path(token): Path<String>,
    Form(form): Form<HashMap<String, String>>,
) -> Response {
    let link = {
        let mut state = sim.lock();
        let Some(link) = state.links.get_mut(&token) else {
            return expired();
        };
        if link.used || link.expires_on <= Utc::now() {
            return expired();
        }
        link.used = true;
        link.clone()
    };
    if form.get("outcome").map(String::as_str) != Some("connect") {
        return redirect_or_page(
            link.failure_redirect_url.as_deref(),
            "Connection failed",
            "The account was not connected.",
        );
    }
    let (status, account_id) = match &link.reconnect_account {
        Some(account_id) => {
            if let Some(account) = sim.lock().accounts.get_mut(account_id) {
                account.status = "OK".into();
            }
            ("RECONNECTED", account_id.clone())
        }
        None => {
            let provider = form
                .get("provider")
                .filter(|p| link.providers.contains(p))
                .or_else(|| link.providers.first())
                .cloned()
                .unwrap_or_else(|| "LINKEDIN".to_owned());
            let account = SimAccount {
                id: new_id(),
                account_type: provider,
                name: format!("{} (simulated)", link.name),
                created_at: Utc::now(),
                status: "OK".into(),
                // The member who signed in, when the form names one (tests, the demo).
                linkedin_profile_id: form
                    .get("linkedin_profile_id")
                    .filter(|p| !p.is_empty())
                    .cloned(),
            };
            sim.lock()
                .accounts
                .insert(account.id.clone(), account.clone());
            ("CREATION_SUCCESS", account.id)
        }
    };
    if let Some(url) = &link.notify_url {
        // Delivered before the browser moves on, so the account is recorded by the time the
        // success page loads.
        let body = json!({"status": status, "account_id": account_id, "name": link.name});
        let outcome = sim.http.post(url).json(&body).send().await;
        let delivery = NotifyDelivery {
            url: url.clone(),
            body,
            status: outcome.as_ref().ok().map(|r| r.status().as_u16()),
            error: outcome.err().map(|e| e.to_string()),
        };
        sim.lock().notifications.push(delivery);
    }
    redirect_or_page(
        link.success_redirect_url.as_deref(),
        "Account connected",
        "You can close this window.",
    )
}
