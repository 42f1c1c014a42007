// What each message the service worker receives may carry, read strictly: a message that does
// not fit is refused whole. Pure, so that the rules can be tested without a browser.
//
// Three kinds of sender, told apart by the worker before it calls these:
// - the app's page (runtime.onMessageExternal; which origins may send, and which API a
//   session may name, are trusted-origins.js's): a session to borrow, or the end of it;
// - the extension's own content script on linkedin.com: the signed-in member's id, and their
//   profile id when the page holds it;
// - the extension's own popup: what the user pressed.

export const SESSION_MESSAGE = "unipile-connect/session";
export const SIGN_OUT_MESSAGE = "unipile-connect/sign-out";
export const MEMBER_MESSAGE = "linkedin-member";
export const POPUP_COMMANDS = Object.freeze([
  "sync-now",
  "solve-checkpoint",
  "resume",
  "pause",
  "delete-cookies",
  "refresh",
]);

// Three base64url parts: a JWT as the app's identity provider issues it. The extension never
// reads what is inside: the API checks it.
const JWT_SHAPE = /^[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+$/;
const LONGEST_TOKEN = 16 * 1024;
// The two ids as the API accepts them. These are the service worker's only definitions; the
// content script (linkedin-member.js, a classic script that cannot import) keeps copies,
// which tests/member-id.test.js holds to these.
/** A LinkedIn member id: 1 to 20 digits. */
export const MEMBER_ID = /^\d{1,20}$/;
/** A profile id as Unipile shows it (ACoAAB…): letters, digits, - and _, at most 128. */
export const PROFILE_ID = /^[A-Za-z0-9_-]{1,128}$/;
// Verification codes are short; anything long is a paste gone wrong, not a code.
const LONGEST_CODE = 32;

const isObject = (value) => typeof value === "object" && value !== null && !Array.isArray(value);

/** True for a LinkedIn member id as the API accepts it: 1 to 20 digits. */
export function isMemberId(value) {
  return typeof value === "string" && MEMBER_ID.test(value);
}

/** True for a LinkedIn profile id as Unipile shows it (`ACoAAB…`), never the URN. */
export function isProfileId(value) {
  return typeof value === "string" && PROFILE_ID.test(value);
}

/**
 * The API's base URL without a trailing slash, or null: http(s) only, no credentials, no
 * query or fragment (paths are appended to it).
 */
export function apiBaseOf(value) {
  if (typeof value !== "string" || value.length > 2048) return null;
  let url;
  try {
    url = new URL(value);
  } catch {
    return null;
  }
  if (url.protocol !== "https:" && url.protocol !== "http:") return null;
  if (url.username || url.password || url.search || url.hash) return null;
  return (url.origin + url.pathname).replace(/\/+$/, "");
}

/**
 * A message from the app's page: `{kind: "session", token, apiBase}`, `{kind: "sign-out"}`,
 * or `{kind: "invalid", reason}`.
 */
export function readAppMessage(message) {
  if (!isObject(message)) return { kind: "invalid", reason: "not-an-object" };
  if (message.type === SIGN_OUT_MESSAGE) return { kind: "sign-out" };
  if (message.type !== SESSION_MESSAGE) return { kind: "invalid", reason: "unknown-type" };
  const { token } = message;
  if (typeof token !== "string" || token.length > LONGEST_TOKEN || !JWT_SHAPE.test(token)) {
    return { kind: "invalid", reason: "bad-token" };
  }
  const apiBase = apiBaseOf(message.api_base);
  if (!apiBase) return { kind: "invalid", reason: "bad-api-base" };
  return { kind: "session", token, apiBase };
}

/**
 * The member a content script reports, `{memberId, profileId}`, or null. A profile id that is
 * missing or malformed is null: the member id alone still counts.
 */
export function readMemberMessage(message) {
  if (!isObject(message) || message.type !== MEMBER_MESSAGE) return null;
  if (!isMemberId(message.member_id)) return null;
  const profileId = isProfileId(message.profile_id) ? message.profile_id : null;
  return { memberId: message.member_id, profileId };
}

/** A popup command: `{command, code?}`, or null. */
export function readPopupMessage(message) {
  if (!isObject(message) || !POPUP_COMMANDS.includes(message.type)) return null;
  if (message.type !== "solve-checkpoint") return { command: message.type };
  if (message.code === undefined || message.code === null) return { command: message.type };
  if (typeof message.code !== "string") return null;
  // Authenticator apps show "123 456": the space is not part of the code.
  const code = message.code.replace(/\s+/g, "");
  if (code === "" || code.length > LONGEST_CODE) return null;
  return { command: message.type, code };
}
