//! The [`Unipile`] port in memory.

use crate::domain::checkpoint::CheckpointCode;
use crate::domain::custom_login::{LoginMethod, LoginTarget};
use crate::domain::login_attempt::LoginCheckpoint;
use crate::domain::{AccountId, AccountStatus, LinkedinProfileId, Provider};
use crate::ports::{
    AccountPage, Clock, CookieAuthOutcome, CookieLogin, CustomLogin, HostedLinkRequest,
    LoginOutcome, RestartOutcome, Unipile, UnipileAccount, UnipileError, UnipileErrorType,
};
use async_trait::async_trait;
use chrono::{DateTime, Utc};
use secrecy::ExposeSecret;
use std::collections::BTreeMap;
use std::sync::{Arc, Mutex, MutexGuard};
use url::Url;

/// A Unipile that lives in memory: it knows the accounts it is given, records the links it is
/// asked for, and can be told to fail, so flows and handlers test without a network.
#[derive(Default)]
pub struct MemoryUnipile {
    state: Mutex<MemoryUnipileState>,
    /// Stamps `created_at` on the accounts it creates, when given (see [`Self::with_clock`]).
    clock: Option<Arc<dyn Clock>>,
}

impl std::fmt::Debug for MemoryUnipile {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("MemoryUnipile")
            .field("state", &self.state)
            .finish_non_exhaustive()
    }
}

/// One account as this Unipile holds it: its type, the status of its sources (the truth that
/// flows confirm deliveries against), and when it was created.
#[derive(Debug, Clone)]
struct HeldAccount {
    provider: Provider,
    sources: Vec<AccountStatus>,
    created_at: Option<DateTime<Utc>>,
    /// `connection_params.im.id`, when this Unipile shows one.
    profile: Option<LinkedinProfileId>,
}

#[derive(Debug, Default)]
struct MemoryUnipileState {
    /// Ordered by id, so that pages are stable.
    accounts: BTreeMap<AccountId, HeldAccount>,
    links: Vec<HostedLinkRequest>,
    deleted: Vec<AccountId>,
    restarted: Vec<AccountId>,
    failure: Option<UnipileError>,
    cookie_outcomes: std::collections::VecDeque<CookieOutcome>,
    cookie_logins: Vec<(Option<AccountId>, CookieLogin)>,
    account_reads: usize,
    /// Logins stopped at a checkpoint, by account: its type.
    checkpoints: BTreeMap<AccountId, String>,
    checkpoint_answers: std::collections::VecDeque<CookieOutcome>,
    solutions: Vec<(AccountId, String)>,
    /// Whose LinkedIn session each `li_at` is: the profile id the accounts logged in with it
    /// show (none: Unipile shows no `im.id`).
    members: BTreeMap<String, LinkedinProfileId>,
    /// What the next custom-auth logins answer (a QR or pairing code for the methods shown on
    /// a phone, else success, when none is scripted).
    login_outcomes: std::collections::VecDeque<CookieOutcome>,
    /// Every custom-auth login received: its target and provider (never its credentials).
    logins: Vec<(LoginTarget, Provider)>,
    resends: Vec<AccountId>,
}

/// What the next cookie connect or reconnect answers (success when none is scripted).
#[derive(Debug, Clone)]
pub enum CookieOutcome {
    Success,
    Checkpoint(String),
    Fail(UnipileError),
    /// Unipile creates the account, then the answer is lost (`error` is what the caller
    /// gets: a timeout, a dropped connection).
    CreatedThenLost(UnipileError),
    /// Unipile answers with an account it holds already (the same LinkedIn member signed in
    /// before, perhaps for another of our users): nothing is created.
    ConnectedTo(AccountId),
}

impl MemoryUnipile {
    pub fn new() -> Self {
        Self::default()
    }

    /// Accounts created from now on carry `created_at` from `clock`.
    pub fn with_clock(clock: Arc<dyn Clock>) -> Self {
        Self {
            state: Mutex::default(),
            clock: Some(clock),
        }
    }

    fn now(&self) -> Option<DateTime<Utc>> {
        self.clock.as_ref().map(|c| c.now())
    }

    fn lock(&self) -> MutexGuard<'_, MemoryUnipileState> {
        self.state.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// An account in status OK.
    pub fn add_account(&self, account_id: &AccountId, account_type: Provider) {
        let created_at = self.now();
        self.lock().accounts.insert(
            account_id.clone(),
            HeldAccount {
                provider: account_type,
                sources: vec![AccountStatus::Ok],
                created_at,
                profile: None,
            },
        );
    }

    /// A LinkedIn account in status OK whose `im.id` is `profile` (connected through hosted
    /// auth, say).
    pub fn add_linkedin_account(&self, account_id: &AccountId, profile: &LinkedinProfileId) {
        self.add_account(account_id, Provider::Linkedin);
        if let Some(account) = self.lock().accounts.get_mut(account_id) {
            account.profile = Some(profile.clone());
        }
    }

    /// The LinkedIn session `li_at` is `profile`'s: accounts logged in with it show that
    /// `im.id`.
    pub fn set_linkedin_member(&self, li_at: &str, profile: &LinkedinProfileId) {
        self.lock()
            .members
            .insert(li_at.to_owned(), profile.clone());
    }

    /// Sets what Unipile says of the account (its one source's status), as Unipile does before
    /// it delivers the webhook. `RECONNECTED`, `CREATION_SUCCESS` and `SYNC_SUCCESS` read as
    /// OK; `DELETED` removes the account (Unipile then answers 404).
    pub fn set_status(&self, account_id: &AccountId, status: AccountStatus) {
        let mut state = self.lock();
        if status == AccountStatus::Deleted {
            state.accounts.remove(account_id);
            return;
        }
        let status = if status.is_connection_success() || status == AccountStatus::SyncSuccess {
            AccountStatus::Ok
        } else {
            status
        };
        if let Some(account) = state.accounts.get_mut(account_id) {
            account.sources = vec![status];
        }
    }

    /// Sets the statuses of the account's sources as they are (none: unconfirmed).
    pub fn set_sources(&self, account_id: &AccountId, sources: Vec<AccountStatus>) {
        if let Some(account) = self.lock().accounts.get_mut(account_id) {
            account.sources = sources;
        }
    }

    /// The account's one status as Unipile would report it, if it has the account.
    pub fn status_of(&self, account_id: &AccountId) -> Option<AccountStatus> {
        let state = self.lock();
        let account = state.accounts.get(account_id)?;
        crate::domain::truth::combined_status(&account.sources)
    }

    /// How many `GET /api/v1/accounts/{id}` it answered.
    pub fn account_reads(&self) -> usize {
        self.lock().account_reads
    }

    /// The ids of every account it holds.
    pub fn account_ids(&self) -> Vec<AccountId> {
        self.lock().accounts.keys().cloned().collect()
    }

    /// Every call fails with `error` until [`Self::recover`].
    pub fn fail_with(&self, error: UnipileError) {
        self.lock().failure = Some(error);
    }

    pub fn recover(&self) {
        self.lock().failure = None;
    }

    pub fn links(&self) -> Vec<HostedLinkRequest> {
        self.lock().links.clone()
    }

    pub fn deleted(&self) -> Vec<AccountId> {
        self.lock().deleted.clone()
    }

    pub fn restarted(&self) -> Vec<AccountId> {
        self.lock().restarted.clone()
    }

    /// Queues the answers of the next cookie logins, in order.
    pub fn script_cookie_outcomes(&self, outcomes: impl IntoIterator<Item = CookieOutcome>) {
        self.lock().cookie_outcomes.extend(outcomes);
    }

    /// Every cookie login received: the account it reconnected (`None` for a connect) and
    /// the login, cookies included, so tests can check what reached Unipile.
    pub fn cookie_logins(&self) -> Vec<(Option<AccountId>, CookieLogin)> {
        self.lock().cookie_logins.clone()
    }

    /// Queues the answers to the next checkpoint solutions (a good code when none is
    /// scripted; [`CookieOutcome::Checkpoint`] asks for another step).
    pub fn script_checkpoint_answers(&self, answers: impl IntoIterator<Item = CookieOutcome>) {
        self.lock().checkpoint_answers.extend(answers);
    }

    /// Every checkpoint solution received: the account and the code.
    pub fn checkpoint_solutions(&self) -> Vec<(AccountId, String)> {
        self.lock().solutions.clone()
    }

    /// The user approves the sign-in in their LinkedIn app: the waiting login completes.
    pub fn approve_in_app(&self, account_id: &AccountId) {
        let mut state = self.lock();
        if state.checkpoints.remove(account_id).is_some()
            && let Some(account) = state.accounts.get_mut(account_id)
        {
            account.sources = vec![AccountStatus::Ok];
        }
    }

    fn cookie_auth(
        &self,
        account_id: Option<&AccountId>,
        login: &CookieLogin,
    ) -> Result<CookieAuthOutcome, UnipileError> {
        self.check()?;
        let created_at = self.now();
        let mut state = self.lock();
        state
            .cookie_logins
            .push((account_id.cloned(), login.clone()));
        let profile = state
            .members
            .get(login.cookies.li_at.expose_secret())
            .cloned();
        let outcome = state
            .cookie_outcomes
            .pop_front()
            .unwrap_or(CookieOutcome::Success);
        let id = match account_id {
            Some(id) if !state.accounts.contains_key(id) => return Err(not_found(id)),
            Some(id) => id.clone(),
            None => AccountId::parse(format!("li_{}", state.cookie_logins.len()))
                .map_err(|e| UnipileError::UnexpectedResponse(e.to_string()))?,
        };
        let mut hold = |status: AccountStatus| {
            let account = state
                .accounts
                .entry(id.clone())
                .or_insert_with(|| HeldAccount {
                    provider: Provider::Linkedin,
                    sources: vec![status.clone()],
                    created_at,
                    profile: profile.clone(),
                });
            account.sources = vec![status];
        };
        match outcome {
            CookieOutcome::Success => {
                hold(AccountStatus::Ok);
                Ok(CookieAuthOutcome::Connected(id))
            }
            CookieOutcome::Checkpoint(kind) => {
                hold(AccountStatus::Connecting);
                state.checkpoints.insert(id.clone(), kind.clone());
                Ok(CookieAuthOutcome::Checkpoint {
                    account_id: Some(id),
                    checkpoint_type: kind,
                })
            }
            CookieOutcome::Fail(error) => Err(error),
            CookieOutcome::CreatedThenLost(error) => {
                hold(AccountStatus::Ok);
                Err(error)
            }
            CookieOutcome::ConnectedTo(existing) => Ok(CookieAuthOutcome::Connected(existing)),
        }
    }

    fn solve(&self, account_id: &AccountId, code: &str) -> Result<CookieAuthOutcome, UnipileError> {
        self.check()?;
        let mut state = self.lock();
        state.solutions.push((account_id.clone(), code.to_owned()));
        if !state.checkpoints.contains_key(account_id) {
            // No login waits here (never started, solved or expired): Unipile's answer to an
            // intent it no longer has (contract §4c).
            return Err(UnipileError::Api {
                status: 500,
                error_type: UnipileErrorType::AuthenticationIntentError,
                title: "No authentication intent in progress".into(),
                detail: None,
            });
        }
        let answer = state
            .checkpoint_answers
            .pop_front()
            .unwrap_or(CookieOutcome::Success);
        match answer {
            CookieOutcome::Success | CookieOutcome::CreatedThenLost(_) => {
                state.checkpoints.remove(account_id);
                if let Some(account) = state.accounts.get_mut(account_id) {
                    account.sources = vec![AccountStatus::Ok];
                }
                if let CookieOutcome::CreatedThenLost(error) = answer {
                    return Err(error);
                }
                Ok(CookieAuthOutcome::Connected(account_id.clone()))
            }
            CookieOutcome::Checkpoint(kind) => {
                state.checkpoints.insert(account_id.clone(), kind.clone());
                Ok(CookieAuthOutcome::Checkpoint {
                    account_id: Some(account_id.clone()),
                    checkpoint_type: kind,
                })
            }
            CookieOutcome::Fail(error) => Err(error),
            CookieOutcome::ConnectedTo(existing) => {
                state.checkpoints.remove(account_id);
                Ok(CookieAuthOutcome::Connected(existing))
            }
        }
    }

    /// Queues the answers of the next custom-auth logins, in order
    /// ([`CookieOutcome::Checkpoint`] names the checkpoint's type).
    pub fn script_login_outcomes(&self, outcomes: impl IntoIterator<Item = CookieOutcome>) {
        self.lock().login_outcomes.extend(outcomes);
    }

    /// Every custom-auth login received: its target and provider.
    pub fn logins(&self) -> Vec<(LoginTarget, Provider)> {
        self.lock().logins.clone()
    }

    /// The accounts whose checkpoint code was sent again.
    pub fn resends(&self) -> Vec<AccountId> {
        self.lock().resends.clone()
    }

    fn start(
        &self,
        target: &LoginTarget,
        login: &CustomLogin,
    ) -> Result<LoginOutcome, UnipileError> {
        self.check()?;
        let created_at = self.now();
        let mut state = self.lock();
        state.logins.push((target.clone(), login.provider.clone()));
        let shown_on_phone = match &login.method {
            LoginMethod::QrCode => Some("QRCODE"),
            LoginMethod::PairingCode(_) => Some("PAIRING_CODE"),
            _ => None,
        };
        let outcome = state.login_outcomes.pop_front().unwrap_or_else(|| {
            shown_on_phone.map_or(CookieOutcome::Success, |kind| {
                CookieOutcome::Checkpoint(kind.to_owned())
            })
        });
        let id = match target {
            LoginTarget::Reconnect(id) if !state.accounts.contains_key(id) => {
                return Err(not_found(id));
            }
            LoginTarget::Reconnect(id) => id.clone(),
            LoginTarget::Create => AccountId::parse(format!("cu_{}", state.logins.len()))
                .map_err(|e| UnipileError::UnexpectedResponse(e.to_string()))?,
        };
        let serial = state.logins.len();
        let mut hold = |status: AccountStatus| {
            let account = state
                .accounts
                .entry(id.clone())
                .or_insert_with(|| HeldAccount {
                    provider: login.provider.clone(),
                    sources: vec![status.clone()],
                    created_at,
                    profile: None,
                });
            account.sources = vec![status];
        };
        match outcome {
            CookieOutcome::Success => {
                hold(AccountStatus::Ok);
                Ok(LoginOutcome::Connected(id))
            }
            CookieOutcome::Checkpoint(kind) => {
                hold(AccountStatus::Connecting);
                state.checkpoints.insert(id.clone(), kind.clone());
                let checkpoint = LoginCheckpoint {
                    qrcode: (kind == "QRCODE").then(|| format!("2@memory-{id}-{serial}")),
                    pairing_code: (kind == "PAIRING_CODE").then(|| format!("MEMO-{serial:04}")),
                    kind: Some(kind.into()),
                    ..LoginCheckpoint::default()
                };
                Ok(LoginOutcome::Checkpoint {
                    account_id: id,
                    checkpoint,
                })
            }
            CookieOutcome::Fail(error) => Err(error),
            CookieOutcome::CreatedThenLost(error) => {
                hold(AccountStatus::Ok);
                Err(error)
            }
            CookieOutcome::ConnectedTo(existing) => Ok(LoginOutcome::Connected(existing)),
        }
    }

    fn check(&self) -> Result<(), UnipileError> {
        self.lock().failure.clone().map_or(Ok(()), Err)
    }
}

fn described(account_id: &AccountId, account: &HeldAccount) -> UnipileAccount {
    UnipileAccount {
        account_id: account_id.clone(),
        account_type: account.provider.clone(),
        linkedin_profile_id: account.profile.clone(),
        display_name: Some(format!("{} account", account.provider.display_name())),
        source_statuses: account.sources.clone(),
        created_at: account.created_at,
    }
}

fn not_found(account_id: &AccountId) -> UnipileError {
    UnipileError::Api {
        status: 404,
        error_type: UnipileErrorType::ResourceNotFound,
        title: format!("no account {account_id}"),
        detail: None,
    }
}

#[async_trait]
impl Unipile for MemoryUnipile {
    async fn create_hosted_link(&self, request: &HostedLinkRequest) -> Result<Url, UnipileError> {
        self.check()?;
        let mut state = self.lock();
        state.links.push(request.clone());
        Url::parse(&format!(
            "https://account.unipile.test/link/{}",
            state.links.len()
        ))
        .map_err(|e| UnipileError::UnexpectedResponse(e.to_string()))
    }

    async fn account(&self, account_id: &AccountId) -> Result<UnipileAccount, UnipileError> {
        self.check()?;
        let mut state = self.lock();
        state.account_reads += 1;
        let account = state
            .accounts
            .get(account_id)
            .ok_or_else(|| not_found(account_id))?;
        Ok(described(account_id, account))
    }

    async fn list_accounts(
        &self,
        cursor: Option<&str>,
        limit: u32,
    ) -> Result<AccountPage, UnipileError> {
        self.check()?;
        let state = self.lock();
        // The cursor is the number of accounts already listed.
        let skip = match cursor {
            Some(cursor) => cursor
                .parse::<usize>()
                .map_err(|_| UnipileError::UnexpectedResponse(format!("bad cursor {cursor}")))?,
            None => 0,
        };
        let limit = limit.max(1) as usize;
        let accounts: Vec<_> = state
            .accounts
            .iter()
            .skip(skip)
            .take(limit)
            .map(|(id, account)| described(id, account))
            .collect();
        let next = skip + accounts.len();
        Ok(AccountPage {
            cursor: (next < state.accounts.len()).then(|| next.to_string()),
            accounts,
        })
    }

    async fn delete_account(&self, account_id: &AccountId) -> Result<(), UnipileError> {
        self.check()?;
        let mut state = self.lock();
        state.accounts.remove(account_id);
        state.deleted.push(account_id.clone());
        Ok(())
    }

    async fn restart_account(
        &self,
        account_id: &AccountId,
    ) -> Result<RestartOutcome, UnipileError> {
        self.check()?;
        let mut state = self.lock();
        if !state.accounts.contains_key(account_id) {
            return Err(not_found(account_id));
        }
        state.restarted.push(account_id.clone());
        Ok(RestartOutcome::Restarted)
    }

    async fn connect_linkedin(
        &self,
        login: &CookieLogin,
    ) -> Result<CookieAuthOutcome, UnipileError> {
        self.cookie_auth(None, login)
    }

    async fn reconnect_linkedin(
        &self,
        account_id: &AccountId,
        login: &CookieLogin,
    ) -> Result<CookieAuthOutcome, UnipileError> {
        self.cookie_auth(Some(account_id), login)
    }

    async fn solve_checkpoint(
        &self,
        account_id: &AccountId,
        code: &CheckpointCode,
    ) -> Result<CookieAuthOutcome, UnipileError> {
        self.solve(account_id, code.expose())
    }

    async fn start_login(
        &self,
        target: &LoginTarget,
        login: &CustomLogin,
    ) -> Result<LoginOutcome, UnipileError> {
        self.start(target, login)
    }

    async fn solve_login_checkpoint(
        &self,
        _provider: &Provider,
        account_id: &AccountId,
        code: &CheckpointCode,
    ) -> Result<LoginOutcome, UnipileError> {
        match self.solve(account_id, code.expose())? {
            CookieAuthOutcome::Connected(id) => Ok(LoginOutcome::Connected(id)),
            CookieAuthOutcome::Checkpoint {
                account_id: next,
                checkpoint_type,
            } => Ok(LoginOutcome::Checkpoint {
                account_id: next.unwrap_or_else(|| account_id.clone()),
                checkpoint: LoginCheckpoint {
                    kind: Some(checkpoint_type.into()),
                    ..LoginCheckpoint::default()
                },
            }),
        }
    }

    async fn resend_login_checkpoint(
        &self,
        _provider: &Provider,
        account_id: &AccountId,
    ) -> Result<(), UnipileError> {
        self.check()?;
        let mut state = self.lock();
        if !state.checkpoints.contains_key(account_id) {
            return Err(not_found(account_id));
        }
        state.resends.push(account_id.clone());
        Ok(())
    }
}
