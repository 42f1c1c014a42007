#[tokio::main]
async fn main() -> Result<(), lambda_http::Error> {
    unipile_connect::runtime::serve_events(
        follow_up_sweeper::FollowUpSweeper::from_env,
        follow_up_sweeper::handler,
    )
    .await
}
