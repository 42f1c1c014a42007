//! `account-reconciler`: once an hour (EventBridge Scheduler), Unipile's accounts against the
//! table, so that none is lost or goes unseen: settles the accounts a user's records claim,
//! marks DELETED the ones Unipile no longer has, reports the rest (a log line each and the
//! `UnattributedAccounts` metric). The decisions live in
//! [`unipile_connect::flows::account_reconciler`]. Given arguments, the same binary is the
//! operator's CLI ([`cli`]): `report`, `adopt`, `delete`.

pub mod cli;

use lambda_http::Error;
use serde_json::{Value, json};
use unipile_connect::config::{self, ConfigError, EnvSource};
use unipile_connect::deps::Deps;
use unipile_connect::flows::account_reconciler::{ReconcilePorts, ReconcileSettings, reconcile};

pub struct AccountReconciler {
    pub deps: Deps,
    pub settings: ReconcileSettings,
}

impl AccountReconciler {
    /// `TABLE_NAME`, `EVENT_BUS_NAME`, `UNIPILE_DSN`, `UNIPILE_API_KEY` (and the patience
    /// settings), `RECONCILE_MAX_PAGES`.
    pub async fn from_env(env: impl EnvSource) -> Result<Self, ConfigError> {
        // Settings first: a missing one is named before any AWS configuration is looked for
        // (what an operator at the CLI needs to hear first).
        let settings = config::reconcile_settings(&env)?;
        config::table_name(&env)?;
        let aws = config::aws_sdk_config(&env).await;
        Ok(Self {
            settings,
            deps: Deps::from_env(&env, &aws)?,
        })
    }

    pub fn ports(&self) -> ReconcilePorts<'_> {
        ReconcilePorts {
            store: self.deps.store.as_ref(),
            unipile: self.deps.unipile.as_ref(),
            clock: self.deps.clock.as_ref(),
        }
    }
}

/// One scheduled run; the event's content is not read (every run does the same). A run that
/// could not finish some write fails the invocation, so it shows in the function's errors; the
/// next hourly run is its retry (every write is idempotent).
pub async fn handler(app: &AccountReconciler, _event: Value) -> Result<Value, Error> {
    let run = reconcile(app.ports(), &app.settings).await?;
    if run.failures > 0 {
        return Err(format!(
            "reconciliation: {} writes or checks failed; the next run tries again",
            run.failures
        )
        .into());
    }
    Ok(json!({
        "settled": run.settled.iter().map(|id| id.as_str()).collect::<Vec<_>>(),
        "to_confirm": run.to_confirm.len(),
        "reconnects_ended": run.reconnects_ended.len(),
        "marked_deleted": run.marked_deleted.iter().map(|id| id.as_str()).collect::<Vec<_>>(),
        "unattributed": run.unattributed.len(),
        "listing_complete": run.listing_complete,
    }))
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::{Duration, TimeZone, Utc};
    use unipile_connect::domain::{AccountId, Provider};
    use unipile_connect::memory_world::MemoryWorld;

    #[tokio::test]
    async fn a_scheduled_run_answers_what_it_did() {
        let world = MemoryWorld::at(
            Utc.with_ymd_and_hms(2026, 3, 1, 12, 0, 0)
                .single()
                .expect("date"),
        );
        world
            .unipile
            .add_account(&AccountId::parse("stray").expect("id"), Provider::Telegram);
        world.clock.advance(Duration::hours(1));
        let app = AccountReconciler {
            deps: world.deps(),
            settings: ReconcileSettings::default(),
        };
        let answer = handler(&app, json!({})).await.expect("ran");
        assert_eq!(
            answer,
            json!({"settled": [], "to_confirm": 0, "reconnects_ended": 0, "marked_deleted": [], "unattributed": 1, "listing_complete": true})
        );
    }
}
