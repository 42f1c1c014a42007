// The app's session as the extension borrows it: the token and the API's base URL the app's
// page handed over, kept in chrome.storage.session only. That area lives in memory (never on
// disk), is cleared when the browser closes, and content scripts cannot read it. The user
// never types the token: after a browser restart, opening the app hands it over again.

const SESSION_KEY = "session";

/** `{token, apiBase}`, or null when no app has handed a session over (or it ended). */
export async function readSession() {
  const stored = await chrome.storage.session.get(SESSION_KEY);
  const session = stored[SESSION_KEY];
  return session?.token && session?.apiBase ? session : null;
}

export async function keepSession({ token, apiBase }) {
  await chrome.storage.session.set({ [SESSION_KEY]: { token, apiBase } });
}

export async function forgetSession() {
  await chrome.storage.session.remove(SESSION_KEY);
}

/**
 * True when the manifest lets the worker call this API: host_permissions must cover it, or
 * the browser applies CORS to the worker's calls and every sync fails as a network error.
 */
export async function mayCall(apiBase) {
  try {
    return await chrome.permissions.contains({ origins: [`${new URL(apiBase).origin}/*`] });
  } catch {
    return false;
  }
}
