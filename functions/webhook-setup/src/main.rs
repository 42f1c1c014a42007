use std::process::ExitCode;

#[tokio::main]
async fn main() -> Result<ExitCode, lambda_http::Error> {
    // Lambda starts `bootstrap` without arguments; with some, a person is at the keyboard.
    let args: Vec<_> = std::env::args_os().skip(1).collect();
    if !args.is_empty() {
        return Ok(webhook_setup::cli::run(args).await);
    }
    unipile_connect::runtime::serve_events(
        webhook_setup::WebhookSetup::from_env,
        webhook_setup::handler,
    )
    .await
    .map(|()| ExitCode::SUCCESS)
}
