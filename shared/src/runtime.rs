//! The Lambda side of every function's `main`: logs, cold-start wiring, the invoke loop.

use crate::config::{self, ConfigError};
use crate::deadline;
use lambda_http::{Body, Error, Request, RequestExt, Response, service_fn};
use std::collections::HashMap;
use std::future::Future;

/// Logs, then the function's dependencies, built once from the environment (and
/// `SECRETS_ARN`). A configuration error stops the cold start with the variable's name.
async fn cold_start<App, Build, BuildFut>(build: Build) -> Result<&'static App, Error>
where
    App: 'static,
    Build: FnOnce(HashMap<String, String>) -> BuildFut,
    BuildFut: Future<Output = Result<App, ConfigError>>,
{
    crate::telemetry::init_lambda();
    let started = async { build(config::with_secrets(std::env::vars().collect()).await?).await };
    let app = started.await.inspect_err(|error| {
        tracing::error!(%error, "configuration error: the function cannot start");
    })?;
    // Built once per execution environment and used until it is frozen for good.
    Ok(Box::leak(Box::new(app)))
}

/// Serves HTTP invocations (API Gateway, function URLs) with `handler`, after [`cold_start`].
pub async fn serve<App, Build, BuildFut, Handler, HandlerFut>(
    build: Build,
    handler: Handler,
) -> Result<(), Error>
where
    Build: FnOnce(HashMap<String, String>) -> BuildFut,
    BuildFut: Future<Output = Result<App, ConfigError>>,
    App: Sync + 'static,
    Handler: Fn(&'static App, Request) -> HandlerFut,
    HandlerFut: Future<Output = Result<Response<Body>, Error>> + Send,
{
    let app = cold_start(build).await?;
    let handler = &handler;
    lambda_http::run(service_fn(move |request: Request| {
        let deadline = request
            .lambda_context_ref()
            .map(|context| deadline::instant_of(context.deadline()));
        let work = handler(app, request);
        async move {
            match deadline {
                Some(deadline) => deadline::within(deadline, work).await,
                None => work.await,
            }
        }
    }))
    .await
}

/// The same for a function invoked with plain events (EventBridge Scheduler): `handler` gets
/// the event payload; an error makes the invocation fail, so the caller's retry policy applies.
/// In both, [`deadline::remaining`] tells the handler how long the invocation has left.
pub async fn serve_events<App, Build, BuildFut, Handler, HandlerFut>(
    build: Build,
    handler: Handler,
) -> Result<(), Error>
where
    Build: FnOnce(HashMap<String, String>) -> BuildFut,
    BuildFut: Future<Output = Result<App, ConfigError>>,
    App: Sync + 'static,
    Handler: Fn(&'static App, serde_json::Value) -> HandlerFut,
    HandlerFut: Future<Output = Result<serde_json::Value, Error>> + Send,
{
    let app = cold_start(build).await?;
    let handler = &handler;
    lambda_http::lambda_runtime::run(lambda_http::lambda_runtime::service_fn(
        move |event: lambda_http::LambdaEvent<serde_json::Value>| {
            let deadline = deadline::instant_of(event.context.deadline());
            deadline::within(deadline, handler(app, event.payload))
        },
    ))
    .await
}

/// What an operator command's error says of itself: a usage error exits 2, any other 1.
pub trait CommandError: std::fmt::Display {
    fn is_usage(&self) -> bool;
}

/// The CLI side of a function's binary (`webhook-setup register ...`): `execute` gets the
/// arguments and the environment; its text goes to stdout, its error to stderr with exit code
/// 1, or 2 for a usage error.
pub async fn run_command<E, Execute, Fut>(
    program: &str,
    args: Vec<std::ffi::OsString>,
    execute: Execute,
) -> std::process::ExitCode
where
    E: CommandError,
    Execute: FnOnce(Vec<String>, HashMap<String, String>) -> Fut,
    Fut: Future<Output = Result<String, E>>,
{
    let Some(args) = args
        .into_iter()
        .map(|a| a.into_string().ok())
        .collect::<Option<Vec<String>>>()
    else {
        eprintln!("{program}: arguments must be UTF-8 (see {program} --help)");
        return std::process::ExitCode::from(2);
    };
    match execute(args, std::env::vars().collect()).await {
        Ok(text) => {
            println!("{text}");
            std::process::ExitCode::SUCCESS
        }
        Err(error) => {
            eprintln!("{program}: {error}");
            if error.is_usage() {
                std::process::ExitCode::from(2)
            } else {
                std::process::ExitCode::FAILURE
            }
        }
    }
}
