//! The team's backend's routes on DynamoDB (moto): the accounts in one status read through
//! in pages by a filtered Scan that reads the table in several, each account once; any
//! account read and disconnected, its event on the bus saying the team did it.

use crate::status_webhook::deliver;
use harness::in_memory::service_request;
use harness::requests::json;
use harness::world::World;
use std::collections::BTreeSet;

async fn page(world: &World, uri: &str) -> (u16, serde_json::Value) {
    let response = accounts::handler(&world.accounts, service_request("GET", uri, ""))
        .await
        .expect("handled");
    (response.status().as_u16(), json(&response))
}

#[tokio::test]
async fn the_accounts_in_one_status_come_each_once_over_pages_whatever_their_size() {
    let world = World::new().await;
    let mut failing = BTreeSet::new();
    for n in 0..9 {
        let account = world
            .connected_account(&format!("service-user-{}", n % 4), "WHATSAPP")
            .await;
        if n % 3 == 0 {
            assert_eq!(deliver(&world, &account, "CREDENTIALS").await, 200);
            failing.insert(account.to_string());
        }
    }
    for limit in [1, 2, 100] {
        let mut seen = Vec::new();
        let mut uri = format!("/service/accounts?status=CREDENTIALS&limit={limit}");
        for _ in 0..40 {
            let (status, body) = page(&world, &uri).await;
            assert_eq!(status, 200, "{body}");
            let accounts = body["accounts"].as_array().expect("accounts");
            assert!(accounts.len() <= limit, "{body}");
            for account in accounts {
                assert_eq!(account["status"], "CREDENTIALS");
                assert!(account["outage"]["since"].is_string(), "{account}");
                assert!(
                    account["user_id"]
                        .as_str()
                        .is_some_and(|u| u.starts_with("service-user-"))
                );
                seen.push(account["account_id"].as_str().expect("id").to_owned());
            }
            match body["next"].as_str() {
                Some(next) => {
                    uri =
                        format!("/service/accounts?status=CREDENTIALS&limit={limit}&cursor={next}")
                }
                None => break,
            }
        }
        let distinct: BTreeSet<String> = seen.iter().cloned().collect();
        assert_eq!(
            distinct.len(),
            seen.len(),
            "an account twice with limit {limit}: {seen:?}"
        );
        assert_eq!(distinct, failing, "limit {limit}");
    }
    let (status, body) = page(
        &world,
        "/service/accounts?status=CREDENTIALS&cursor=eyJ4IjoiMSJ9",
    )
    .await;
    assert_eq!(status, 400, "{body}");
}

#[tokio::test]
async fn the_service_reads_and_disconnects_any_account_and_its_event_says_so() {
    let world = World::new().await;
    let account = world.connected_account("service-owner", "LINKEDIN").await;
    let (status, body) = page(&world, &format!("/service/accounts/{account}")).await;
    assert_eq!(
        (status, body["user_id"].as_str()),
        (200, Some("service-owner")),
        "{body}"
    );
    let (status, body) = page(&world, "/service/accounts?user_id=service-owner").await;
    assert_eq!(
        (status, body["accounts"][0]["account_id"].as_str()),
        (200, Some(account.as_str()))
    );

    let gone = accounts::handler(
        &world.accounts,
        service_request("DELETE", &format!("/service/accounts/{account}"), ""),
    )
    .await
    .expect("handled");
    assert_eq!(gone.status(), 204);
    assert!(
        world
            .simulator
            .accounts()
            .iter()
            .all(|a| a.id != account.as_str())
    );
    let events = world.events.events().await;
    let disconnected: Vec<_> = events
        .iter()
        .filter(|e| e["type"] == "account.disconnected")
        .collect();
    assert_eq!(disconnected.len(), 1, "{events:?}");
    assert_eq!(disconnected[0]["data"]["by"], "service");
    assert_eq!(disconnected[0]["data"]["user_id"], "service-owner");
    assert!(harness::event_bus::schema_problems(disconnected[0]).is_empty());
    let (status, _) = page(&world, &format!("/service/accounts/{account}")).await;
    assert_eq!(status, 404);
}
