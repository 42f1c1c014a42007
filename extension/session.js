// The app's session as the extension borrows it: the token and the API's base URL the app's
// page handed over (on an API origin this build trusts), kept in chrome.storage.session
// only. That area lives in memory (never on disk), is cleared when the browser closes, and
// content scripts cannot read it. The user never types the token: after a browser restart,
// opening the app hands it over again.

import { API_ORIGINS, DEVELOPMENT } from "./origins.js";
import { originOf, originTrusted } from "./trusted-origins.js";

const SESSION_KEY = "session";

/** True when this build lets the cookie go to `apiBase` (an API origin it names). */
export function trustsApi(apiBase) {
  return originTrusted(originOf(apiBase), API_ORIGINS, DEVELOPMENT);
}

/**
 * `{token, apiBase}`, or null when no app has handed a session over (or it ended). A session
 * whose API this build does not trust is none: every call goes through here first.
 */
export async function readSession() {
  const stored = await chrome.storage.session.get(SESSION_KEY);
  const session = stored[SESSION_KEY];
  return session?.token && session?.apiBase && trustsApi(session.apiBase) ? session : null;
}

export async function keepSession({ token, apiBase }) {
  await chrome.storage.session.set({ [SESSION_KEY]: { token, apiBase } });
}

export async function forgetSession() {
  await chrome.storage.session.remove(SESSION_KEY);
}

/**
 * True when the worker may call this API: an origin this build trusts, which its manifest's
 * host_permissions cover too (without them the browser applies CORS to the worker's calls and
 * every sync fails as a network error).
 */
export async function mayCall(apiBase) {
  if (!trustsApi(apiBase)) return false;
  try {
    return await chrome.permissions.contains({ origins: [`${new URL(apiBase).origin}/*`] });
  } catch {
    return false;
  }
}
