//! The CLI, for teams that wire the webhook by hand: the same registration as the custom
//! resource, from a terminal. Arguments are few and fixed, so they are read by hand rather
//! than with an argument-parsing crate (a smaller Lambda binary, one less dependency).
//!
//! [`register`], [`list`] and [`delete`] return the text to print, so tests call them
//! without starting a process.

use std::collections::HashMap;
use std::ffi::OsString;
use std::process::ExitCode;
use unipile_connect::adapters::unipile::HttpUnipile;
use unipile_connect::config::{self, ConfigError};
use unipile_connect::domain::WebhookId;
use unipile_connect::domain::webhook::{WebhookAuth, WebhookRegistration, WebhookUrl};
use unipile_connect::flows::webhook_setup::{self, Registered};
use unipile_connect::ports::{UnipileError, WebhookDeletion, WebhookRegistry};
use unipile_connect::runtime;

pub const USAGE: &str = "\
Registers Unipile's account_status webhook, pointed at the stack's status webhook.

Usage:
  webhook-setup register --url <StatusWebhookUrl> [--name <name>]
      Registers the webhook with the secret header, unless an identical one (same URL and
      secret) is there already. Prints its id and whether it was created. The URL must be
      https (plain http only to this machine: 127.0.0.0/8, ::1 or localhost) and the
      secret 32 characters or more.
  webhook-setup list
      Lists the tenant's webhooks: id, source, request_url, name, and whether each carries
      our secret header (never any header value).
  webhook-setup delete <id>
      Deletes a webhook; one that is already gone is not an error.
  webhook-setup --help

Environment:
  UNIPILE_DSN              your tenant, e.g. api8.unipile.com:13443
  UNIPILE_API_KEY          your Unipile access token
  UNIPILE_WEBHOOK_SECRET   the secret status-webhook expects, 32+ characters (register; list
                           to compare)
  UNIPILE_WEBHOOK_HEADER   its header name (default Unipile-Auth)
  SECRETS_ARN              optional: a Secrets Manager secret (JSON object) holding the above

Without arguments the binary serves Lambda invocations (a CloudFormation custom resource).";

/// What was asked on the command line. A URL is judged as it is read: a plain-http one off
/// this machine is refused before any setting or secret is read.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Command {
    Register {
        url: WebhookUrl,
        name: Option<String>,
    },
    List,
    Delete {
        id: String,
    },
    Help,
}

#[derive(Debug, thiserror::Error)]
pub enum CliError {
    #[error("{0} (see webhook-setup --help)")]
    Usage(String),
    #[error(transparent)]
    Config(#[from] ConfigError),
    #[error("{0}")]
    Invalid(String),
    #[error("could not {doing}: {error}")]
    Unipile {
        doing: &'static str,
        error: UnipileError,
    },
}

fn usage(message: impl Into<String>) -> CliError {
    CliError::Usage(message.into())
}

/// Reads `--flag value` or `--flag=value`.
fn flag_value(
    flag: &str,
    arg: &str,
    rest: &mut std::slice::Iter<'_, String>,
) -> Result<Option<String>, CliError> {
    if arg == flag {
        return rest
            .next()
            .map(|v| Some(v.clone()))
            .ok_or_else(|| usage(format!("{flag} needs a value")));
    }
    Ok(arg
        .strip_prefix(flag)
        .and_then(|tail| tail.strip_prefix('='))
        .map(str::to_owned))
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
        "register" => {
            let (mut url, mut name) = (None, None);
            let mut rest = rest.iter();
            while let Some(arg) = rest.next() {
                if let Some(value) = flag_value("--url", arg, &mut rest)? {
                    url = Some(value);
                } else if let Some(value) = flag_value("--name", arg, &mut rest)? {
                    name = Some(value);
                } else {
                    return Err(usage(format!("register does not take {arg:?}")));
                }
            }
            let url = url.ok_or_else(|| usage("register needs --url <StatusWebhookUrl>"))?;
            let url = WebhookUrl::parse(&url).map_err(|e| CliError::Invalid(e.to_string()))?;
            Ok(Command::Register { url, name })
        }
        "list" if rest.is_empty() => Ok(Command::List),
        "list" => Err(usage("list takes no arguments")),
        "delete" => match rest {
            [id] => Ok(Command::Delete { id: id.clone() }),
            _ => Err(usage("delete takes exactly one webhook id")),
        },
        other => Err(usage(format!("unknown command {other:?}"))),
    }
}

/// Registers `registration` unless an identical webhook is there.
pub async fn register(
    registry: &dyn WebhookRegistry,
    registration: &WebhookRegistration,
) -> Result<String, CliError> {
    let url = &registration.request_url;
    match webhook_setup::ensure_registered(registry, registration).await {
        Ok(Registered::Created(id)) => Ok(format!("created webhook {id} for {url}")),
        Ok(Registered::AlreadyThere(id)) => Ok(format!(
            "already registered: webhook {id} for {url} carries this secret; nothing changed"
        )),
        // Unipile's words could quote what it was sent, the secret included.
        Err(error) => Err(CliError::Invalid(
            registration.auth.redact(
                &CliError::Unipile {
                    doing: "register the webhook",
                    error,
                }
                .to_string(),
            ),
        )),
    }
}

/// One line per webhook, tab-separated, under a header line. `auth`, when configured, tells
/// which webhooks carry our secret; no header value is ever printed.
pub async fn list(
    registry: &dyn WebhookRegistry,
    auth: Option<&WebhookAuth>,
) -> Result<String, CliError> {
    let webhooks = registry
        .list_webhooks()
        .await
        .map_err(|error| CliError::Unipile {
            doing: "list the webhooks",
            error,
        })?;
    if webhooks.is_empty() {
        return Ok("no webhooks registered".into());
    }
    let mut lines = vec!["id\tsource\trequest_url\tname\tour_secret".to_owned()];
    for webhook in webhooks {
        let ours = match auth {
            Some(auth) if auth.is_carried_by(&webhook.headers) => "yes",
            Some(_) => "no",
            None => "unknown",
        };
        lines.push(format!(
            "{}\t{}\t{}\t{}\t{ours}",
            webhook.id,
            webhook.source.as_deref().unwrap_or("-"),
            webhook.request_url,
            webhook.name.as_deref().unwrap_or("-"),
        ));
    }
    Ok(lines.join("\n"))
}

pub async fn delete(registry: &dyn WebhookRegistry, id: &str) -> Result<String, CliError> {
    let id = WebhookId::parse(id).map_err(|e| CliError::Invalid(e.to_string()))?;
    match webhook_setup::remove(registry, &id).await {
        Ok(WebhookDeletion::Deleted) => Ok(format!("deleted webhook {id}")),
        Ok(WebhookDeletion::AlreadyGone) => Ok(format!("webhook {id} was already gone")),
        Err(error) => Err(CliError::Unipile {
            doing: "delete the webhook",
            error,
        }),
    }
}

/// Runs `args` (without the program name) with the settings in `env` (plus `SECRETS_ARN`):
/// the text to print, or why not.
pub async fn execute(args: &[String], env: HashMap<String, String>) -> Result<String, CliError> {
    let command = parse(args)?;
    if command == Command::Help {
        return Ok(USAGE.to_owned());
    }
    let env = config::with_secrets(env).await?;
    let registry =
        HttpUnipile::new(config::unipile_settings(&env)?).map_err(|e| ConfigError::Invalid {
            var: "UNIPILE_DSN",
            reason: e.to_string(),
        })?;
    match command {
        Command::Register { url, name } => {
            let auth = config::webhook_auth(&env)?;
            let registration = WebhookRegistration::new(url, name.as_deref(), auth)
                .map_err(|e| CliError::Invalid(e.to_string()))?;
            register(&registry, &registration).await
        }
        // Listing needs no secret; with one, it shows which webhooks carry it.
        Command::List => list(&registry, config::webhook_auth(&env).ok().as_ref()).await,
        Command::Delete { id } => delete(&registry, &id).await,
        Command::Help => Ok(USAGE.to_owned()),
    }
}

/// The process's CLI (see [`runtime::run_command`] for what it prints and its exit codes).
pub async fn run(args: Vec<OsString>) -> ExitCode {
    runtime::run_command("webhook-setup", args, |args, env| async move {
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
    use secrecy::SecretString;
    use unipile_connect::adapters::memory::MemoryWebhooks;

    fn args(list: &[&str]) -> Vec<String> {
        list.iter().map(|s| s.to_string()).collect()
    }

    #[test]
    fn commands_and_their_arguments_are_read() {
        assert_eq!(
            parse(&args(&[
                "register",
                "--url",
                "https://x.example.com/",
                "--name=n"
            ]))
            .expect("valid"),
            Command::Register {
                url: WebhookUrl::parse("https://x.example.com/").expect("valid"),
                name: Some("n".into())
            }
        );
        assert_eq!(parse(&args(&["list"])).expect("valid"), Command::List);
        assert_eq!(
            parse(&args(&["delete", "wh_1"])).expect("valid"),
            Command::Delete { id: "wh_1".into() }
        );
        assert_eq!(
            parse(&args(&["register", "--help"])).expect("valid"),
            Command::Help
        );
        for bad in [
            &["register"][..],
            &["register", "--url"],
            &["register", "--url", "u", "--secret", "s"],
            &["list", "x"],
            &["delete"],
            &["delete", "a", "b"],
            &["frobnicate"],
        ] {
            assert!(
                matches!(parse(&args(bad)), Err(CliError::Usage(_))),
                "{bad:?}"
            );
        }
    }

    #[tokio::test]
    async fn register_twice_creates_once_and_list_shows_no_secret() {
        let registry = MemoryWebhooks::new();
        let auth = WebhookAuth::new(
            "Unipile-Auth",
            SecretString::from("cli-secret-never-printed-0123456789"),
        )
        .expect("valid");
        let registration = WebhookRegistration::new(
            WebhookUrl::parse("https://x.example.com/hook").expect("valid"),
            Some("mine"),
            auth.clone(),
        )
        .expect("valid");
        let first = register(&registry, &registration).await.expect("ran");
        assert!(first.starts_with("created webhook wh_1"), "{first}");
        let second = register(&registry, &registration).await.expect("ran");
        assert!(
            second.starts_with("already registered: webhook wh_1"),
            "{second}"
        );

        let listed = list(&registry, Some(&auth)).await.expect("ran");
        assert_eq!(
            listed,
            "id\tsource\trequest_url\tname\tour_secret\n\
             wh_1\taccount_status\thttps://x.example.com/hook\tmine\tyes"
        );
        assert!(!listed.contains("cli-secret"));

        assert_eq!(
            delete(&registry, "wh_1").await.expect("ran"),
            "deleted webhook wh_1"
        );
        assert_eq!(
            delete(&registry, "wh_1").await.expect("ran"),
            "webhook wh_1 was already gone"
        );
        assert_eq!(
            list(&registry, None).await.expect("ran"),
            "no webhooks registered"
        );
    }

    #[tokio::test]
    async fn help_needs_no_configuration_and_a_missing_setting_is_named() {
        let help = execute(&args(&["--help"]), HashMap::new())
            .await
            .expect("help");
        assert!(help.contains("webhook-setup register --url"));
        let error = execute(&args(&["list"]), HashMap::new())
            .await
            .expect_err("no DSN");
        assert_eq!(error.to_string(), "UNIPILE_DSN is not set");
    }

    #[tokio::test]
    async fn a_url_register_refuses_is_refused_before_any_setting_is_read() {
        let error = execute(
            &args(&[
                "register",
                "--url",
                "http://127.0.0.1.nip.io/unipile/webhook",
            ]),
            HashMap::new(),
        )
        .await
        .expect_err("plain http off this machine");
        assert!(matches!(error, CliError::Invalid(_)), "{error:?}");
        assert!(error.to_string().contains("is not https"), "{error}");
    }

    /// What `register` is given: a tenant that would never be reached (the refusals come
    /// first), the secret `secret`.
    fn register_env(secret: &str) -> HashMap<String, String> {
        HashMap::from([
            ("UNIPILE_DSN".to_owned(), "http://127.0.0.1:9".to_owned()),
            (
                "UNIPILE_API_KEY".to_owned(),
                "cli-key-never-logged".to_owned(),
            ),
            ("UNIPILE_WEBHOOK_SECRET".to_owned(), secret.to_owned()),
            ("UNIPILE_RETRY_BASE_MS".to_owned(), "1".to_owned()),
            ("UNIPILE_TIMEOUT_SECONDS".to_owned(), "2".to_owned()),
        ])
    }

    #[tokio::test]
    async fn register_refuses_plain_http_but_to_this_machine_and_a_short_secret() {
        let strong = "webhook-secret-never-logged-of-32-characters";
        let error = execute(
            &args(&[
                "register",
                "--url",
                "http://hooks.example.com/unipile/webhook",
            ]),
            register_env(strong),
        )
        .await
        .expect_err("plain http");
        assert!(matches!(error, CliError::Invalid(_)), "{error:?}");
        assert!(error.to_string().contains("is not https"), "{error}");

        let weak = "short-never-logged";
        let error = execute(
            &args(&[
                "register",
                "--url",
                "https://hooks.example.com/unipile/webhook",
            ]),
            register_env(weak),
        )
        .await
        .expect_err("a short secret");
        let shown = error.to_string();
        assert!(shown.contains("shorter than 32 characters"), "{shown}");
        assert!(!shown.contains(weak), "{shown}");

        // Plain http to this machine passes the checks, and only then is Unipile asked.
        let error = execute(
            &args(&["register", "--url", "http://127.0.0.1:8787/unipile/webhook"]),
            register_env(strong),
        )
        .await
        .expect_err("no tenant there");
        assert!(
            error
                .to_string()
                .starts_with("could not register the webhook"),
            "{error}"
        );
    }
}
