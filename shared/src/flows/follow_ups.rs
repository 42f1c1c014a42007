//! Carrying out the follow-up recorded on an account (the outbox): whoever finds it, the
//! webhook that recorded it, a retried delivery, or the reconnect function, does it the same
//! way, then clears it only if it is still the same one.

use super::FlowError;
use crate::deps::Deps;
use crate::domain::notification::{Detail, ReconnectLink, credentials_needed};
use crate::domain::reconnect::{ReconnectAttempt, ReconnectState, cookie_is_stale};
use crate::domain::transitions::TransitionPolicy;
use crate::domain::{Account, Email, LinkedinMemberId, PendingAction, PendingKind, Provider};
use crate::ports::{
    AccountStore, Clock, Completion, DirectoryEmail, Mailer, RetryScheduler, Unipile, UserDirectory,
};
use chrono::{DateTime, Duration, Utc};

/// How long one caller holds a follow-up before another may take it over: longer than a
/// function runs, so two callers never do the same work at once.
pub const CLAIM_LEASE: Duration = Duration::seconds(60);

#[derive(Debug, Clone)]
pub struct FollowUpSettings {
    pub policy: TransitionPolicy,
    pub reconnect_link: ReconnectLink,
    /// A newest cookie older than this means the extension stopped syncing.
    pub stale_cookie_after: Duration,
}

#[derive(Clone, Copy)]
pub struct FollowUpPorts<'a> {
    pub store: &'a dyn AccountStore,
    pub unipile: &'a dyn Unipile,
    pub mailer: &'a dyn Mailer,
    pub scheduler: &'a dyn RetryScheduler,
    pub clock: &'a dyn Clock,
    /// Where an owner's email is looked up when none was recorded from their token, if
    /// configured (a Cognito user pool).
    pub directory: Option<&'a dyn UserDirectory>,
}

impl<'a> FollowUpPorts<'a> {
    /// The shared ports plus those only follow-ups need.
    pub fn new(
        deps: &'a Deps,
        mailer: &'a dyn Mailer,
        scheduler: &'a dyn RetryScheduler,
        directory: Option<&'a dyn UserDirectory>,
    ) -> Self {
        Self {
            store: deps.store.as_ref(),
            unipile: deps.unipile.as_ref(),
            mailer,
            scheduler,
            clock: deps.clock.as_ref(),
            directory,
        }
    }
}

/// A new follow-up, held by the caller that records it.
pub fn new_action(kind: PendingKind, now: DateTime<Utc>) -> Result<PendingAction, FlowError> {
    PendingAction::new(kind, now, now + CLAIM_LEASE).map_err(FlowError::Internal)
}

/// Finishes a follow-up an earlier caller left. `Ok(false)`: there was none.
pub async fn resume(
    ports: FollowUpPorts<'_>,
    settings: &FollowUpSettings,
    account: &Account,
) -> Result<bool, FlowError> {
    let Some(action) = &account.pending else {
        return Ok(false);
    };
    let now = ports.clock.now();
    if !ports
        .store
        .claim_pending(&account.account_id, &action.id, now, now + CLAIM_LEASE)
        .await?
    {
        // Someone else is on it; answering non-200 keeps the sender retrying in case they fail.
        return Err(FlowError::Busy(format!(
            "account {} has a follow-up in progress",
            account.account_id
        )));
    }
    tracing::info!(account_id = %account.account_id, follow_up = action.kind.as_str(), "finishing a recorded follow-up");
    carry_out(ports, settings, account, action).await?;
    Ok(true)
}

/// Does the follow-up, then clears it. On failure the claim is let go and the error returned,
/// so the next caller retries it.
pub async fn carry_out(
    ports: FollowUpPorts<'_>,
    settings: &FollowUpSettings,
    account: &Account,
    action: &PendingAction,
) -> Result<(), FlowError> {
    let done = perform(ports, settings, account, action.kind).await;
    match done {
        Ok(completion) => {
            ports
                .store
                .complete_pending(&account.account_id, &action.id, &completion)
                .await?;
            Ok(())
        }
        Err(error) => {
            if let Err(release) = ports
                .store
                .release_pending(&account.account_id, &action.id)
                .await
            {
                tracing::warn!(account_id = %account.account_id, error = %release, "could not release a follow-up claim");
            }
            Err(error)
        }
    }
}

/// The follow-up's side effect, and what it leaves on the account. Every failure comes out
/// here, so that the caller always lets go of its claim.
async fn perform(
    ports: FollowUpPorts<'_>,
    settings: &FollowUpSettings,
    account: &Account,
    kind: PendingKind,
) -> Result<Completion, FlowError> {
    match kind {
        PendingKind::CredentialsLost => credentials_lost(ports, settings, account).await,
        PendingKind::RestartAccount => restart(ports, account).await,
        PendingKind::CookieReconnectFailed => {
            let mut details = vec![Detail::ReconnectFailed];
            details.extend(stale_extension(ports, settings, account).await?);
            email_owner(ports, settings, account, &details).await?;
            Ok(Completion::default())
        }
        PendingKind::CookieCheckpoint => {
            let kind = checkpoint_of(ports, account)
                .await?
                .unwrap_or_else(|| "verification".to_owned());
            email_owner(ports, settings, account, &[Detail::Checkpoint { kind }]).await?;
            Ok(Completion::default())
        }
    }
}

/// A LinkedIn account the extension connected, with its cookie still on file, is reconnected
/// with that cookie first; any other account's owner is emailed at once.
async fn credentials_lost(
    ports: FollowUpPorts<'_>,
    settings: &FollowUpSettings,
    account: &Account,
) -> Result<Completion, FlowError> {
    if let Some(member) = cookie_member(ports, account).await? {
        let state = ReconnectState::start(member, ports.clock.now());
        let first = ReconnectAttempt {
            account_id: account.account_id.clone(),
            attempt: 0,
        };
        ports
            .scheduler
            .schedule(&first, state.due_at(0))
            .await
            .map_err(|e| FlowError::Internal(e.to_string()))?;
        tracing::info!(account_id = %account.account_id, user_id = %account.user_id, at = %state.due_at(0), "cookie reconnect started");
        return Ok(Completion {
            reconnect: Some(state),
            ..Completion::default()
        });
    }
    email_owner(ports, settings, account, &[])
        .await
        .map(|()| Completion::default())
}

/// The LinkedIn member whose cookie can reconnect this account: a LinkedIn account the
/// extension connected, whose cookie record is still there.
async fn cookie_member(
    ports: FollowUpPorts<'_>,
    account: &Account,
) -> Result<Option<LinkedinMemberId>, FlowError> {
    let (Provider::Linkedin, Some(member)) = (&account.account_type, &account.linkedin_member_id)
    else {
        return Ok(None);
    };
    let on_file = ports
        .store
        .cookie(&account.user_id, member)
        .await?
        .is_some();
    Ok(on_file.then(|| member.clone()))
}

async fn stale_extension(
    ports: FollowUpPorts<'_>,
    settings: &FollowUpSettings,
    account: &Account,
) -> Result<Option<Detail>, FlowError> {
    let Some(member) = &account.linkedin_member_id else {
        return Ok(None);
    };
    let Some(record) = ports.store.cookie(&account.user_id, member).await? else {
        return Ok(None);
    };
    let stale = cookie_is_stale(
        record.date_last_cookie,
        ports.clock.now(),
        settings.stale_cookie_after,
    );
    Ok(stale.then_some(Detail::ExtensionStale {
        since: record.date_last_cookie,
    }))
}

async fn checkpoint_of(
    ports: FollowUpPorts<'_>,
    account: &Account,
) -> Result<Option<String>, FlowError> {
    let Some(member) = &account.linkedin_member_id else {
        return Ok(None);
    };
    Ok(ports
        .store
        .cookie(&account.user_id, member)
        .await?
        .and_then(|r| r.checkpoint))
}

async fn email_owner(
    ports: FollowUpPorts<'_>,
    settings: &FollowUpSettings,
    account: &Account,
    details: &[Detail],
) -> Result<(), FlowError> {
    let Some(to) = owner_email(ports, account).await? else {
        crate::metrics::count("NoEmailForUser");
        return Ok(());
    };
    let email = credentials_needed(to, account, &settings.reconnect_link, details);
    ports.mailer.send(&email).await.map_err(|error| {
        tracing::warn!(account_id = %account.account_id, user_id = %account.user_id, %error, "reconnect email not sent");
        FlowError::Mail(error)
    })?;
    tracing::info!(account_id = %account.account_id, user_id = %account.user_id, "reconnect email sent");
    Ok(())
}

/// Where to write to the owner: the email recorded from their token when they linked an
/// account (no extra call), else the user directory's verified one. `None` is logged with the
/// sources tried; a directory that does not answer is an error, so the follow-up is retried.
/// Addresses are personal data: logs name the user, never the address.
async fn owner_email(
    ports: FollowUpPorts<'_>,
    account: &Account,
) -> Result<Option<Email>, FlowError> {
    let user = &account.user_id;
    if let Some(profile) = ports.store.profile_of(user).await? {
        return Ok(Some(profile.email));
    }
    let Some(directory) = ports.directory else {
        tracing::warn!(account_id = %account.account_id, user_id = %user, tried = "recorded token email", "no email for this user: cannot tell them to reconnect (set COGNITO_USER_POOL_ID to look users up)");
        return Ok(None);
    };
    let listed = directory.email_of(user).await.inspect_err(|error| {
        tracing::warn!(account_id = %account.account_id, user_id = %user, %error, "user directory lookup failed: the follow-up stays owed");
    })?;
    match listed {
        Some(DirectoryEmail {
            address,
            verified: true,
        }) => {
            tracing::info!(account_id = %account.account_id, user_id = %user, "owner email found in the user directory");
            Ok(Some(address))
        }
        Some(DirectoryEmail {
            verified: false, ..
        }) => {
            // Mail to an address nobody proved is theirs bounces or lands with a stranger, and
            // SES counts both against the sender.
            tracing::warn!(account_id = %account.account_id, user_id = %user, tried = "recorded token email, user directory", "the user directory's email for this user is not verified: not used");
            crate::metrics::count("UnverifiedOwnerEmail");
            Ok(None)
        }
        None => {
            tracing::warn!(account_id = %account.account_id, user_id = %user, tried = "recorded token email, user directory", "no email for this user: cannot tell them to reconnect");
            Ok(None)
        }
    }
}

/// One restart per outage: the marker it leaves is cleared only when the account is healthy.
async fn restart(ports: FollowUpPorts<'_>, account: &Account) -> Result<Completion, FlowError> {
    if account.restart_attempted_at.is_some() {
        tracing::info!(account_id = %account.account_id, "already restarted during this outage");
        return Ok(Completion::default());
    }
    let marker = Completion {
        restart_attempted_at: Some(ports.clock.now()),
        ..Completion::default()
    };
    match ports.unipile.restart_account(&account.account_id).await {
        Ok(outcome) => {
            tracing::info!(account_id = %account.account_id, ?outcome, "account restart requested");
            Ok(marker)
        }
        Err(error) if error.is_transient() => Err(FlowError::Unipile(error)),
        // Unipile will not restart it (unknown account, refused): a retry would not help.
        Err(error) => {
            tracing::warn!(account_id = %account.account_id, %error, "account restart refused");
            Ok(marker)
        }
    }
}

#[cfg(test)]
mod tests {
    //! Who gets the "please reconnect" email: the recorded token email first, then the user
    //! directory; told by a CREDENTIALS webhook on a non-LinkedIn account (emailed at once).
    use super::*;
    use crate::adapters::memory::MemoryWorld;
    use crate::domain::notification::ReconnectLink;
    use crate::domain::{AccountId, AccountStatus, UnipileEvent, UserId};
    use crate::flows::status_webhook::handle_status_event;
    use crate::ports::{ConnectedAccount, UserProfile};
    use chrono::TimeZone;

    fn world() -> MemoryWorld {
        MemoryWorld::at(
            Utc.with_ymd_and_hms(2026, 3, 1, 12, 0, 0)
                .single()
                .expect("date"),
        )
    }

    fn settings() -> FollowUpSettings {
        FollowUpSettings {
            policy: TransitionPolicy::default(),
            reconnect_link: ReconnectLink {
                app_base_url: "https://app.example.com".parse().expect("url"),
                path: "/accounts?reconnect={account_id}".into(),
            },
            stale_cookie_after: Duration::hours(24),
        }
    }

    fn owner() -> UserId {
        UserId::parse("0b5e8a4c-cognito-sub").expect("user")
    }

    fn email(address: &str) -> Email {
        Email::parse(address).expect("email")
    }

    fn account_id() -> AccountId {
        AccountId::parse("acc_1").expect("id")
    }

    async fn given_a_whatsapp_account(world: &MemoryWorld) {
        let connection = ConnectedAccount {
            account_id: account_id(),
            user_id: owner(),
            account_type: Provider::Whatsapp,
            status: AccountStatus::Ok,
            display_name: None,
            linkedin_member_id: None,
        };
        world
            .unipile
            .add_account(&connection.account_id, Provider::Whatsapp);
        world
            .store
            .record_connection(&connection, world.clock.now())
            .await
            .expect("stored");
    }

    async fn given_a_recorded_email(world: &MemoryWorld, address: &str) {
        let profile = UserProfile {
            user_id: owner(),
            email: email(address),
            updated_at: world.clock.now(),
        };
        world.store.save_profile(&profile).await.expect("profile");
    }

    async fn when_credentials_is_reported(
        world: &MemoryWorld,
        directory: Option<&dyn UserDirectory>,
    ) -> Result<(), FlowError> {
        let deps = world.deps();
        let ports = FollowUpPorts::new(
            &deps,
            world.mailer.as_ref(),
            world.scheduler.as_ref(),
            directory,
        );
        let event = UnipileEvent {
            account_id: account_id(),
            status: AccountStatus::Credentials,
            account_type: Some(Provider::Whatsapp),
            name: None,
        };
        handle_status_event(ports, &settings(), &event)
            .await
            .map(|_| ())
    }

    async fn pending(world: &MemoryWorld) -> Option<PendingAction> {
        world
            .store
            .get_account(&account_id())
            .await
            .expect("store")
            .and_then(|a| a.pending)
    }

    fn recipients(world: &MemoryWorld) -> Vec<String> {
        world.mailer.sent().into_iter().map(|e| e.to).collect()
    }

    #[tokio::test]
    async fn given_a_recorded_email_then_it_wins_and_the_directory_is_not_asked() {
        let world = world();
        given_a_whatsapp_account(&world).await;
        given_a_recorded_email(&world, "token@example.com").await;
        world
            .directory
            .add(&owner(), email("directory@example.com"), true);
        when_credentials_is_reported(&world, Some(world.directory.as_ref()))
            .await
            .expect("done");
        assert_eq!(recipients(&world), ["token@example.com"]);
        assert_eq!(world.directory.lookups(), 0);
        assert_eq!(pending(&world).await, None);
    }

    #[tokio::test]
    async fn given_no_recorded_email_then_the_directory_email_is_used() {
        let world = world();
        given_a_whatsapp_account(&world).await;
        world
            .directory
            .add(&owner(), email("directory@example.com"), true);
        when_credentials_is_reported(&world, Some(world.directory.as_ref()))
            .await
            .expect("done");
        assert_eq!(recipients(&world), ["directory@example.com"]);
        assert_eq!(world.directory.lookups(), 1);
        assert_eq!(pending(&world).await, None);
    }

    #[tokio::test]
    async fn given_neither_source_has_an_email_then_nothing_is_sent_and_the_follow_up_ends() {
        let world = world();
        given_a_whatsapp_account(&world).await;
        when_credentials_is_reported(&world, Some(world.directory.as_ref()))
            .await
            .expect("done");
        assert!(world.mailer.sent().is_empty());
        assert_eq!(world.directory.lookups(), 1);
        assert_eq!(pending(&world).await, None, "nothing left to retry");
    }

    #[tokio::test]
    async fn given_no_directory_configured_and_no_recorded_email_then_nothing_is_sent() {
        let world = world();
        given_a_whatsapp_account(&world).await;
        world
            .directory
            .add(&owner(), email("directory@example.com"), true);
        when_credentials_is_reported(&world, None)
            .await
            .expect("done");
        assert!(world.mailer.sent().is_empty());
        assert_eq!(world.directory.lookups(), 0);
    }

    #[tokio::test]
    async fn given_an_unverified_directory_email_then_it_is_not_used() {
        let world = world();
        given_a_whatsapp_account(&world).await;
        world
            .directory
            .add(&owner(), email("typo@example.com"), false);
        when_credentials_is_reported(&world, Some(world.directory.as_ref()))
            .await
            .expect("done");
        assert!(world.mailer.sent().is_empty());
        assert_eq!(pending(&world).await, None);
    }

    #[tokio::test]
    async fn given_the_directory_failing_then_the_follow_up_stays_owed_and_the_retry_sends() {
        let world = world();
        given_a_whatsapp_account(&world).await;
        world
            .directory
            .add(&owner(), email("directory@example.com"), true);
        world.directory.fail_next(1);
        let failed = when_credentials_is_reported(&world, Some(world.directory.as_ref())).await;
        assert!(matches!(failed, Err(FlowError::Directory(_))), "{failed:?}");
        assert!(world.mailer.sent().is_empty());
        assert!(pending(&world).await.is_some(), "the email is still owed");
        // Unipile's retry of the same delivery finds the follow-up (its claim let go) and
        // finishes it.
        when_credentials_is_reported(&world, Some(world.directory.as_ref()))
            .await
            .expect("done");
        assert_eq!(recipients(&world), ["directory@example.com"]);
        assert_eq!(pending(&world).await, None);
    }
}
