use std::process::ExitCode;

#[tokio::main]
async fn main() -> Result<ExitCode, lambda_http::Error> {
    // Lambda starts `bootstrap` without arguments; with some, an operator is at the keyboard.
    let args: Vec<_> = std::env::args_os().skip(1).collect();
    if !args.is_empty() {
        return Ok(reconnect_retry::cli::run(args).await);
    }
    unipile_connect::runtime::serve_events(
        reconnect_retry::ReconnectRetry::from_env,
        reconnect_retry::handler,
    )
    .await
    .map(|()| ExitCode::SUCCESS)
}
