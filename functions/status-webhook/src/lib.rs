//! Unipile's account-status webhook (`POST /unipile/webhook`, behind a function URL).

use lambda_http::{Body, Error, Request, Response};
use serde_json::json;
use unipile_connect::config::{self, ConfigError, EnvSource};
use unipile_connect::deps::FollowUpDeps;
use unipile_connect::domain::UnipileEvent;
use unipile_connect::flows::status_webhook::{WebhookOutcome, handle_status_event};
use unipile_connect::http::{Problem, RotatingWebhookSecret, json_response};

pub struct StatusWebhook {
    /// A delivery's follow-up (an email, a restart, a cookie reconnect) is tried inline.
    pub follow_ups: FollowUpDeps,
    /// Read again when a delivery's header matches neither the current nor the previous
    /// secret (a rotation since the cold start).
    pub secret: RotatingWebhookSecret,
}

impl StatusWebhook {
    pub async fn from_env(env: impl EnvSource) -> Result<Self, ConfigError> {
        let aws = config::aws_sdk_config(&env).await;
        let secret = config::rotating_webhook_secret(&env, &aws)?;
        if !secret.is_configured() {
            tracing::warn!(
                "UNIPILE_WEBHOOK_SECRET is not set: every webhook delivery will be refused"
            );
        }
        Ok(Self {
            follow_ups: FollowUpDeps::from_env(&env, &aws)?,
            secret,
        })
    }
}

pub async fn handler(app: &StatusWebhook, request: Request) -> Result<Response<Body>, Error> {
    Ok(handle(app, request)
        .await
        .unwrap_or_else(Problem::into_response))
}

async fn handle(app: &StatusWebhook, request: Request) -> Result<Response<Body>, Problem> {
    // The secret first: nothing of a delivery that is not Unipile's is read any further.
    if !app.secret.admits(&request).await {
        tracing::warn!(
            header = app.secret.header_name(),
            "webhook refused: missing or wrong secret header"
        );
        return Err(Problem::unauthorized(format!(
            "the {} header is missing or wrong",
            app.secret.header_name()
        )));
    }
    if request.method() != http::Method::POST {
        return Err(Problem::method_not_allowed("use POST"));
    }
    let event = UnipileEvent::parse(request.body().as_ref())
        .map_err(|e| Problem::bad_request(e.to_string()))?;
    let outcome =
        handle_status_event(app.follow_ups.ports(), &app.follow_ups.settings, &event).await?;
    let outcome = match outcome {
        WebhookOutcome::UnknownAccount => "unknown_account",
        WebhookOutcome::Recorded => "recorded",
        // Recorded: the sweeper finishes it. Unipile need not (and must not) retry.
        WebhookOutcome::Deferred => "deferred",
        WebhookOutcome::Unchanged => "unchanged",
        WebhookOutcome::Completed => "completed",
    };
    // Unipile wants exactly 200 for anything it should not retry.
    Ok(json_response(200, &json!({"outcome": outcome})))
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::{Duration, TimeZone, Utc};
    use unipile_connect::domain::{AccountId, AccountStatus, Email, Provider, UserId};
    use unipile_connect::flows::follow_ups::CLAIM_LEASE;
    use unipile_connect::http::{DEFAULT_WEBHOOK_HEADER, WebhookSecret};
    use unipile_connect::memory_world::MemoryWorld;
    use unipile_connect::ports::{AccountStore, Clock, ConnectedAccount, UserProfile};

    const SECRET: &str = "webhook-secret-for-tests";

    fn world() -> MemoryWorld {
        MemoryWorld::at(
            Utc.with_ymd_and_hms(2026, 3, 1, 12, 0, 0)
                .single()
                .expect("date"),
        )
    }

    fn app(world: &MemoryWorld) -> StatusWebhook {
        StatusWebhook {
            secret: WebhookSecret::new(DEFAULT_WEBHOOK_HEADER, Some(SECRET))
                .expect("secret")
                .into(),
            follow_ups: world.follow_up_deps(),
        }
    }

    async fn given_account(world: &MemoryWorld, id: &str, with_email: bool) {
        let connection = ConnectedAccount {
            account_id: AccountId::parse(id).expect("id"),
            user_id: UserId::parse("u1").expect("user"),
            account_type: Provider::Linkedin,
            display_name: None,
            linkedin_member_id: None,
            linkedin_profile_id: None,
            status: AccountStatus::Ok,
        };
        world
            .unipile
            .add_account(&connection.account_id, Provider::Linkedin);
        world
            .store
            .record_connection(
                &connection,
                unipile_connect::domain::events::How::Hosted,
                world.clock.now(),
            )
            .await
            .expect("stored");
        if with_email {
            let profile = UserProfile {
                user_id: connection.user_id.clone(),
                email: Email::parse("jane@example.com").expect("email"),
                updated_at: world.clock.now(),
            };
            world.store.save_profile(&profile).await.expect("profile");
        }
    }

    fn delivery(account: &str, message: &str, secret: Option<&str>) -> Request {
        let body = format!(
            r#"{{"AccountStatus":{{"account_id":"{account}","account_type":"LINKEDIN","message":"{message}"}}}}"#
        );
        let mut builder = http::Request::builder()
            .method("POST")
            .uri("/unipile/webhook");
        if let Some(secret) = secret {
            builder = builder.header("Unipile-Auth", secret);
        }
        builder.body(Body::from(body)).expect("request")
    }

    /// Unipile sets the account's status, then delivers it.
    async fn deliver(
        world: &MemoryWorld,
        app: &StatusWebhook,
        account: &str,
        message: &str,
    ) -> u16 {
        let id = AccountId::parse(account).expect("id");
        world.unipile.set_status(&id, AccountStatus::from(message));
        deliver_only(app, account, message).await
    }

    /// A delivery alone, whatever Unipile says now (a late or repeated one).
    async fn deliver_only(app: &StatusWebhook, account: &str, message: &str) -> u16 {
        handler(app, delivery(account, message, Some(SECRET)))
            .await
            .expect("handled")
            .status()
            .as_u16()
    }

    async fn status_of(world: &MemoryWorld, id: &str) -> AccountStatus {
        let account = world
            .store
            .get_account(&AccountId::parse(id).expect("id"))
            .await
            .expect("store");
        account.expect("stored").status
    }

    #[tokio::test]
    async fn given_an_ok_account_when_credentials_is_delivered_five_times_then_one_email() {
        let world = world();
        given_account(&world, "acc_1", true).await;
        let app = app(&world);
        for _ in 0..5 {
            assert_eq!(deliver(&world, &app, "acc_1", "CREDENTIALS").await, 200);
        }
        assert_eq!(status_of(&world, "acc_1").await, AccountStatus::Credentials);
        let sent = world.mailer.sent();
        assert_eq!(sent.len(), 1);
        assert_eq!(sent[0].to, "jane@example.com");
        assert!(sent[0].subject.contains("LinkedIn"));
        assert!(
            sent[0]
                .text
                .contains("https://app.example.com/accounts?reconnect=acc_1")
        );
        let stored = world
            .store
            .get_account(&AccountId::parse("acc_1").expect("id"))
            .await
            .expect("store");
        assert_eq!(
            stored.and_then(|a| a.pending),
            None,
            "the follow-up is cleared once done"
        );
    }

    #[tokio::test]
    async fn given_the_mailer_failing_once_then_the_retry_sends_the_email_exactly_once() {
        let world = world();
        given_account(&world, "acc_1", true).await;
        let app = app(&world);
        world.mailer.fail_next(1);
        // Recorded: 200, the email stays owed.
        assert_eq!(deliver(&world, &app, "acc_1", "CREDENTIALS").await, 200);
        assert!(world.mailer.sent().is_empty());
        assert_eq!(status_of(&world, "acc_1").await, AccountStatus::Credentials);
        // Unipile's retries, minutes apart: the one after the back-off sends it.
        for _ in 0..4 {
            world.clock.advance(Duration::minutes(2));
            assert_eq!(deliver(&world, &app, "acc_1", "CREDENTIALS").await, 200);
        }
        assert_eq!(world.mailer.sent().len(), 1);
    }

    #[tokio::test]
    async fn given_an_outage_whose_email_went_when_it_passes_through_error_back_to_credentials_then_no_second_email()
     {
        let world = world();
        given_account(&world, "acc_1", true).await;
        let app = app(&world);
        assert_eq!(deliver(&world, &app, "acc_1", "CREDENTIALS").await, 200);
        assert_eq!(deliver(&world, &app, "acc_1", "ERROR").await, 200);
        assert_eq!(deliver(&world, &app, "acc_1", "CREDENTIALS").await, 200);
        assert_eq!(status_of(&world, "acc_1").await, AccountStatus::Credentials);
        assert_eq!(world.mailer.sent().len(), 1, "one email for the one outage");
        // Healthy, then a new outage: its own email.
        assert_eq!(deliver(&world, &app, "acc_1", "OK").await, 200);
        assert_eq!(deliver(&world, &app, "acc_1", "CREDENTIALS").await, 200);
        assert_eq!(world.mailer.sent().len(), 2);
    }

    #[tokio::test]
    async fn given_the_store_failing_once_then_the_delivery_completes_through_the_outbox_once() {
        let world = world();
        given_account(&world, "acc_1", true).await;
        let app = app(&world);
        // The settling write fails (nothing written): the delivery records its follow-up
        // instead, and that finishes it.
        world.store.fail_next_writes(1);
        assert_eq!(deliver(&world, &app, "acc_1", "CREDENTIALS").await, 200);
        assert_eq!(status_of(&world, "acc_1").await, AccountStatus::Credentials);
        assert_eq!(world.mailer.sent().len(), 1);
        // Unipile's retry of the same delivery changes nothing more.
        assert_eq!(deliver(&world, &app, "acc_1", "CREDENTIALS").await, 200);
        assert_eq!(world.mailer.sent().len(), 1);
    }

    #[tokio::test]
    async fn given_the_store_failing_for_every_write_then_nothing_is_half_written_and_the_retry_completes()
     {
        let world = world();
        given_account(&world, "acc_1", true).await;
        let app = app(&world);
        world.store.fail_next_writes(2);
        assert_eq!(deliver(&world, &app, "acc_1", "CREDENTIALS").await, 503);
        assert_eq!(status_of(&world, "acc_1").await, AccountStatus::Ok);
        assert!(world.mailer.sent().is_empty());
        assert_eq!(deliver(&world, &app, "acc_1", "CREDENTIALS").await, 200);
        assert_eq!(world.mailer.sent().len(), 1);
    }

    #[tokio::test]
    async fn given_a_follow_up_held_by_another_caller_then_news_gets_503_until_its_lease_ends() {
        let world = world();
        given_account(&world, "acc_1", true).await;
        let app = app(&world);
        world.mailer.fail_next(1);
        assert_eq!(deliver(&world, &app, "acc_1", "CREDENTIALS").await, 200);
        let id = AccountId::parse("acc_1").expect("id");
        let pending = world
            .store
            .get_account(&id)
            .await
            .expect("store")
            .and_then(|a| a.pending)
            .expect("the email is owed");
        // Its back-off over, another caller (the sweeper) holds it.
        world.clock.advance(Duration::minutes(5));
        let now = world.clock.now();
        let held = world
            .store
            .claim_pending(&id, &pending.id, "another-caller", now, now + CLAIM_LEASE)
            .await
            .expect("claim");
        assert!(held.is_some());
        // A repeat is no news: 200.
        assert_eq!(deliver(&world, &app, "acc_1", "CREDENTIALS").await, 200);
        // News while the holder may be acting on Unipile's older word: Unipile is asked to
        // deliver it again.
        assert_eq!(deliver(&world, &app, "acc_1", "OK").await, 503);
        world.clock.advance(CLAIM_LEASE + Duration::seconds(1));
        assert_eq!(deliver(&world, &app, "acc_1", "OK").await, 200);
        assert_eq!(status_of(&world, "acc_1").await, AccountStatus::Ok);
        assert!(
            world.mailer.sent().is_empty(),
            "recovered: the owed email is dropped"
        );
    }

    #[tokio::test]
    async fn given_no_recorded_email_then_200_and_no_mail() {
        let world = world();
        given_account(&world, "acc_1", false).await;
        let app = app(&world);
        assert_eq!(deliver(&world, &app, "acc_1", "CREDENTIALS").await, 200);
        assert!(world.mailer.sent().is_empty());
        assert_eq!(deliver(&world, &app, "acc_1", "CREDENTIALS").await, 200);
    }

    #[tokio::test]
    async fn given_error_then_stopped_then_one_restart_until_the_account_recovers() {
        let world = world();
        given_account(&world, "acc_1", true).await;
        let app = app(&world);
        for message in ["ERROR", "ERROR", "STOPPED", "ERROR"] {
            assert_eq!(deliver(&world, &app, "acc_1", message).await, 200);
        }
        assert_eq!(world.unipile.restarted().len(), 1);
        assert_eq!(deliver(&world, &app, "acc_1", "OK").await, 200);
        assert_eq!(deliver(&world, &app, "acc_1", "STOPPED").await, 200);
        assert_eq!(
            world.unipile.restarted().len(),
            2,
            "a new outage gets its own restart"
        );
    }

    #[tokio::test]
    async fn given_a_deleted_account_then_only_a_new_connection_revives_it() {
        let world = world();
        given_account(&world, "acc_1", true).await;
        let app = app(&world);
        for message in ["DELETED", "OK", "CREDENTIALS", "ERROR"] {
            assert_eq!(deliver(&world, &app, "acc_1", message).await, 200);
        }
        assert_eq!(status_of(&world, "acc_1").await, AccountStatus::Deleted);
        assert!(world.mailer.sent().is_empty());
        assert!(world.unipile.restarted().is_empty());
        // The user connects it again: Unipile has it once more.
        world
            .unipile
            .add_account(&AccountId::parse("acc_1").expect("id"), Provider::Linkedin);
        assert_eq!(deliver(&world, &app, "acc_1", "RECONNECTED").await, 200);
        assert_eq!(status_of(&world, "acc_1").await, AccountStatus::Ok);
    }

    #[tokio::test]
    async fn given_an_unknown_status_then_it_is_stored_as_sent_with_no_action() {
        let world = world();
        given_account(&world, "acc_1", true).await;
        let app = app(&world);
        assert_eq!(deliver(&world, &app, "acc_1", "PAUSED").await, 200);
        assert_eq!(
            status_of(&world, "acc_1").await,
            AccountStatus::Unknown("PAUSED".into())
        );
        assert!(world.mailer.sent().is_empty() && world.unipile.restarted().is_empty());
    }

    #[tokio::test]
    async fn forged_malformed_and_unknown_deliveries_change_nothing() {
        let world = world();
        given_account(&world, "acc_1", true).await;
        let app = app(&world);
        for secret in [None, Some("wrong"), Some("")] {
            let response = handler(&app, delivery("acc_1", "CREDENTIALS", secret))
                .await
                .expect("handled");
            assert_eq!(response.status(), 401);
        }
        let malformed = http::Request::builder()
            .method("POST")
            .uri("/unipile/webhook")
            .header("Unipile-Auth", SECRET)
            .body(Body::from("{\"AccountStatus\":"))
            .expect("request");
        assert_eq!(
            handler(&app, malformed).await.expect("handled").status(),
            400
        );
        assert_eq!(deliver(&world, &app, "not_ours", "CREDENTIALS").await, 200);
        assert_eq!(status_of(&world, "acc_1").await, AccountStatus::Ok);
        assert!(world.mailer.sent().is_empty());
    }

    #[tokio::test]
    async fn without_a_configured_secret_every_delivery_is_refused() {
        let world = world();
        given_account(&world, "acc_1", true).await;
        let mut app = app(&world);
        app.secret = WebhookSecret::new(DEFAULT_WEBHOOK_HEADER, None)
            .expect("secret")
            .into();
        assert_eq!(deliver(&world, &app, "acc_1", "CREDENTIALS").await, 401);
        assert_eq!(status_of(&world, "acc_1").await, AccountStatus::Ok);
    }
}
