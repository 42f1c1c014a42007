#[tokio::main]
async fn main() -> Result<(), lambda_http::Error> {
    unipile_connect::runtime::serve(
        |env| std::future::ready(web_assets::WebAssets::from_env(&env)),
        web_assets::handler,
    )
    .await
}
