use std::process::ExitCode;

#[tokio::main]
async fn main() -> Result<ExitCode, lambda_http::Error> {
    // Lambda starts `bootstrap` without arguments; with some, an operator is at the keyboard.
    let args: Vec<_> = std::env::args_os().skip(1).collect();
    if !args.is_empty() {
        return Ok(account_reconciler::cli::run(args).await);
    }
    unipile_connect::runtime::serve_events(
        account_reconciler::AccountReconciler::from_env,
        account_reconciler::handler,
    )
    .await
    .map(|()| ExitCode::SUCCESS)
}
