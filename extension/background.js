// The service worker: who may say what, and what each alarm and message starts. Listeners
// are added at the top level, as the browser requires, so that an event wakes the worker.

import { ALARMS } from "./config.js";
import { solveCheckpoint, watchApproval } from "./checkpoint.js";
import { readAppMessage, readMemberMessage, readPopupMessage } from "./messages.js";
import { APP_ORIGINS, DEVELOPMENT } from "./origins.js";
import { signedOut } from "./outcomes.js";
import { deleteStoredCookies, pauseSyncing, resumeSyncing } from "./pause.js";
import { enterState, ensureSyncAlarm, restartSyncAlarm, waitsForApproval } from "./schedule.js";
import { forgetSession, keepSession, mayCall, readSession } from "./session.js";
import { readState, rememberMember } from "./state.js";
import { refreshIdentity, sync } from "./sync.js";
import { originTrusted } from "./trusted-origins.js";

const VERSION = chrome.runtime.getManifest().version;

// After anything that may have changed the state: an approval in the LinkedIn app is asked
// about until it comes.
function followUp(state) {
  if (waitsForApproval(state)) {
    const syncAgain = () => syncAndFollow("checkpoint", { fresh: true });
    watchApproval({ syncAgain }).catch(unexpected("asking about the approval"));
  }
  return state;
}

function syncAndFollow(trigger, options) {
  return sync(trigger, options).then(followUp);
}

// A failure the code did not expect: said without its message, which might quote a value.
function unexpected(what) {
  return (error) => console.error(`unipile-connect: ${what} failed`, error?.name);
}

// Installed, updated, reloaded or the browser started: the periodic sync runs, and since the
// browser cleared the borrowed session (storage.session is memory only), the popup says so
// rather than the state from before, until the app is opened again.
async function awaken() {
  await ensureSyncAlarm();
  if (await readSession()) return;
  const previous = await readState();
  if (previous && previous.state !== "signed-out") {
    await enterState(signedOut(previous, "no-session"));
  }
}

chrome.runtime.onInstalled.addListener(() => {
  awaken().catch(unexpected("starting"));
});

chrome.runtime.onStartup.addListener(() => {
  awaken().catch(unexpected("starting"));
});

chrome.alarms.onAlarm.addListener((alarm) => {
  if (alarm.name === ALARMS.sync) syncAndFollow("alarm").catch(unexpected("the periodic sync"));
  if (alarm.name === ALARMS.retry) syncAndFollow("retry").catch(unexpected("the retry"));
  if (alarm.name === ALARMS.checkpoint) {
    readState().then(followUp).catch(unexpected("the approval alarm"));
  }
});

// The app's page: a session to borrow, or the end of it. Only the app's origins this build
// names may say either: manifest.json's externally_connectable keeps other pages from
// sending at all, and the origin the browser reports is checked again here.
chrome.runtime.onMessageExternal.addListener((message, sender, reply) => {
  if (!originTrusted(sender?.origin, APP_ORIGINS, DEVELOPMENT)) {
    reply({ ok: false, reason: "origin-not-permitted", version: VERSION });
    return false;
  }
  const read = readAppMessage(message);
  if (read.kind === "invalid") {
    reply({ ok: false, reason: read.reason, version: VERSION });
    return false;
  }
  (read.kind === "session" ? startSession(read) : endSession()).then(
    (answer) => reply({ ...answer, version: VERSION }),
    (error) => {
      unexpected("the app's message")(error);
      reply({ ok: false, reason: "failed", version: VERSION });
    },
  );
  return true;
});

async function startSession({ token, apiBase }) {
  if (!(await mayCall(apiBase))) return { ok: false, reason: "api-not-permitted" };
  await keepSession({ token, apiBase });
  await restartSyncAlarm();
  // A new session lifts "signed out" and syncs at once; the reply does not wait for it.
  syncAndFollow("handshake", { fresh: true }).catch(unexpected("the first sync"));
  return { ok: true };
}

async function endSession() {
  await forgetSession();
  const previous = await readState();
  await enterState(signedOut(previous, "signed-out"));
  return { ok: true };
}

const OWN_PAGES = chrome.runtime.getURL("");

function fromLinkedin(sender) {
  try {
    const { hostname } = new URL(sender.url);
    return hostname === "linkedin.com" || hostname.endsWith(".linkedin.com");
  } catch {
    return false;
  }
}

// The extension's own content script (the member id) and its own popup (what the user
// pressed); the popup may be open in a tab, so a tab alone does not tell them apart.
chrome.runtime.onMessage.addListener((message, sender, reply) => {
  if (sender.id !== chrome.runtime.id) return false;
  if (sender.tab && fromLinkedin(sender)) {
    const member = readMemberMessage(message);
    if (member) memberSeen(member).catch(unexpected("keeping the member id"));
    return false;
  }
  if (!sender.url?.startsWith(OWN_PAGES)) return false;
  const read = readPopupMessage(message);
  if (!read) {
    reply({ ok: false, message: "" });
    return false;
  }
  popupCommand(read).then(reply, (error) => {
    unexpected(read.command)(error);
    reply({ ok: false, message: "Something went wrong. Try again." });
  });
  return true;
});

// A new member id is a new LinkedIn account in this browser (or the first), a new profile id
// news for the API: sync it now.
async function memberSeen(member) {
  if (await rememberMember(member)) await syncAndFollow("member", { fresh: true });
}

async function popupCommand({ command, code }) {
  switch (command) {
    case "sync-now":
      await syncAndFollow("user");
      return { ok: true, message: "" };
    case "solve-checkpoint": {
      const { ok, message, state, syncAgain } = await solveCheckpoint(code);
      if (syncAgain) await syncAndFollow("checkpoint", { fresh: true });
      else await followUp(state);
      return { ok, message };
    }
    case "resume": {
      const answer = await resumeSyncing();
      if (answer.ok) await syncAndFollow("user", { fresh: true });
      return answer;
    }
    case "pause":
      return pauseSyncing();
    case "delete-cookies":
      return deleteStoredCookies();
    case "refresh":
      await refreshIdentity().then(followUp);
      return { ok: true, message: "" };
    default:
      return { ok: false, message: "" };
  }
}
