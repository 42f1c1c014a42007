// The user's say over syncing, from the popup: pause it for this LinkedIn account (the API
// then stores nothing it is sent for it), turn it back on, or delete every cookie the API
// stores for them. Each answers `{ok, message}` for the popup.
//
// Deleting holds syncing in this browser too: otherwise the next periodic sync would hand
// the cookie straight back. "Turn syncing back on" lifts either hold.

import { ApiError } from "./api.js";
import { paused } from "./outcomes.js";
import { callContext, enterAnswered, sessionEnded } from "./sync.js";
import { readState } from "./state.js";

async function failed(previous, error, context) {
  if (!(error instanceof ApiError)) throw error;
  if (error.kind === "signed-out") {
    await sessionEnded(previous, error, context);
    return { ok: false, message: "" };
  }
  if (error.isTransient) {
    return { ok: false, message: "The service could not be reached. Try again in a moment." };
  }
  return { ok: false, message: error.detail || "The service refused." };
}

function withoutSession() {
  return { ok: false, message: "Open the app and sign in first." };
}

/** Stops syncing for the signed-in LinkedIn account, at the API. */
export async function pauseSyncing() {
  const previous = await readState();
  const context = await callContext();
  if (!context.api) return withoutSession();
  if (!context.memberId) return { ok: false, message: "Open linkedin.com in this browser first." };
  try {
    await context.api.setPaused(context.memberId, true);
    const { session, memberId } = context;
    await enterAnswered(session, paused(previous, "identity", { memberId }));
    return { ok: true, message: "" };
  } catch (error) {
    return failed(previous, error, context);
  }
}

/**
 * Lifts the hold: the API's pause when there is one, the local one after a deletion. The
 * caller syncs next.
 */
export async function resumeSyncing() {
  const previous = await readState();
  const context = await callContext();
  if (!context.api) return withoutSession();
  const heldHere = previous?.state === "paused" && previous.reason === "deleted";
  if (heldHere) return { ok: true, message: "" };
  if (!context.memberId) return { ok: true, message: "" };
  try {
    await context.api.setPaused(context.memberId, false);
    return { ok: true, message: "" };
  } catch (error) {
    return failed(previous, error, context);
  }
}

/** Deletes the cookies the API stores for the user, and holds syncing in this browser. */
export async function deleteStoredCookies() {
  const previous = await readState();
  const context = await callContext();
  if (!context.api) return withoutSession();
  try {
    const count = await context.api.deleteCookies();
    await enterAnswered(context.session, paused(previous, "deleted"));
    const words =
      count === 1 ? "1 stored cookie was deleted." : `${count} stored cookies were deleted.`;
    return { ok: true, message: `${words} Syncing is off until you turn it back on.` };
  } catch (error) {
    return failed(previous, error, context);
  }
}
