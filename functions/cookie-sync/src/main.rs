#[tokio::main]
async fn main() -> Result<(), lambda_http::Error> {
    unipile_connect::runtime::serve(cookie_sync::CookieSync::from_env, cookie_sync::handler).await
}
