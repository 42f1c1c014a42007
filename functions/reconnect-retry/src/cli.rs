//! The operator's CLI for the reconnect dead-letter queue: the attempts Lambda gave up on (or
//! that Scheduler could not deliver) are listed, run again, or ended with the owner told.
//! Nothing is deleted from the queue before what it asked for is done.

use crate::ReconnectRetry;
use std::collections::HashMap;
use std::ffi::OsString;
use std::process::ExitCode;
use unipile_connect::config::{self, ConfigError};
use unipile_connect::deps;
use unipile_connect::flows::dead_letters::{self, Handled, Handling};
use unipile_connect::ports::{DeadLetterQueue, QueueError};
use unipile_connect::runtime;

pub const USAGE: &str = "\
The reconnect attempts that failed every try, waiting in the dead-letter queue.

Usage:
  reconnect-retry dead-letters list [--limit N]
      Shows each waiting attempt (account, outage, attempt, why it died). Changes nothing.
  reconnect-retry dead-letters replay [--limit N]
      Runs each attempt again, exactly as the function would; one that succeeds (or finds
      nothing left to do) leaves the queue, one that fails again stays.
  reconnect-retry dead-letters drain [--limit N]
      Ends each attempt's reconnect without trying it and emails the owner to reconnect, as
      when the last attempt fails; an attempt whose reconnect is already over just leaves.
  reconnect-retry --help

  --limit N   handle at most N messages (default 100)

A message that carries no attempt is printed whole and kept. Exit code 1 when a message
failed again or the queue could not be read, 2 on a usage error.

Environment:
  DEAD_LETTER_QUEUE_URL    the stack's ReconnectDeadLetterQueueUrl output
  for replay and drain, the function's own environment too (TABLE_NAME, EVENT_BUS_NAME, SECRETS_ARN,
  COOKIE_KMS_KEY_ID, MAIL_FROM, APP_BASE_URL, SCHEDULER_* ...) and AWS credentials allowed
  what the function does; `scripts/stack.sh dead-letters ...` sets all of it from the
  deployed stack.

Without arguments the binary serves Lambda invocations (the reconnect schedules).";

pub use dead_letters::{Action, DEFAULT_LIMIT};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Command {
    DeadLetters { action: Action, limit: usize },
    Help,
}

#[derive(Debug, thiserror::Error)]
pub enum CliError {
    #[error("{0} (see reconnect-retry --help)")]
    Usage(String),
    #[error(transparent)]
    Config(#[from] ConfigError),
    #[error(transparent)]
    Queue(#[from] QueueError),
    /// The report is printed on stderr with the error, so nothing handled goes unseen.
    #[error("{failed} of {handled} dead letters failed again and stay queued:\n{report}")]
    SomeFailed {
        failed: usize,
        handled: usize,
        report: String,
    },
}

fn usage(message: impl Into<String>) -> CliError {
    CliError::Usage(message.into())
}

pub fn parse(args: &[String]) -> Result<Command, CliError> {
    Ok(match dead_letters::parse_command(args).map_err(usage)? {
        Some((action, limit)) => Command::DeadLetters { action, limit },
        None => Command::Help,
    })
}

/// What a run printed: one line per message, then a summary. Fails when any message failed
/// again, so a script (or the operator) sees it.
pub fn report(action: Action, handled: &[Handled]) -> Result<String, CliError> {
    let mut lines: Vec<String> = handled.iter().map(dead_letters::describe).collect();
    let failed = handled.iter().filter(|h| h.result.is_err()).count();
    let kept = handled
        .iter()
        .filter(|h| matches!(h.result, Ok(dead_letters::Done::Kept)))
        .count();
    lines.push(dead_letters::summary(action, handled.len(), failed, kept));
    let text = lines.join("\n");
    if failed > 0 {
        return Err(CliError::SomeFailed {
            failed,
            handled: handled.len(),
            report: text,
        });
    }
    Ok(text)
}

pub async fn handle(
    queue: &dyn DeadLetterQueue,
    app: Option<&ReconnectRetry>,
    action: Action,
    limit: usize,
) -> Result<String, CliError> {
    let handling = match (action, app) {
        (Action::List, _) => Handling::List,
        (Action::Replay, Some(app)) => Handling::Replay(app.ports(), &app.follow_ups.settings),
        (Action::Drain, Some(app)) => Handling::Drain(app.ports(), &app.follow_ups.settings),
        (_, None) => return Err(usage("replay and drain need the function's environment")),
    };
    let handled = dead_letters::handle(queue, handling, limit).await?;
    report(action, &handled)
}

/// Runs `args` (without the program name) with the settings in `env` (plus `SECRETS_ARN`).
pub async fn execute(args: &[String], env: HashMap<String, String>) -> Result<String, CliError> {
    let Command::DeadLetters { action, limit } = parse(args)? else {
        return Ok(USAGE.to_owned());
    };
    unipile_connect::metrics::silence();
    let aws = config::aws_sdk_config(&env).await;
    let queue = deps::dead_letter_queue(&env, &aws)?;
    let app = match action {
        Action::List => None,
        Action::Replay | Action::Drain => {
            let env = config::with_secrets(env).await?;
            Some(ReconnectRetry::from_env(env).await?)
        }
    };
    handle(&queue, app.as_ref(), action, limit).await
}

/// The process's CLI (see [`runtime::run_command`] for what it prints and its exit codes).
pub async fn run(args: Vec<OsString>) -> ExitCode {
    runtime::run_command("reconnect-retry", args, |args, env| async move {
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

    fn args(list: &[&str]) -> Vec<String> {
        list.iter().map(|s| s.to_string()).collect()
    }

    #[test]
    fn commands_and_their_arguments_are_read() {
        assert_eq!(
            parse(&args(&["dead-letters", "list"])).expect("valid"),
            Command::DeadLetters {
                action: Action::List,
                limit: DEFAULT_LIMIT
            }
        );
        assert_eq!(
            parse(&args(&["dead-letters", "drain", "--limit", "3"])).expect("valid"),
            Command::DeadLetters {
                action: Action::Drain,
                limit: 3
            }
        );
        assert_eq!(parse(&args(&[])).expect("valid"), Command::Help);
        for bad in [
            &["dead-letters"][..],
            &["dead-letters", "purge"],
            &["dead-letters", "replay", "--limit"],
            &["dead-letters", "replay", "--limit", "0"],
            &["dead-letters", "replay", "--limit", "x"],
            &["dead-letters", "replay", "extra"],
            &["letters", "list"],
        ] {
            assert!(
                matches!(parse(&args(bad)), Err(CliError::Usage(_))),
                "{bad:?}"
            );
        }
    }

    #[tokio::test]
    async fn help_needs_no_configuration_and_a_missing_queue_is_named() {
        let help = execute(&args(&["--help"]), HashMap::new())
            .await
            .expect("help");
        assert!(help.contains("reconnect-retry dead-letters replay"));
        let error = execute(&args(&["dead-letters", "list"]), HashMap::new())
            .await
            .expect_err("no queue");
        assert_eq!(error.to_string(), "DEAD_LETTER_QUEUE_URL is not set");
    }
}
