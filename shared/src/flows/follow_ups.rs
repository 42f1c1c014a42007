//! Carrying out the follow-up recorded on an account (the outbox). Whoever finds it due (the
//! webhook that recorded it, a reconnect attempt, the sweeper) does it the same way: claim it,
//! confirm the account's status with Unipile, record that, do what it still calls for, and
//! clear it, each write only while the claim is still theirs. A failure lets it go with a
//! back-off; the sweeper finishes it.

use super::FlowError;
use crate::domain::events::{CredentialsAction, Fact, RecordedFact};
use crate::domain::notification::{Detail, OutgoingEmail, ReconnectLink, credentials_needed};
use crate::domain::reconnect::{ReconnectAttempt, ReconnectState, cookie_is_stale};
use crate::domain::transitions::TransitionPolicy;
use crate::domain::truth::Truth;
use crate::domain::{
    Account, AccountId, AccountStatus, Email, LinkedinMemberId, PendingAction, PendingKind,
    Provider, retry_at,
};
use crate::ports::{
    AccountStore, Clock, Completion, DirectoryEmail, MailError, Mailer, RetryScheduler, Unipile,
    UserDirectory,
};
use chrono::{DateTime, Duration, Utc};

pub use crate::domain::CLAIM_LEASE;

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

/// A new follow-up, held by the caller that records it.
pub fn new_action(kind: PendingKind, now: DateTime<Utc>) -> Result<PendingAction, FlowError> {
    PendingAction::claimed(kind, now, now + CLAIM_LEASE).map_err(FlowError::Internal)
}

/// What Unipile says of the account; `told` stands in when its answer shows no status (no
/// sources: see [`truth::combined_status`]). A failure to ask is an error: nothing is done on
/// a guess.
pub async fn confirm(
    unipile: &dyn Unipile,
    account_id: &AccountId,
    told: &AccountStatus,
) -> Result<Truth, FlowError> {
    match unipile.account(account_id).await {
        Ok(found) => Ok(Truth::from_sources(&found.source_statuses, told)),
        Err(error) if error.is_not_found() => Ok(Truth::Gone),
        Err(error) => Err(FlowError::Unipile(error)),
    }
}

/// Deletes the remaining schedules of an outage's cookie reconnect. Tidiness, not correctness:
/// an attempt of an outage that is over does nothing when it fires.
pub async fn cancel_schedules(
    scheduler: &dyn RetryScheduler,
    account_id: &AccountId,
    outage: Option<&str>,
    from_attempt: u32,
) {
    if let Err(error) = scheduler.cancel(account_id, outage, from_attempt).await {
        tracing::warn!(account_id = %account_id, outage, %error, "could not delete the remaining reconnect schedules");
    }
}

/// What the settle path learnt of the owner's address before its write.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) enum Owner {
    /// Not looked up: the email's sender looks it up.
    Unknown,
    /// Looked up: there is none.
    Nobody,
    /// This address; the settling write marked the email "sending" already.
    Marked(Email),
}

/// The follow-up's side effect, and what it leaves on the account. Every failure comes out
/// here, so that the caller always lets go of its claim.
pub(super) async fn perform(
    ports: FollowUpPorts<'_>,
    settings: &FollowUpSettings,
    account: &Account,
    held: &PendingAction,
    owner: Owner,
) -> Result<Completion, FlowError> {
    match held.kind {
        // Its work was the confirming; a follow-up the status calls for replaced it.
        PendingKind::ConfirmStatus => Ok(Completion::default()),
        PendingKind::CredentialsLost => {
            credentials_lost(ports, settings, account, held, owner).await
        }
        PendingKind::RestartAccount => restart(ports, account).await,
        PendingKind::CookieReconnectFailed => {
            let mut details = vec![Detail::ReconnectFailed];
            details.extend(stale_extension(ports, settings, account).await?);
            email_owner(ports, settings, account, held, &details, Owner::Unknown).await
        }
        PendingKind::CookieCheckpoint => {
            let kind = checkpoint_of(ports, account)
                .await?
                .unwrap_or_else(|| "verification".to_owned());
            email_owner(
                ports,
                settings,
                account,
                held,
                &[Detail::Checkpoint { kind }],
                Owner::Unknown,
            )
            .await
        }
    }
}

/// Completes a follow-up with what doing it left. Tried three times: after an email, failing
/// it leaves the email looking unaccounted for, which its next holder would count as lost
/// (and never send again).
pub(super) async fn complete_held(
    ports: FollowUpPorts<'_>,
    account: &Account,
    held: &PendingAction,
    completion: &Completion,
) -> Result<(), FlowError> {
    let (id, claim) = (&account.account_id, held.claim.as_deref().unwrap_or(""));
    let mut attempt = 1;
    loop {
        match ports.store.complete_pending(id, claim, completion).await {
            Ok(Some(_)) => return Ok(()),
            Ok(None) => {
                tracing::info!(account_id = %id, follow_up = held.kind.as_str(), "follow-up done, but taken over or replaced meanwhile");
                return Ok(());
            }
            Err(error) if attempt < 3 => {
                tracing::warn!(account_id = %id, attempt, %error, "the follow-up's completion could not be written: retrying");
                tokio::time::sleep(std::time::Duration::from_millis(100 << attempt)).await;
                attempt += 1;
            }
            Err(error) => {
                tracing::error!(account_id = %id, %error, "the follow-up was done but its completion could not be written: its next holder finds it done (an email is never sent twice)");
                return Err(error.into());
            }
        }
    }
}

/// A LinkedIn account the extension connected, with its cookie still on file, is reconnected
/// with that cookie first; any other account's owner is emailed at once.
async fn credentials_lost(
    ports: FollowUpPorts<'_>,
    settings: &FollowUpSettings,
    account: &Account,
    held: &PendingAction,
    owner: Owner,
) -> Result<Completion, FlowError> {
    if account.cookie_reconnect.is_some() {
        tracing::info!(account_id = %account.account_id, "a cookie reconnect is already running for this outage");
        return Ok(Completion::default());
    }
    if let Some(member) = cookie_member(ports, account).await? {
        let state = ReconnectState::start(member, ports.clock.now());
        let first = ReconnectAttempt {
            account_id: account.account_id.clone(),
            outage: account.outage_id().map(str::to_owned),
            attempt: 0,
        };
        ports
            .scheduler
            .schedule(&first, state.due_at(0))
            .await
            .map_err(|e| FlowError::Internal(e.to_string()))?;
        tracing::info!(account_id = %account.account_id, user_id = %account.user_id, outage = account.outage_id(), at = %state.due_at(0), "cookie reconnect started");
        return Ok(Completion {
            reconnect: Some(state),
            fact: Some(needs_user(
                ports,
                CredentialsAction::CookieReconnectStarted,
            )?),
            ..Completion::default()
        });
    }
    email_owner(ports, settings, account, held, &[], owner).await
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
    // An expired cookie is none, even before the table's TTL sweep removes it.
    let now = ports.clock.now();
    let on_file = ports
        .store
        .cookie(&account.user_id, member)
        .await?
        .is_some_and(|r| r.is_live(now));
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

/// How long marking an email and sending it may take: the mark's write, SES's one attempt
/// (SDK retries are off for it, its attempt timeout is 5 s) and the write that records its
/// answer. An email is marked only with this much of the invocation left; with less, the
/// follow-up is let go and whoever comes next (the sweeper) sends it.
pub const EMAIL_SEND_TIME: std::time::Duration = std::time::Duration::from_secs(9);

/// At most one email per outage: "sending" is recorded for the outage (a conditional write)
/// before the mail service is called, and taken back only when the service says it sent
/// nothing. A crash after the service accepted it leaves the mark: no second email, ever. The
/// service's answer is recorded with the follow-up's completion (`email_sent_at`, or
/// `email_uncertain_at`): a crash between the mark and that write leaves a mark nothing
/// accounts for, which the next holder of the follow-up (the sweeper, once the lease is over)
/// counts as `EmailLost` (see docs/reliability.md, "Reliability guarantees").
async fn email_owner(
    ports: FollowUpPorts<'_>,
    settings: &FollowUpSettings,
    account: &Account,
    held: &PendingAction,
    details: &[Detail],
    owner: Owner,
) -> Result<Completion, FlowError> {
    let id = &account.account_id;
    let claim = held.claim.as_deref().unwrap_or("");
    let outage = account.outage_id();
    let nobody = || -> Result<Completion, FlowError> {
        crate::metrics::count("NoEmailForUser");
        Ok(Completion {
            fact: Some(needs_user(ports, CredentialsAction::NoVerifiedEmail)?),
            ..Completion::default()
        })
    };
    let to = match owner {
        Owner::Marked(to) => to,
        Owner::Nobody => return nobody(),
        Owner::Unknown => {
            let Some(to) = owner_email(ports, account).await? else {
                return nobody();
            };
            if !crate::deadline::allows(EMAIL_SEND_TIME) {
                return Err(FlowError::Busy(
                    "too little of the invocation is left to send an email: left for the sweeper"
                        .into(),
                ));
            }
            if let Some(outage) = outage
                && !mark_emailing(ports, id, claim, outage).await?
            {
                if account.email_unaccounted_for() {
                    email_lost(
                        account,
                        "its sender stopped between the mark and the mail service's answer",
                    );
                } else {
                    tracing::info!(account_id = %id, user_id = %account.user_id, outage, "this outage's email was already sent (or started): not sent again");
                }
                return Ok(Completion::default());
            }
            to
        }
    };
    let email = credentials_needed(to, account, &settings.reconnect_link, details);
    let now = ports.clock.now();
    match send_marked(ports, account, &email).await {
        Ok(Mailed::Sent) => Ok(Completion {
            email_sent_at: Some(now),
            fact: Some(needs_user(ports, CredentialsAction::Emailed)?),
            ..Completion::default()
        }),
        Ok(Mailed::Uncertain) => Ok(Completion {
            email_uncertain_at: Some(now),
            fact: Some(needs_user(ports, CredentialsAction::EmailUncertain)?),
            ..Completion::default()
        }),
        Err(error) => {
            owe(ports, account, held).await;
            Err(FlowError::Mail(error))
        }
    }
}

/// The fact for the team's backend that the account needs its user, and what was done.
fn needs_user(
    ports: FollowUpPorts<'_>,
    action: CredentialsAction,
) -> Result<RecordedFact, FlowError> {
    RecordedFact::new(Fact::CredentialsNeeded { action }, ports.clock.now())
        .map_err(FlowError::Internal)
}

/// An email the mail service refused: its "sending" mark is taken back and the email owed,
/// due after the back-off, in one write, while the mark is still this claim's (an outage
/// that ended took it). Failing that write, the email may never go: counted.
async fn owe(ports: FollowUpPorts<'_>, account: &Account, held: &PendingAction) {
    let id = &account.account_id;
    let Some(claim) = held.claim.as_deref() else {
        return;
    };
    let owed = PendingAction {
        claim: None,
        claimed_until: Some(retry_at(held.attempts.max(1), ports.clock.now())),
        ..held.clone()
    };
    match ports.store.owe_email(id, claim, &owed).await {
        Ok(true) => tracing::info!(account_id = %id, "the unsent email is owed for a follow-up"),
        Ok(false) => {
            tracing::info!(account_id = %id, "no sending mark of this claim: the follow-up is let go as it is")
        }
        Err(error) => {
            tracing::warn!(account_id = %id, %error, "the unsent email could not be owed");
            email_lost(
                account,
                "the mail service refused it and it could not be owed again",
            );
        }
    }
}

/// An outage's email that may never reach its owner, and nothing left to retry it: one
/// `EmailLost` (alarmed) and an error line naming the account and why, never the address.
fn email_lost(account: &Account, why: &str) {
    crate::metrics::count("EmailLost");
    tracing::error!(account_id = %account.account_id, user_id = %account.user_id, outage = account.outage_id(), why, "this outage's reconnect email may be lost");
}

/// What the mail service said of a marked email it did not refuse.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Mailed {
    Sent,
    /// No answer: it may have been sent. Never retried, so that no email goes twice.
    Uncertain,
}

/// Sends a reconnect email whose "sending" mark is recorded, and logs and counts what the
/// mail service said. `Err`: it refused, so nothing was sent; what becomes of the mark is
/// the caller's (taken back, or the email owed).
async fn send_marked(
    ports: FollowUpPorts<'_>,
    account: &Account,
    email: &OutgoingEmail,
) -> Result<Mailed, MailError> {
    let (id, user, outage) = (&account.account_id, &account.user_id, account.outage_id());
    match ports.mailer.send(email).await {
        Ok(()) => {
            tracing::info!(account_id = %id, user_id = %user, outage, "reconnect email sent");
            crate::metrics::count("EmailSent");
            Ok(Mailed::Sent)
        }
        Err(MailError::Uncertain(error)) => {
            crate::metrics::count("EmailOutcomeUnknown");
            tracing::warn!(account_id = %id, user_id = %user, outage, %error, "the mail service did not say whether it sent the reconnect email: not retried, so it is never sent twice");
            Ok(Mailed::Uncertain)
        }
        Err(error) => {
            crate::metrics::count("EmailFailed");
            tracing::warn!(account_id = %id, user_id = %user, outage, %error, "reconnect email not sent");
            Err(error)
        }
    }
}

/// Records "sending" for the outage. A write whose answer is lost may have been made: asked
/// once more, the mark answers `true` when it is this claim's own, since nothing was sent
/// yet, so a timeout does not lose the email. Failing twice, the follow-up is let go; its
/// next holder then finds a mark it cannot tell from a sent email, and sends nothing.
async fn mark_emailing(
    ports: FollowUpPorts<'_>,
    id: &AccountId,
    claim: &str,
    outage: &str,
) -> Result<bool, FlowError> {
    match ports.store.mark_emailing(id, claim, outage).await {
        Ok(marked) => Ok(marked),
        Err(error) => {
            tracing::warn!(account_id = %id, outage, %error, "the sending mark was not confirmed: asking again");
            Ok(ports.store.mark_emailing(id, claim, outage).await?)
        }
    }
}

/// Where to write to the owner: the email recorded from their token when they linked an
/// account (no extra call), else the user directory's verified one. `None` is logged with the
/// sources tried; a directory that does not answer is an error, so the follow-up is retried.
/// Addresses are personal data: logs name the user, never the address.
pub(super) async fn owner_email(
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
    use crate::domain::{AccountId, AccountStatus, UnipileEvent, UserId};
    use crate::flows::status_webhook::{WebhookOutcome, handle_status_event};
    use crate::memory_world::MemoryWorld;
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
        MemoryWorld::follow_up_settings()
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
            linkedin_profile_id: None,
        };
        world
            .unipile
            .add_account(&connection.account_id, Provider::Whatsapp);
        world
            .store
            .record_connection(
                &connection,
                crate::domain::events::How::Hosted,
                world.clock.now(),
            )
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
    ) -> Result<WebhookOutcome, FlowError> {
        let deps = world.deps();
        let ports = FollowUpPorts {
            store: deps.store.as_ref(),
            unipile: deps.unipile.as_ref(),
            mailer: world.mailer.as_ref(),
            scheduler: world.scheduler.as_ref(),
            clock: deps.clock.as_ref(),
            directory,
        };
        // Unipile sets the status, then delivers it.
        world
            .unipile
            .set_status(&account_id(), AccountStatus::Credentials);
        let event = UnipileEvent {
            account_id: account_id(),
            status: AccountStatus::Credentials,
            account_type: Some(Provider::Whatsapp),
            name: None,
        };
        handle_status_event(ports, &settings(), &event).await
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
        // Failing for the delivery's first try and for the outbox's.
        world.directory.fail_next(2);
        let failed = when_credentials_is_reported(&world, Some(world.directory.as_ref())).await;
        // Recorded, so the webhook answers 200; the follow-up is left for later.
        assert!(matches!(failed, Ok(WebhookOutcome::Deferred)), "{failed:?}");
        assert!(world.mailer.sent().is_empty());
        assert!(pending(&world).await.is_some(), "the email is still owed");
        // A later delivery of the same status, once the follow-up's back-off is over, finds it
        // (its claim let go) and finishes it.
        world.clock.advance(chrono::Duration::minutes(5));
        when_credentials_is_reported(&world, Some(world.directory.as_ref()))
            .await
            .expect("done");
        assert_eq!(recipients(&world), ["directory@example.com"]);
        assert_eq!(pending(&world).await, None);
    }
}
