// LinkedIn's verification before an account connects (a "checkpoint"): the code the user
// types into the popup, or the approval they give in the LinkedIn app while the worker asks
// every few seconds whether it came.

import { CHECKPOINT_POLL_SECONDS } from "./config.js";
import { ApiError } from "./api.js";
import {
  afterCheckpoint,
  afterCheckpointError,
  verificationExpired,
  verificationExpiry,
} from "./outcomes.js";
import { enterState, waitsForApproval } from "./schedule.js";
import { callContext, enterAnswered, sessionEnded } from "./sync.js";
import { readState } from "./state.js";

/**
 * Answers the waiting verification (`code` undefined for an approval in the app):
 * `{ok, state, message, syncAgain}`, `message` being for the popup's form.
 */
export async function solveCheckpoint(code) {
  const previous = await readState();
  const { api, session, memberId } = await callContext();
  const refused = (message) => ({ ok: false, state: previous, message, syncAgain: false });
  if (!api) return refused("Open the app and sign in first.");
  if (!memberId) return refused("Open linkedin.com in this browser first.");
  try {
    const answer = await api.solveCheckpoint({ memberId, code });
    const { state, message } = afterCheckpoint(previous, answer, { memberId });
    return { ok: true, state: await enterAnswered(session, state), message, syncAgain: false };
  } catch (error) {
    if (!(error instanceof ApiError)) throw error;
    if (error.kind === "signed-out") {
      const state = await sessionEnded(previous, error, { session, memberId });
      return { ok: false, state, message: "", syncAgain: false };
    }
    const outcome = afterCheckpointError(previous, error, { memberId });
    const state =
      outcome.state === previous ? previous : await enterAnswered(session, outcome.state);
    return { ...outcome, ok: false, state };
  }
}

const pause = (seconds) => new Promise((resolve) => setTimeout(resolve, seconds * 1000));

let watching = false;

/**
 * Asks every CHECKPOINT_POLL_SECONDS whether the user approved the sign-in in the LinkedIn
 * app, until the API answers something else than "still waiting" or the verification
 * expires. `syncAgain` is called when the API says no verification waits any more.
 */
export async function watchApproval({ syncAgain }) {
  if (watching) return;
  watching = true;
  try {
    for (;;) {
      await pause(CHECKPOINT_POLL_SECONDS);
      const state = await readState();
      if (!waitsForApproval(state)) return;
      const expiry = verificationExpiry(state);
      if (expiry && expiry.getTime() <= Date.now()) {
        await enterState(verificationExpired(state));
        return;
      }
      const outcome = await solveCheckpoint(undefined);
      if (outcome.syncAgain) {
        await syncAgain();
        return;
      }
      // A busy or unreachable API is asked again at the next turn, until the expiry.
    }
  } finally {
    watching = false;
  }
}
