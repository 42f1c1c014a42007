// The app page's side of the browser extension's handshake: after sign-in the page lends the
// extension the user's session (token and API base URL), so that the extension can sync the
// LinkedIn cookie without the user ever typing a token; on sign-out it takes it back.
//
// Both functions resolve and never throw: most users have no extension, and a page must
// work the same without it. chrome.runtime exists on a page only when an installed extension
// lists the page's origin in its externally_connectable, so its absence is the usual case.

export const SESSION_MESSAGE = "unipile-connect/session";
export const SIGN_OUT_MESSAGE = "unipile-connect/sign-out";

// A worker that has to wake up answers within a second; one that never does is not coming.
const ANSWER_MILLISECONDS = 5000;

function send(extensionId, message) {
  const runtime = globalThis.chrome?.runtime;
  if (!extensionId) return Promise.resolve({ sent: false, reason: "no-extension-id" });
  if (typeof runtime?.sendMessage !== "function") {
    return Promise.resolve({ sent: false, reason: "unavailable" });
  }
  return new Promise((resolve) => {
    const timer = setTimeout(
      () => resolve({ sent: false, reason: "no-answer" }),
      ANSWER_MILLISECONDS,
    );
    const done = (answer) => {
      clearTimeout(timer);
      resolve(answer);
    };
    try {
      // The callback form works in every Chrome that has runtime on web pages; reading
      // lastError in it tells "not installed" and keeps the console quiet.
      runtime.sendMessage(extensionId, message, (reply) => {
        if (runtime.lastError) done({ sent: false, reason: "not-installed" });
        else done({ sent: true, reply });
      });
    } catch {
      done({ sent: false, reason: "not-installed" });
    }
  });
}

/**
 * Lends the session to the extension: `{connected: true, version}` when it took it,
 * `{connected: false, reason}` otherwise ("no-extension-id", "unavailable", "not-installed",
 * "no-answer", or the extension's own reason such as "bad-token" or "api-not-permitted").
 */
export async function offerSession({ extensionId, apiBase, token }) {
  const answer = await send(extensionId, { type: SESSION_MESSAGE, token, api_base: apiBase });
  if (!answer.sent) return { connected: false, reason: answer.reason };
  if (answer.reply?.ok === true) return { connected: true, version: answer.reply.version };
  return { connected: false, reason: answer.reply?.reason || "refused" };
}

/** Takes the session back: the extension stops syncing until the next sign-in. */
export async function endSession({ extensionId }) {
  const answer = await send(extensionId, { type: SIGN_OUT_MESSAGE });
  return answer.sent && answer.reply?.ok === true
    ? { ended: true }
    : { ended: false, reason: answer.reason || answer.reply?.reason || "refused" };
}
