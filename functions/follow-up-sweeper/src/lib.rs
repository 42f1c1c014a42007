//! The follow-up sweeper, invoked every 5 minutes by an EventBridge schedule (its event is
//! ignored): finishes every recorded follow-up whose claim lease or back-off is over (the
//! CREDENTIALS email SES refused, the delivery Unipile could not confirm...). A failure of the
//! run as a whole (the table unreachable) fails the invocation; the next run starts over.

use lambda_http::Error;
use serde_json::{Value, json};
use unipile_connect::config::{self, ConfigError, EnvSource};
use unipile_connect::deps::FollowUpDeps;
use unipile_connect::flows::events;
use unipile_connect::flows::follow_up_sweeper::sweep;

pub struct FollowUpSweeper {
    pub follow_ups: FollowUpDeps,
}

impl FollowUpSweeper {
    pub async fn from_env(env: impl EnvSource) -> Result<Self, ConfigError> {
        let aws = config::aws_sdk_config(&env).await;
        Ok(Self {
            follow_ups: FollowUpDeps::from_env(&env, &aws)?,
        })
    }
}

/// Follow-ups first, then the events their writers left unpublished (doing follow-ups
/// records facts, published at once). Each runs whatever the other did.
pub async fn handler(app: &FollowUpSweeper, _event: Value) -> Result<Value, Error> {
    let report = sweep(app.follow_ups.ports(), &app.follow_ups.settings).await;
    let deps = &app.follow_ups.deps;
    let events = events::sweep(
        deps.store.as_ref(),
        deps.events.as_ref(),
        deps.clock.as_ref(),
    )
    .await;
    let mut answer = json!(report?);
    answer["events"] = json!(events?);
    Ok(answer)
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::{Duration, TimeZone, Utc};
    use unipile_connect::domain::{
        AccountId, AccountStatus, Email, Provider, UnipileEvent, UserId,
    };
    use unipile_connect::flows::status_webhook::{WebhookOutcome, handle_status_event};
    use unipile_connect::memory_world::MemoryWorld;
    use unipile_connect::ports::{AccountStore, Clock, ConnectedAccount, UserProfile};

    fn app(world: &MemoryWorld) -> FollowUpSweeper {
        FollowUpSweeper {
            follow_ups: FollowUpDeps {
                directory: None,
                ..world.follow_up_deps()
            },
        }
    }

    #[tokio::test]
    async fn given_nothing_due_then_the_run_reports_nothing() {
        let world = MemoryWorld::at(Utc::now());
        let report = handler(&app(&world), json!({"source": "aws.scheduler"}))
            .await
            .expect("ran");
        assert_eq!(report["due"], 0);
    }

    #[tokio::test]
    async fn given_an_email_ses_refused_then_the_next_run_sends_it_once() {
        let world = MemoryWorld::at(
            Utc.with_ymd_and_hms(2026, 3, 1, 12, 0, 0)
                .single()
                .expect("date"),
        );
        let app = app(&world);
        let id = AccountId::parse("acc_1").expect("id");
        let owner = UserId::parse("u1").expect("user");
        world.unipile.add_account(&id, Provider::Whatsapp);
        let connection = ConnectedAccount {
            account_id: id.clone(),
            user_id: owner.clone(),
            account_type: Provider::Whatsapp,
            status: AccountStatus::Ok,
            display_name: None,
            linkedin_member_id: None,
            linkedin_profile_id: None,
        };
        let store = world.store.as_ref();
        store
            .record_connection(
                &connection,
                unipile_connect::domain::events::How::Hosted,
                world.clock.now(),
            )
            .await
            .expect("stored");
        let profile = UserProfile {
            user_id: owner,
            email: Email::parse("jane@example.com").expect("email"),
            updated_at: world.clock.now(),
        };
        store.save_profile(&profile).await.expect("profile");
        world.unipile.set_status(&id, AccountStatus::Credentials);
        world.mailer.fail_next(1);
        let ports = app.follow_ups.ports();
        let event = UnipileEvent {
            account_id: id.clone(),
            status: AccountStatus::Credentials,
            account_type: None,
            name: None,
        };
        let outcome = handle_status_event(ports, &app.follow_ups.settings, &event)
            .await
            .expect("recorded");
        assert_eq!(outcome, WebhookOutcome::Deferred);
        world.clock.advance(Duration::minutes(5));
        let report = handler(&app, json!({})).await.expect("ran");
        assert_eq!(
            (report["due"].clone(), report["finished"].clone()),
            (json!(1), json!(1))
        );
        assert_eq!(world.mailer.sent().len(), 1);
        world.clock.advance(Duration::hours(1));
        let report = handler(&app, json!({})).await.expect("ran");
        assert_eq!(report["due"], 0, "nothing left");
        assert_eq!(world.mailer.sent().len(), 1);
    }
}
