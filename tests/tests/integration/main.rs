//! Integration tests: one binary, so one moto server serves them all.

mod aws_round_trips;
mod connect_flow;
mod cookie_reconnect;
mod custom_login;
mod event_feed;
mod event_webhooks;
mod events;
mod extension_identities;
mod load;
mod local_stack_http;
mod owner_email;
mod reconciliation;
mod secrets;
mod secrets_manager;
mod service_api;
mod ses_retries;
mod status_webhook;
mod webhook_setup;
