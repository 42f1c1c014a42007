// What each answer of the API means for the state the popup shows, and when the periodic sync
// should hold back. Pure: the worker reads storage, calls these, and writes what they return.
//
// A state is a plain object kept in chrome.storage.local (nothing secret in it):
//   state        connected | syncing | needs-verification | paused | signed-out | no-linkedin
//                | retrying | limit | error
//   reason       why, where a state has more than one cause (signed-out: no-session, expired,
//                signed-out; no-linkedin: no-cookie, no-member; paused: identity, deleted;
//                error: verification-expired, refused)
//   member_id    the LinkedIn member the state is about
//   account_id   the account the API connected for that member, once known
//   connect      why the API did not connect yet ("throttled", "settling")
//   checkpoint   {type, expires_at} while LinkedIn waits for a verification
//   retry_at     when the next try is due (retrying), with `attempt`
//   detail       the API's own words for a refusal (limit, error)
//   last_sync    when the API last took the cookie
//   checked_at   when this state was reached

import { CHECKPOINT_DEFAULT_MINUTES } from "./config.js";
import { nextRetry } from "./backoff.js";

export const STATES = Object.freeze([
  "connected",
  "syncing",
  "needs-verification",
  "paused",
  "signed-out",
  "no-linkedin",
  "retrying",
  "limit",
  "error",
]);

/** Verifications the user answers with a code typed into the popup. */
export const CODE_CHECKPOINTS = Object.freeze(["2FA", "OTP"]);
/** The verification the user approves in the LinkedIn app while the worker asks. */
export const APP_APPROVAL = "IN_APP_VALIDATION";

const iso = (date) => date.toISOString();

// What carries over from one state to the next: the last sync always, the account only while
// the member is the same one (another member is another LinkedIn account).
function carried(previous, memberId) {
  const kept = {};
  if (previous?.last_sync) kept.last_sync = previous.last_sync;
  const member = memberId ?? previous?.member_id;
  if (member) kept.member_id = member;
  if (previous?.account_id && previous.member_id === member) kept.account_id = previous.account_id;
  return kept;
}

// Without an expires_at from the API, a verification is taken to wait the default time from
// when it was first asked for: asking again about the same one does not extend it.
function checkpointOf(raw, now, earlier) {
  const type = typeof raw?.type === "string" && raw.type ? raw.type : "UNKNOWN";
  const given = Date.parse(raw?.expires_at);
  if (!Number.isNaN(given)) return { type, expires_at: iso(new Date(given)) };
  if (earlier?.type === type && earlier.expires_at) return { type, expires_at: earlier.expires_at };
  const expires = new Date(now.getTime() + CHECKPOINT_DEFAULT_MINUTES * 60_000);
  return { type, expires_at: iso(expires) };
}

function needsVerification(base, body, now, earlier) {
  const checkpoint = checkpointOf(body.checkpoint, now, earlier);
  const state = { ...base, state: "needs-verification", checkpoint };
  if (typeof body.account_id === "string" && body.account_id) state.account_id = body.account_id;
  return state;
}

/** The state after `POST /extension/cookies` answered 2xx (`{status, body}`). */
export function afterSync(previous, { body }, { memberId, now = new Date() }) {
  const base = { ...carried(previous, memberId), checked_at: iso(now) };
  if (body.status === "paused") return paused(previous, "identity", { memberId, now });
  // The API took the cookie: anything but "paused" stored it.
  base.last_sync = iso(now);
  if (body.status === "checkpoint") return needsVerification(base, body, now);
  if (typeof body.account_id === "string" && body.account_id) base.account_id = body.account_id;
  if (body.connect === "throttled" || body.connect === "settling") base.connect = body.connect;
  return { ...base, state: base.account_id ? "connected" : "syncing" };
}

/** The state after a check of the member's identity (GET /extension/identities) found it. */
export function afterIdentity(previous, identity, { now = new Date() } = {}) {
  if (!identity || identity.linkedin_member_id !== previous?.member_id) return previous;
  if (identity.paused === true) {
    if (previous.state === "paused") return previous;
    return paused(previous, "identity", { now });
  }
  const known = typeof identity.account_id === "string" && identity.account_id;
  if (previous.state === "syncing" && known) {
    const account_id = identity.account_id;
    return { ...previous, state: "connected", account_id, checked_at: iso(now) };
  }
  return previous;
}

/** The state after a call failed; `retry` is `{attempt, minutes, at}` when one is due. */
export function afterError(previous, error, { memberId, now = new Date(), random } = {}) {
  const base = { ...carried(previous, memberId), checked_at: iso(now) };
  if (error.kind === "signed-out") return { ...base, state: "signed-out", reason: "expired" };
  if (error.isTransient) {
    const attempt = previous?.state === "retrying" ? (previous.attempt ?? 0) + 1 : 1;
    const retry = nextRetry({ attempt, retryAfter: error.retryAfter, now, random });
    return { ...base, state: "retrying", attempt, retry_at: iso(retry.at) };
  }
  if (error.kind === "limit") return { ...base, state: "limit", detail: error.detail };
  return { ...base, state: "error", reason: "refused", detail: error.detail };
}

/** The state when the app's session ended or was never handed over. */
export function signedOut(previous, reason, now = new Date()) {
  return { ...carried(previous), state: "signed-out", reason, checked_at: iso(now) };
}

/** The state when this browser has no LinkedIn session to hand over. */
export function noLinkedin(previous, reason, { memberId, now = new Date() } = {}) {
  return { ...carried(previous, memberId), state: "no-linkedin", reason, checked_at: iso(now) };
}

/**
 * The state while syncing is held: "identity" when the API pauses the member (the user said
 * so, here or in another browser), "deleted" after the user deleted their stored cookies.
 */
export function paused(previous, reason, { memberId, now = new Date() } = {}) {
  return { ...carried(previous, memberId), state: "paused", reason, checked_at: iso(now) };
}

/**
 * The outcome of `POST /extension/checkpoint` answering 2xx: `{state, message}` where
 * `message` is for the popup's form.
 */
export function afterCheckpoint(previous, { body }, { memberId, now = new Date() }) {
  if (body.status === "checkpoint") {
    const base = { ...carried(previous, memberId), checked_at: iso(now) };
    const state = needsVerification(base, body, now, previous?.checkpoint);
    const again = previous?.checkpoint?.type !== state.checkpoint.type;
    return { state, message: again ? "LinkedIn asks for one more verification." : "" };
  }
  const state = { ...carried(previous, memberId), state: "connected", checked_at: iso(now) };
  if (typeof body.account_id === "string" && body.account_id) state.account_id = body.account_id;
  if (!state.account_id) state.state = "syncing";
  return { state, message: "" };
}

/**
 * The outcome of `POST /extension/checkpoint` failing: `{state, message, syncAgain}`.
 * A wrong code leaves the verification waiting for another try.
 */
export function afterCheckpointError(previous, error, { memberId, now = new Date() } = {}) {
  if (error.kind === "signed-out") {
    return { state: afterError(previous, error, { memberId, now }), message: "", syncAgain: false };
  }
  if (error.status === 422) {
    return {
      state: previous,
      message: "That code was not accepted. Check it and try again.",
      syncAgain: false,
    };
  }
  if (error.status === 410) {
    return {
      state: verificationExpired(previous, { memberId, now }),
      message: "The verification expired. The next sync starts a new sign-in.",
      syncAgain: false,
    };
  }
  if (error.status === 409) {
    // Solved elsewhere, or replaced by a newer sign-in: a sync tells which.
    return { state: previous, message: "No verification is waiting any more.", syncAgain: true };
  }
  if (error.isTransient) {
    return {
      state: previous,
      message: "The service could not be reached. Try again in a moment.",
      syncAgain: false,
    };
  }
  return {
    state: previous,
    message: error.detail || "The verification was refused.",
    syncAgain: false,
  };
}

/** The state once a verification expired unanswered: the next sync starts a new sign-in. */
export function verificationExpired(previous, { memberId, now = new Date() } = {}) {
  return {
    ...carried(previous, memberId),
    state: "error",
    reason: "verification-expired",
    checked_at: iso(now),
  };
}

/** When the verification the state waits for stops waiting (a Date), or null. */
export function verificationExpiry(state) {
  if (state?.state !== "needs-verification") return null;
  const expires = Date.parse(state.checkpoint?.expires_at);
  return Number.isNaN(expires) ? null : new Date(expires);
}

/**
 * Whether the periodic alarm should sync now. It holds back while a retry is scheduled (the
 * back-off decides), while a verification waits (a new sign-in would replace it under the
 * user), and after the user deleted their cookies (until they turn syncing back on).
 * "Sync now" always syncs.
 */
export function periodicSyncWanted(state, now = new Date()) {
  if (!state) return true;
  if (state.state === "retrying") {
    const due = Date.parse(state.retry_at);
    return Number.isNaN(due) || due <= now.getTime();
  }
  if (state.state === "needs-verification") {
    const expiry = verificationExpiry(state);
    return !expiry || expiry.getTime() <= now.getTime();
  }
  if (state.state === "paused" && state.reason === "deleted") return false;
  return true;
}
