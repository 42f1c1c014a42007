//! The operator's CLI: what the hourly run reports, and the two decisions only a person can
//! make about an account nobody claims. Arguments are few and fixed, so they are read by hand
//! (as `webhook-setup` does). [`report`], [`adopt`] and [`delete`] return the text to print,
//! so tests call them without starting a process.

use crate::AccountReconciler;
use std::collections::HashMap;
use std::ffi::OsString;
use std::process::ExitCode;
use unipile_connect::config::{self, ConfigError};
use unipile_connect::domain::{AccountId, LinkedinMemberId, UserId};
use unipile_connect::flows::FlowError;
use unipile_connect::flows::account_reconciler::{self, ReconcilePorts, ReconcileSettings, survey};
use unipile_connect::runtime;

pub const USAGE: &str = "\
Unipile's accounts against the table: what the hourly run settles, and what it cannot.

Usage:
  account-reconciler report
      Lists the accounts Unipile bills that no user's records claim (id, type, created_at,
      and the users whose connect may have made them), then what a run would settle or mark
      DELETED. Writes nothing.
  account-reconciler adopt <account_id> <user_id> [--linkedin-member <member_id>]
      Records the account for that user, once Unipile confirms it exists. Refused when the
      account is recorded for another user. With --linkedin-member, the user's cookie record
      for that LinkedIn identity is tied to it (its pending connect ends).
  account-reconciler delete <account_id>
      Deletes the account at Unipile (it stops being billed). Refused for an account the table
      records or a user's records claim.
  account-reconciler --help

Environment:
  TABLE_NAME               the DynamoDB table (and AWS credentials to read it)
  EVENT_BUS_NAME           the stack's EventBusName output: what adopt records is published
  UNIPILE_DSN              your tenant, e.g. api8.unipile.com:13443
  UNIPILE_API_KEY          your Unipile access token
  SECRETS_ARN              optional: a Secrets Manager secret (JSON object) holding the above
  RECONCILE_MAX_PAGES      optional: pages of 250 accounts read (default 40)

Without arguments the binary serves Lambda invocations (the hourly schedule).";

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Command {
    Report,
    Adopt {
        account_id: String,
        user_id: String,
        linkedin_member: Option<String>,
    },
    Delete {
        account_id: String,
    },
    Help,
}

#[derive(Debug, thiserror::Error)]
pub enum CliError {
    #[error("{0} (see account-reconciler --help)")]
    Usage(String),
    #[error(transparent)]
    Config(#[from] ConfigError),
    #[error("{0}")]
    Invalid(String),
    #[error("could not {doing}: {error}")]
    Failed {
        doing: &'static str,
        error: FlowError,
    },
}

fn usage(message: impl Into<String>) -> CliError {
    CliError::Usage(message.into())
}

pub fn parse(args: &[String]) -> Result<Command, CliError> {
    if args
        .iter()
        .any(|a| matches!(a.as_str(), "-h" | "--help" | "help"))
    {
        return Ok(Command::Help);
    }
    let Some((command, rest)) = args.split_first() else {
        return Ok(Command::Help);
    };
    match command.as_str() {
        "report" if rest.is_empty() => Ok(Command::Report),
        "report" => Err(usage("report takes no arguments")),
        "adopt" => {
            let mut positional = Vec::new();
            let mut linkedin_member = None;
            let mut rest = rest.iter();
            while let Some(arg) = rest.next() {
                if arg == "--linkedin-member" {
                    let value = rest
                        .next()
                        .ok_or_else(|| usage("--linkedin-member needs a value"))?;
                    linkedin_member = Some(value.clone());
                } else if let Some(value) = arg.strip_prefix("--linkedin-member=") {
                    linkedin_member = Some(value.to_owned());
                } else if arg.starts_with("--") {
                    return Err(usage(format!("adopt does not take {arg:?}")));
                } else {
                    positional.push(arg.clone());
                }
            }
            match <[String; 2]>::try_from(positional) {
                Ok([account_id, user_id]) => Ok(Command::Adopt {
                    account_id,
                    user_id,
                    linkedin_member,
                }),
                Err(_) => Err(usage("adopt takes an account id and a user id")),
            }
        }
        "delete" => match rest {
            [account_id] => Ok(Command::Delete {
                account_id: account_id.clone(),
            }),
            _ => Err(usage("delete takes exactly one account id")),
        },
        other => Err(usage(format!("unknown command {other:?}"))),
    }
}

/// The unattributed accounts, one tab-separated line each under a header, then a summary.
pub async fn report(
    ports: ReconcilePorts<'_>,
    settings: &ReconcileSettings,
) -> Result<String, CliError> {
    let found = survey(ports, settings)
        .await
        .map_err(|error| CliError::Failed {
            doing: "survey the accounts",
            error,
        })?;
    let mut lines = Vec::new();
    if found.unattributed.is_empty() {
        lines.push("no unattributed accounts".to_owned());
    } else {
        lines.push("account_id\ttype\tcreated_at\thints".to_owned());
        lines.extend(found.unattributed.iter().map(|u| u.describe()));
    }
    lines.push(format!(
        "{} at Unipile, {} in the table; a run would record {} for their users and check {} \
         Unipile no longer lists{}{}",
        found.unipile_accounts,
        found.table_accounts,
        found.settle.len(),
        found.gone_candidates.len(),
        if found.listing_complete {
            ""
        } else {
            "; Unipile's list is longer than RECONCILE_MAX_PAGES pages: only part was read"
        },
        if found.too_recent > 0 {
            format!("; {} too recent to judge", found.too_recent)
        } else {
            String::new()
        },
    ));
    Ok(lines.join("\n"))
}

pub async fn adopt(
    ports: ReconcilePorts<'_>,
    account_id: &str,
    user_id: &str,
    linkedin_member: Option<&str>,
) -> Result<String, CliError> {
    let account_id = AccountId::parse(account_id).map_err(|e| CliError::Invalid(e.to_string()))?;
    let user_id = UserId::parse(user_id).map_err(|e| CliError::Invalid(e.to_string()))?;
    let member = linkedin_member
        .map(LinkedinMemberId::parse)
        .transpose()
        .map_err(|e| CliError::Invalid(e.to_string()))?;
    let adopted = account_reconciler::adopt(ports, &account_id, &user_id, member.as_ref())
        .await
        .map_err(|error| CliError::Failed {
            doing: "adopt the account",
            error,
        })?;
    let mut text = format!(
        "recorded {} account {account_id} for user {user_id} ({})",
        adopted.account.account_type, adopted.account.status
    );
    match (&member, adopted.cookie_record_linked) {
        (Some(member), true) => {
            text.push_str(&format!(
                "; cookie record of LinkedIn member {member} tied to it"
            ));
        }
        (Some(member), false) => text.push_str(&format!(
            "; user {user_id} has no cookie record for LinkedIn member {member}"
        )),
        (None, _) => {}
    }
    Ok(text)
}

pub async fn delete(ports: ReconcilePorts<'_>, account_id: &str) -> Result<String, CliError> {
    let account_id = AccountId::parse(account_id).map_err(|e| CliError::Invalid(e.to_string()))?;
    account_reconciler::delete_unattributed(ports, &account_id)
        .await
        .map_err(|error| CliError::Failed {
            doing: "delete the account",
            error,
        })?;
    Ok(format!("deleted account {account_id} at Unipile"))
}

/// Runs `args` (without the program name) with the settings in `env` (plus `SECRETS_ARN`).
pub async fn execute(args: &[String], env: HashMap<String, String>) -> Result<String, CliError> {
    let command = parse(args)?;
    if command == Command::Help {
        return Ok(USAGE.to_owned());
    }
    let env = config::with_secrets(env).await?;
    let app = AccountReconciler::from_env(env).await?;
    match command {
        Command::Report => report(app.ports(), &app.settings).await,
        Command::Adopt {
            account_id,
            user_id,
            linkedin_member,
        } => {
            adopt(
                app.ports(),
                &account_id,
                &user_id,
                linkedin_member.as_deref(),
            )
            .await
        }
        Command::Delete { account_id } => delete(app.ports(), &account_id).await,
        Command::Help => Ok(USAGE.to_owned()),
    }
}

/// The process's CLI (see [`runtime::run_command`] for what it prints and its exit codes).
pub async fn run(args: Vec<OsString>) -> ExitCode {
    runtime::run_command("account-reconciler", args, |args, env| async move {
        execute(&args, env).await
    })
    .await
}

impl runtime::CommandError for CliError {
    fn is_usage(&self) -> bool {
        matches!(self, Self::Usage(_))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::{Duration, TimeZone, Utc};
    use unipile_connect::domain::Provider;
    use unipile_connect::memory_world::MemoryWorld;
    use unipile_connect::ports::AccountStore;

    fn args(list: &[&str]) -> Vec<String> {
        list.iter().map(|s| s.to_string()).collect()
    }

    fn ports(world: &MemoryWorld) -> ReconcilePorts<'_> {
        ReconcilePorts {
            store: world.store.as_ref(),
            unipile: world.unipile.as_ref(),
            clock: world.clock.as_ref(),
        }
    }

    #[test]
    fn commands_and_their_arguments_are_read() {
        assert_eq!(parse(&args(&["report"])).expect("valid"), Command::Report);
        assert_eq!(
            parse(&args(&["adopt", "acc_1", "u1", "--linkedin-member=42"])).expect("valid"),
            Command::Adopt {
                account_id: "acc_1".into(),
                user_id: "u1".into(),
                linkedin_member: Some("42".into()),
            }
        );
        assert_eq!(
            parse(&args(&["delete", "acc_1"])).expect("valid"),
            Command::Delete {
                account_id: "acc_1".into()
            }
        );
        assert_eq!(parse(&args(&[])).expect("valid"), Command::Help);
        for bad in [
            &["report", "x"][..],
            &["adopt", "acc_1"],
            &["adopt", "acc_1", "u1", "u2"],
            &["adopt", "acc_1", "u1", "--linkedin-member"],
            &["adopt", "acc_1", "u1", "--force"],
            &["delete"],
            &["frobnicate"],
        ] {
            assert!(
                matches!(parse(&args(bad)), Err(CliError::Usage(_))),
                "{bad:?}"
            );
        }
    }

    #[tokio::test]
    async fn report_lists_the_unattributed_account_and_adopt_records_it() {
        let world = MemoryWorld::at(
            Utc.with_ymd_and_hms(2026, 3, 1, 12, 0, 0)
                .single()
                .expect("date"),
        );
        let stray = AccountId::parse("stray_9").expect("id");
        world.unipile.add_account(&stray, Provider::Telegram);
        world.clock.advance(Duration::hours(1));
        let settings = ReconcileSettings::default();

        let listed = report(ports(&world), &settings).await.expect("ran");
        let lines: Vec<_> = listed.lines().collect();
        assert_eq!(lines[0], "account_id\ttype\tcreated_at\thints");
        assert_eq!(lines[1], "stray_9\tTELEGRAM\t2026-03-01T12:00:00Z");
        assert!(
            lines[2].starts_with("1 at Unipile, 0 in the table"),
            "{listed}"
        );

        let adopted = adopt(ports(&world), "stray_9", "u5", None)
            .await
            .expect("adopted");
        assert_eq!(
            adopted,
            "recorded TELEGRAM account stray_9 for user u5 (OK)"
        );
        let account = world
            .store
            .get_account(&stray)
            .await
            .expect("read")
            .expect("recorded");
        assert_eq!(account.user_id.as_str(), "u5");
        let listed = report(ports(&world), &settings).await.expect("ran");
        assert!(listed.starts_with("no unattributed accounts"), "{listed}");

        let refused = delete(ports(&world), "stray_9").await.expect_err("known");
        assert!(
            refused.to_string().contains("recorded for user u5"),
            "{refused}"
        );
    }

    #[tokio::test]
    async fn help_needs_no_configuration_and_a_missing_setting_is_named() {
        let help = execute(&args(&["--help"]), HashMap::new())
            .await
            .expect("help");
        assert!(help.contains("account-reconciler adopt <account_id> <user_id>"));
        let error = execute(&args(&["report"]), HashMap::new())
            .await
            .expect_err("no table");
        assert_eq!(error.to_string(), "TABLE_NAME is not set");
    }
}
