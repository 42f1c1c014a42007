//! Owners whose token carried no email (Cognito access tokens) are found in the Cognito user
//! pool: moto's cognito-idp, the real SDK client, wired from the environment as `main` wires it.

use crate::status_webhook::deliver;
use aws_sdk_cognitoidentityprovider::types::{AttributeType, MessageActionType};
use harness::moto::sent_emails;
use harness::world::{World, aws_env, unique};
use unipile_connect::{config, deps};

/// A user pool of its own with one user (`email`, verified or not); answers the pool id and
/// the user's `sub`, which moto generates as Cognito does.
async fn given_a_pool_user(world: &World, email: &str, verified: bool) -> (String, String) {
    let aws = config::aws_sdk_config(&aws_env(&world.moto_endpoint, &world.table)).await;
    let cognito = aws_sdk_cognitoidentityprovider::Client::new(&aws);
    let pool = cognito
        .create_user_pool()
        .pool_name(unique("users"))
        .send()
        .await
        .expect("user pool");
    let pool_id = pool
        .user_pool()
        .and_then(|p| p.id())
        .expect("pool id")
        .to_owned();
    let attribute = |name: &str, value: &str| {
        AttributeType::builder()
            .name(name)
            .value(value)
            .build()
            .expect("attribute")
    };
    let created = cognito
        .admin_create_user()
        .user_pool_id(&pool_id)
        .username(unique("jane"))
        .user_attributes(attribute("email", email))
        .user_attributes(attribute(
            "email_verified",
            if verified { "true" } else { "false" },
        ))
        .message_action(MessageActionType::Suppress)
        .send()
        .await
        .expect("user created");
    let sub = created
        .user()
        .and_then(|u| u.attributes().iter().find(|a| a.name() == "sub"))
        .and_then(|a| a.value())
        .expect("moto gives the user a sub")
        .to_owned();
    (pool_id, sub)
}

/// The status webhook as its `main` builds it with `COGNITO_USER_POOL_ID` set.
async fn with_the_pool(world: &mut World, pool_id: &str) {
    let mut env = aws_env(&world.moto_endpoint, &world.table);
    env.insert("COGNITO_USER_POOL_ID".into(), pool_id.into());
    let aws = config::aws_sdk_config(&env).await;
    world.status_webhook.follow_ups.directory =
        deps::user_directory(&env, &aws).expect("valid settings");
    assert!(world.status_webhook.follow_ups.directory.is_some());
}

#[tokio::test]
async fn given_a_cognito_user_with_no_recorded_email_when_credentials_then_the_pool_email_is_used()
{
    let mut world = World::new().await;
    let address = format!("{}@example.com", unique("cognito-owner"));
    let (pool_id, sub) = given_a_pool_user(&world, &address, true).await;
    with_the_pool(&mut world, &pool_id).await;
    let id = world
        .connected_account_without_email(&sub, "WHATSAPP")
        .await;

    for _ in 0..3 {
        assert_eq!(deliver(&world, &id, "CREDENTIALS").await, 200);
    }

    let emails = sent_emails(&address).await;
    assert_eq!(emails.len(), 1, "one email, to the pool's address");
    assert_eq!(
        emails[0]["subject"],
        "Your WhatsApp account needs to be reconnected"
    );
    assert_eq!(world.account(&id).await.pending, None);
}

#[tokio::test]
async fn given_a_cognito_user_whose_email_is_not_verified_then_no_email_is_sent() {
    let mut world = World::new().await;
    let address = format!("{}@example.com", unique("unverified-owner"));
    let (pool_id, sub) = given_a_pool_user(&world, &address, false).await;
    with_the_pool(&mut world, &pool_id).await;
    let id = world
        .connected_account_without_email(&sub, "TELEGRAM")
        .await;

    assert_eq!(deliver(&world, &id, "CREDENTIALS").await, 200);

    assert!(sent_emails(&address).await.is_empty());
    assert_eq!(world.account(&id).await.pending, None, "nothing to retry");
}
