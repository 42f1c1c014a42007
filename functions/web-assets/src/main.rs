#[tokio::main]
async fn main() -> Result<(), lambda_http::Error> {
    unipile_connect::runtime::serve_built(
        web_assets::WebAssets::from_env(&std::env::vars().collect())?,
        web_assets::handler,
    )
    .await
}
