// Which alarms run in which state, decided in one place: every new state goes through
// enterState, which writes it for the popup and sets the alarms that follow from it.
//
// - "sync" repeats every SYNC_MINUTES while the app's session lasts.
// - "retry" fires once, at the back-off's time, while the state is "retrying".
// - "checkpoint" repeats while an approval in the LinkedIn app waits: it restarts the asking
//   if the browser stopped the worker in between.

import { ALARMS, CHECKPOINT_POLL_SECONDS, SYNC_MINUTES } from "./config.js";
import { APP_APPROVAL } from "./outcomes.js";
import { writeState } from "./state.js";

// chrome.alarms' shortest period; the asking itself runs every CHECKPOINT_POLL_SECONDS.
const CHECKPOINT_ALARM_MINUTES = Math.max(0.5, CHECKPOINT_POLL_SECONDS / 60);

/** Starts the periodic sync unless it already runs (a restart must not push it back). */
export async function ensureSyncAlarm() {
  if (!(await chrome.alarms.get(ALARMS.sync))) await restartSyncAlarm();
}

/** Starts the periodic sync afresh: its first run is one period from now. */
export async function restartSyncAlarm() {
  await chrome.alarms.create(ALARMS.sync, {
    delayInMinutes: SYNC_MINUTES,
    periodInMinutes: SYNC_MINUTES,
  });
}

/** True when an approval in the LinkedIn app waits in this state. */
export function waitsForApproval(state) {
  return state?.state === "needs-verification" && state.checkpoint?.type === APP_APPROVAL;
}

/** Writes the state and sets the alarms it calls for; returns it. */
export async function enterState(state) {
  await writeState(state);
  if (state.state === "retrying") {
    await chrome.alarms.create(ALARMS.retry, { when: Date.parse(state.retry_at) });
  } else {
    await chrome.alarms.clear(ALARMS.retry);
  }
  if (waitsForApproval(state)) {
    if (!(await chrome.alarms.get(ALARMS.checkpoint))) {
      await chrome.alarms.create(ALARMS.checkpoint, { periodInMinutes: CHECKPOINT_ALARM_MINUTES });
    }
  } else {
    await chrome.alarms.clear(ALARMS.checkpoint);
  }
  // Without the app's session there is nothing to sync with until a new handshake.
  if (state.state === "signed-out") await chrome.alarms.clear(ALARMS.sync);
  return state;
}
