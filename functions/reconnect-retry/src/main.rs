#[tokio::main]
async fn main() -> Result<(), lambda_http::Error> {
    unipile_connect::runtime::serve_events(
        reconnect_retry::ReconnectRetry::from_env,
        reconnect_retry::handler,
    )
    .await
}
