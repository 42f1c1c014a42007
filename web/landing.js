// The default landing page's side of <unipile-accounts>: who is signed in. The page keeps the
// token in this tab's sessionStorage, because the hosted-auth visit leaves the page and comes
// back; a team's own page gives the element its own session's token instead.

import "./unipile-accounts.js";
import { endSession, offerSession } from "./extension-handshake.js";

const TOKEN_KEY = "unipile-connect.landing.token";
const $ = (id) => document.getElementById(id);
const accounts = document.querySelector("unipile-accounts");
// The LinkedIn sync extension this page lends the session to, when the page names one.
const extensionId = document.documentElement.dataset.extensionId;

function storedToken() {
  return sessionStorage.getItem(TOKEN_KEY);
}

// Only to greet the user by name: the API checks the token, not this page.
function claimsOf(token) {
  try {
    const payload = token.split(".")[1].replaceAll("-", "+").replaceAll("_", "/");
    const bytes = Uint8Array.from(atob(payload), (c) => c.charCodeAt(0));
    return JSON.parse(new TextDecoder().decode(bytes));
  } catch {
    return {};
  }
}

function showSignedIn({ focus = false } = {}) {
  const token = storedToken();
  $("signed-out").hidden = Boolean(token);
  $("sign-out").hidden = !token;
  $("signed-in-as").hidden = !token;
  $("sign-in-title").textContent = token ? "Signed in" : "Sign in";
  if (token) {
    const claims = claimsOf(token);
    $("signed-in-as").textContent = `Signed in as ${claims.email || claims.sub || "an unnamed user"}.`;
    if (focus) $("signed-in-as").focus();
  }
}

// The extension answered, but its build names neither this page's origin nor this API among
// those it trusts: it will not sync for this app, and nothing in its popup can change that.
const NOT_SET_UP = ["api-not-permitted", "origin-not-permitted"];
const EXTENSION_WORDS = {
  connected: "Browser extension connected",
  "not-set-up": "The LinkedIn sync extension in this browser is not set up for this app.",
};

/** Says how the extension took the session: connected, not set up for this app, or nothing. */
function showExtensionStatus(answer) {
  let state = "";
  if (answer.connected) state = "connected";
  else if (NOT_SET_UP.includes(answer.reason)) state = "not-set-up";
  const status = $("extension-status");
  status.dataset.state = state;
  // Shown before it is filled in: a status region announces what changes inside it.
  status.hidden = state === "";
  status.textContent = EXTENSION_WORDS[state] ?? "";
}

// The page is served by the API it talks to (api-base=""), so the API's base is its origin.
async function lendToExtension(token) {
  const answer = await offerSession({ extensionId, apiBase: location.origin, token });
  if (storedToken() !== token) return; // signed out, or in as someone else, meanwhile
  showExtensionStatus(answer);
}

function takeBackFromExtension() {
  showExtensionStatus({ connected: false });
  endSession({ extensionId });
}

function signIn(token) {
  sessionStorage.setItem(TOKEN_KEY, token);
  showSignedIn({ focus: true });
  accounts.refresh();
  lendToExtension(token);
}

function signOut() {
  sessionStorage.removeItem(TOKEN_KEY);
  showSignedIn();
  accounts.refresh();
  takeBackFromExtension();
}

accounts.getToken = async () => storedToken();

// The element says the session expired; the page offers to sign in again.
accounts.addEventListener("error", (event) => {
  if (event.detail.kind === "signed-out" && storedToken()) {
    sessionStorage.removeItem(TOKEN_KEY);
    showSignedIn();
    takeBackFromExtension();
  }
});

$("sign-out").addEventListener("click", () => {
  signOut();
  $("demo").hidden ? $("token").focus() : $("demo").focus();
});

$("token-form").addEventListener("submit", (event) => {
  event.preventDefault();
  const token = $("token").value.trim();
  $("token").value = "";
  if (token) signIn(token);
});

// On the local stack only (shown once it answers /_local/health), a demo user with an email,
// so the "sign in again" email of the CREDENTIALS tour has somewhere to go.
$("demo").addEventListener("click", async () => {
  const answer = await fetch("/_local/token?sub=demo-user&email=demo%40example.com");
  if (answer.ok) signIn((await answer.json()).token);
});

showSignedIn();
if (storedToken()) lendToExtension(storedToken());
// Only a page on this machine can be the local stack: a deployed page never asks.
if (["localhost", "127.0.0.1", "[::1]"].includes(location.hostname)) {
  fetch("/_local/health")
    .then((answer) => {
      $("demo").hidden = !answer.ok;
      $("local-links").hidden = !answer.ok;
    })
    .catch(() => {});
}
