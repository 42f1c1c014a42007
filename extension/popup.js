// The popup: the state the service worker keeps in chrome.storage.local, in words, and the
// buttons that ask the worker to act. The popup never calls the API itself: the worker holds
// the borrowed session and makes every call. It may also be opened as a tab
// (chrome-extension://<id>/popup.html); it works the same there.

import { APP_NAME } from "./config.js";
import { agoWords, stateWords, verificationWords } from "./popup-words.js";
import { MEMBER_KEY, STATE_KEY } from "./state.js";

const $ = (id) => document.getElementById(id);

let state = null;
let memberId = null;

/** Asks the worker; resolves its reply, or `{ok: false, message}` when it could not answer. */
async function ask(message) {
  try {
    return (await chrome.runtime.sendMessage(message)) ?? { ok: false, message: "" };
  } catch {
    return { ok: false, message: "The extension did not answer. Try again." };
  }
}

function setText(id, text) {
  const element = $(id);
  // Live regions re-announce on every write: only write what changed.
  if (element.textContent !== text) element.textContent = text;
  return element;
}

function render() {
  const now = new Date();
  const words = stateWords(state, { now, appName: APP_NAME });
  const stateElement = setText("state", words.label);
  stateElement.dataset.state = words.key;
  setText("state-detail", words.detail);

  const member = state?.member_id ?? memberId;
  $("member").hidden = !member;
  setText("member", member ? `LinkedIn member ${member}` : "");
  setText(
    "last-sync",
    state?.last_sync ? `Last sync: ${agoWords(state.last_sync, { now })}` : "Not synced yet",
  );

  const verification =
    words.key === "needs-verification" ? verificationWords(state.checkpoint, now) : null;
  $("verification").hidden = !verification || (!verification.needsCode && !verification.inApp);
  $("approval").hidden = !verification?.inApp;
  const form = $("checkpoint-form");
  const formWasHidden = form.hidden;
  form.hidden = !verification?.needsCode;
  if (form.hidden) setText("checkpoint-message", "");
  else if (formWasHidden) $("checkpoint-code").value = "";

  $("resume").hidden = words.key !== "paused";
  $("pause").hidden = !["connected", "syncing"].includes(words.key);
}

async function load() {
  const stored = await chrome.storage.local.get([STATE_KEY, MEMBER_KEY]);
  state = stored[STATE_KEY] ?? null;
  memberId = stored[MEMBER_KEY] ?? null;
  render();
}

/** Runs a command with its button disabled (and saying so), then shows the reply's words. */
async function command(button, message, { busyText, messageId = "action-message" } = {}) {
  const idleText = button.textContent;
  button.disabled = true;
  button.setAttribute("aria-busy", "true");
  if (busyText) button.textContent = busyText;
  setText(messageId, "");
  try {
    const reply = await ask(message);
    setText(messageId, reply.message ?? "");
    return reply;
  } finally {
    button.disabled = false;
    button.removeAttribute("aria-busy");
    button.textContent = idleText;
    await load();
  }
}

$("sync-now").addEventListener("click", (event) =>
  command(event.currentTarget, { type: "sync-now" }, { busyText: "Syncing…" }),
);

$("resume").addEventListener("click", async (event) => {
  await command(event.currentTarget, { type: "resume" }, { busyText: "Turning it on…" });
  // The button goes away once syncing is on: the state is where the news is.
  if ($("resume").hidden) $("state").focus();
});

$("pause").addEventListener("click", async (event) => {
  await command(event.currentTarget, { type: "pause" }, { busyText: "Pausing…" });
  if ($("pause").hidden) $("state").focus();
});

$("checkpoint-form").addEventListener("submit", async (event) => {
  event.preventDefault();
  const input = $("checkpoint-code");
  const code = input.value.replace(/\s+/g, "");
  if (!code) {
    setText("checkpoint-message", "Enter the code first.");
    input.focus();
    return;
  }
  const reply = await command(
    $("checkpoint-submit"),
    { type: "solve-checkpoint", code },
    { busyText: "Sending…", messageId: "checkpoint-message" },
  );
  if ($("checkpoint-form").hidden) {
    $("state").focus();
  } else if (!reply.ok) {
    input.focus();
    input.select();
  }
});

// Deleting asks first, inside the popup; the safe answer has the focus.
function showDeleteConfirm(open) {
  $("delete-confirm").hidden = !open;
  $("delete-cookies").setAttribute("aria-expanded", String(open));
  (open ? $("delete-cookies-cancel") : $("delete-cookies")).focus();
}

$("delete-cookies").addEventListener("click", () => {
  setText("delete-message", "");
  showDeleteConfirm($("delete-confirm").hidden);
});
$("delete-cookies-cancel").addEventListener("click", () => showDeleteConfirm(false));
$("delete-confirm").addEventListener("keydown", (event) => {
  if (event.key === "Escape") showDeleteConfirm(false);
});
$("delete-cookies-confirm").addEventListener("click", async (event) => {
  await command(event.currentTarget, { type: "delete-cookies" }, {
    busyText: "Deleting…",
    messageId: "delete-message",
  });
  showDeleteConfirm(false);
});

chrome.storage.onChanged.addListener((changes, area) => {
  if (area === "local" && (STATE_KEY in changes || MEMBER_KEY in changes)) load();
});

// "3 minutes ago" and "expires in 5 min" move on while the popup is open.
setInterval(render, 15_000);

await load();
// What the API knows now (paused or connected from elsewhere); the state changes if need be.
ask({ type: "refresh" });
