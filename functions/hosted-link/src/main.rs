#[tokio::main]
async fn main() -> Result<(), lambda_http::Error> {
    unipile_connect::runtime::serve(hosted_link::HostedLink::from_env, hosted_link::handler).await
}
