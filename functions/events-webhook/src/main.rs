use std::process::ExitCode;

#[tokio::main]
async fn main() -> Result<ExitCode, lambda_http::Error> {
    // Lambda starts `bootstrap` without arguments; with some, an operator is at the keyboard.
    let args: Vec<_> = std::env::args_os().skip(1).collect();
    if !args.is_empty() {
        return Ok(events_webhook::cli::run(args).await);
    }
    unipile_connect::runtime::serve_events(
        events_webhook::EventsWebhook::from_env,
        events_webhook::handler,
    )
    .await
    .map(|()| ExitCode::SUCCESS)
}
