// One sync: read the LinkedIn session cookies, hand them to the API with the member id (and
// the member's profile id when the page showed it), and turn the answer into the popup's
// state.
//
// The cookie values live in this function's local variables for the length of the call and
// nowhere else: not in storage, not in the state, not in a message, not in a log line.

import { LINKEDIN_URL } from "./config.js";
import { ApiError, ExtensionApi } from "./api.js";
import {
  afterError,
  afterIdentity,
  afterSync,
  noLinkedin,
  periodicSyncWanted,
  signedOut,
} from "./outcomes.js";
import { enterState } from "./schedule.js";
import { forgetSession, readSession } from "./session.js";
import { readMember, readState } from "./state.js";

async function linkedinCookie(name) {
  const cookie = await chrome.cookies.get({ url: LINKEDIN_URL, name });
  return cookie?.value || null;
}

/** The API with the borrowed session, the session itself, the member id and its profile id. */
export async function callContext() {
  const session = await readSession();
  const { memberId, profileId } = await readMember();
  const api = session ? new ExtensionApi({ base: session.apiBase, token: session.token }) : null;
  return { api, session, memberId, profileId };
}

// While a call ran, the app may have signed out or handed over a new session: then the
// answer is about a session that is gone, and the newer news stands.
async function sessionChanged(session) {
  return (await readSession())?.token !== session.token;
}

/** Enters the state an answer leads to, unless the session it answered has changed. */
export async function enterAnswered(session, state) {
  if (await sessionChanged(session)) return readState();
  return enterState(state);
}

/** A 401 ends the session it was answered to (and only that one). */
export async function sessionEnded(previous, error, { session, memberId }) {
  if (await sessionChanged(session)) return readState();
  await forgetSession();
  return enterState(afterError(previous, error, { memberId }));
}

async function syncOnce(trigger) {
  const previous = await readState();
  if (trigger === "alarm" && !periodicSyncWanted(previous)) return previous;
  const { api, session, memberId, profileId } = await callContext();
  if (!session) {
    // Keep the reason the session ended ("expired", "signed-out") rather than a vaguer one.
    if (previous?.state === "signed-out") return enterState(previous);
    return enterState(signedOut(previous, "no-session"));
  }
  const liAt = await linkedinCookie("li_at");
  if (!liAt) return enterState(noLinkedin(previous, "no-cookie", { memberId }));
  if (!memberId) return enterState(noLinkedin(previous, "no-member"));
  const liA = await linkedinCookie("li_a");
  try {
    const answer = await api.syncCookies({
      liAt,
      liA,
      userAgent: navigator.userAgent,
      memberId,
      profileId,
    });
    const state = await withAccount(api, afterSync(previous, answer, { memberId }));
    return enterAnswered(session, state);
  } catch (error) {
    if (!(error instanceof ApiError)) throw error;
    if (error.kind === "signed-out") return sessionEnded(previous, error, { session, memberId });
    return enterAnswered(session, afterError(previous, error, { memberId }));
  }
}

/**
 * A sync the API only stored names no account: the extension may not know it (installed
 * again, another browser connected it). The identities list tells, when it is reachable.
 */
async function withAccount(api, state) {
  if (state.state !== "syncing" || state.connect) return state;
  return afterIdentity(state, await identityOf(api, state.member_id));
}

// The member's identity as the API keeps it, or null (none, or the API out of reach: only a
// better word for the popup was at stake).
async function identityOf(api, memberId) {
  try {
    const identities = await api.listIdentities();
    return identities.find((identity) => identity.linkedin_member_id === memberId) ?? null;
  } catch {
    return null;
  }
}

/**
 * What the API knows of the member now (paused or turned back on elsewhere, connected from
 * another browser), for the popup when it opens. Failures change nothing.
 */
export async function refreshIdentity() {
  const previous = await readState();
  const { api, session, memberId } = await callContext();
  if (!api || !memberId || previous?.member_id !== memberId) return previous;
  if (previous.state === "signed-out" || previous.state === "retrying") return previous;
  const identity = await identityOf(api, memberId);
  if (previous.state === "paused" && previous.reason === "identity" && identity?.paused === false) {
    return sync("resumed", { fresh: true });
  }
  const refreshed = afterIdentity(previous, identity);
  return refreshed === previous ? previous : enterAnswered(session, refreshed);
}

let running = null;

/**
 * Syncs, one at a time. A periodic or user sync that comes while one runs shares its result;
 * a `fresh` one (a new session, a new member) runs after it, so that it sees what is new.
 */
export function sync(trigger, { fresh = false } = {}) {
  if (running && !fresh) return running;
  const previous = running ?? Promise.resolve();
  const next = previous
    .catch(() => {})
    .then(() => syncOnce(trigger))
    .finally(() => {
      if (running === next) running = null;
    });
  running = next;
  return next;
}
