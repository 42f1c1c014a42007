#[tokio::main]
async fn main() -> Result<(), lambda_http::Error> {
    unipile_connect::runtime::serve(
        status_webhook::StatusWebhook::from_env,
        status_webhook::handler,
    )
    .await
}
