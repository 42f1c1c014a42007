//! The end of a login: the account goes `OK`, its checkpoint is dropped, and for a native
//! (custom-auth) login the `account_status` webhooks hear `CREATION_SUCCESS` or `RECONNECTED`
//! (D-life), which is how a backend learns of a QR scan it never sees. Every completion path
//! (a direct success, a solved checkpoint, a scan, an approval) goes through here so that none
//! forgets the webhook.

use super::records::DeliveryAttempt;
use super::state::{SimState, Simulator};
use std::time::Duration;

/// Between webhook retries: Unipile waits longer; short keeps demos and tests quick.
const RETRY_DELAY: Duration = Duration::from_millis(200);

/// A finished native login whose webhook is still to be sent.
#[derive(Debug, Clone, PartialEq)]
pub(super) struct Completion {
    pub account_id: String,
    pub account_type: String,
    /// `CREATION_SUCCESS` or `RECONNECTED`.
    pub message: &'static str,
}

/// Marks `account_id` connected and drops its checkpoint. The webhook to send, for a native
/// login (`custom`); none for a cookie login, whose completion Unipile's contract leaves to
/// the synchronous answer.
pub(super) fn finish(
    state: &mut SimState,
    account_id: &str,
    reconnect: bool,
    custom: bool,
) -> Option<Completion> {
    state.checkpoints.remove(account_id);
    let account = state.accounts.get_mut(account_id)?;
    account.status = "OK".into();
    custom.then(|| Completion {
        account_id: account_id.to_owned(),
        account_type: account.account_type.clone(),
        message: if reconnect {
            "RECONNECTED"
        } else {
            "CREATION_SUCCESS"
        },
    })
}

impl Simulator {
    /// Sends the completion's webhook now (the `/_sim` routes, which answer once it is sent).
    pub(super) async fn announce(&self, completion: Completion) -> Vec<DeliveryAttempt> {
        self.deliver_account_status(
            &completion.account_id,
            &completion.account_type,
            completion.message,
            RETRY_DELAY,
        )
        .await
    }

    /// Sends the completion's webhook in the background, as Unipile does beside the API
    /// answer (so a backend's webhook handler never waits on its own request). Outside a
    /// Tokio runtime there is nobody to send it; it is dropped.
    pub(super) fn announce_later(&self, completion: Option<Completion>) {
        let (Some(completion), Ok(runtime)) = (completion, tokio::runtime::Handle::try_current())
        else {
            return;
        };
        let sim = self.clone();
        runtime.spawn(async move {
            sim.announce(completion).await;
        });
    }
}
