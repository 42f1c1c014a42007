// Where the hosted-auth page sends the browser back to, and what the page learns from it.
//
// Unipile's v1 redirect adds nothing to success_redirect_url or failure_redirect_url (the
// contract documents no parameter, and no failure reason), so the component marks the URLs
// it hands out with its own parameter and reads it back on return.

export const OUTCOME_PARAM = "unipile-accounts";
const OUTCOMES = new Set(["connected", "reconnected", "failed"]);

/** The page's own address, without our marker, for a redirect URL. */
function pageUrl(location) {
  const url = new URL(location.href);
  url.searchParams.delete(OUTCOME_PARAM);
  url.hash = "";
  return url;
}

/** `{successUrl, failureUrl}` that bring the user back to this page with the outcome marked. */
export function redirectUrls(location, kind) {
  const success = pageUrl(location);
  success.searchParams.set(OUTCOME_PARAM, kind === "reconnect" ? "reconnected" : "connected");
  const failure = pageUrl(location);
  failure.searchParams.set(OUTCOME_PARAM, "failed");
  return { successUrl: success.href, failureUrl: failure.href };
}

/** "connected", "reconnected", "failed", or null when the page was not a redirect target. */
export function readOutcome(location) {
  const value = new URL(location.href).searchParams.get(OUTCOME_PARAM);
  return OUTCOMES.has(value) ? value : null;
}

/** The account a "please reconnect" email names (`?reconnect=<id>`), if any. */
export function readReconnectRequest(location, param) {
  const value = new URL(location.href).searchParams.get(param);
  return value ? value : null;
}

/**
 * Drops the marker (and the reconnect request) from the address bar, so that reloading
 * or bookmarking the page does not announce the outcome again.
 */
export function forgetOutcome(history, location, reconnectParam) {
  const url = new URL(location.href);
  const had = url.searchParams.has(OUTCOME_PARAM) || url.searchParams.has(reconnectParam);
  if (!had) return;
  url.searchParams.delete(OUTCOME_PARAM);
  url.searchParams.delete(reconnectParam);
  history.replaceState(history.state, "", url.href);
}
