#[tokio::main]
async fn main() -> Result<(), lambda_http::Error> {
    unipile_connect::runtime::serve(accounts::Accounts::from_env, accounts::handler).await
}
