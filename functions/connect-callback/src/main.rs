#[tokio::main]
async fn main() -> Result<(), lambda_http::Error> {
    unipile_connect::runtime::serve(
        connect_callback::ConnectCallback::from_env,
        connect_callback::handler,
    )
    .await
}
