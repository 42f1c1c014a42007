// The popup's state in the user's words. Pure, so that every state's sentence can be tested
// without a browser; the words carry the meaning on their own (colour only repeats them).

import { APP_APPROVAL, CODE_CHECKPOINTS } from "./outcomes.js";

const VERIFICATIONS = Object.freeze({
  "2FA": "Enter the code from your authenticator app.",
  OTP: "Enter the code LinkedIn sent you.",
  [APP_APPROVAL]: "Approve the sign-in in your LinkedIn app.",
});

/** "expires in 5 min", "expires in less than a minute", "expired", or "" without a date. */
export function expiresIn(expiresAt, now = new Date()) {
  const expires = Date.parse(expiresAt);
  if (Number.isNaN(expires)) return "";
  const seconds = (expires - now.getTime()) / 1000;
  if (seconds <= 0) return "expired";
  if (seconds < 60) return "expires in less than a minute";
  return `expires in ${Math.ceil(seconds / 60)} min`;
}

/** "in 4 min (at 14:05)", or "in a moment" when the time has come. */
export function retryWords(retryAt, { now = new Date(), locale, timeZone } = {}) {
  const at = Date.parse(retryAt);
  if (Number.isNaN(at) || at <= now.getTime()) return "in a moment";
  const minutes = Math.ceil((at - now.getTime()) / 60_000);
  const format = new Intl.DateTimeFormat(locale, { timeStyle: "short", timeZone });
  const clock = format.format(new Date(at));
  return minutes <= 1 ? `in less than a minute (at ${clock})` : `in ${minutes} min (at ${clock})`;
}

/** "3 minutes ago", "now": the largest unit that fits, in the user's language. */
export function agoWords(value, { now = new Date(), locale } = {}) {
  const at = Date.parse(value);
  if (Number.isNaN(at)) return "";
  const format = new Intl.RelativeTimeFormat(locale, { numeric: "auto" });
  const seconds = (at - now.getTime()) / 1000;
  if (Math.abs(seconds) < 45) return format.format(0, "second");
  for (const [unit, size] of [["day", 86_400], ["hour", 3600], ["minute", 60]]) {
    if (Math.abs(seconds) >= size) return format.format(Math.round(seconds / size), unit);
  }
  return format.format(Math.round(seconds / 60), "minute");
}

/**
 * What LinkedIn asks for: `{instruction, needsCode, inApp, expiry}`; `expiry` is
 * "expires in N min" (or "expired", or "").
 */
export function verificationWords(checkpoint, now = new Date()) {
  const type = checkpoint?.type ?? "";
  const expiry = expiresIn(checkpoint?.expires_at, now);
  const known = Object.hasOwn(VERIFICATIONS, type);
  return {
    instruction: known
      ? VERIFICATIONS[type]
      : `LinkedIn asks you to verify this sign-in (${type || "unnamed check"}). ` +
        "Complete it on linkedin.com, then press Sync now.",
    needsCode: CODE_CHECKPOINTS.includes(type) && expiry !== "expired",
    inApp: type === APP_APPROVAL && expiry !== "expired",
    expiry,
  };
}

/**
 * `{key, label, detail}` for a state (null before the first one): `key` is the state's name
 * for data-state, `label` the word or two the popup shows first, `detail` the sentence
 * under it.
 */
export function stateWords(
  state,
  { now = new Date(), appName = "the app", locale, timeZone } = {},
) {
  const key = state?.state ?? "signed-out";
  const reason = state?.reason ?? (state ? "" : "no-session");
  switch (key) {
    case "connected":
      return {
        key,
        label: "Connected",
        detail: "Your LinkedIn account is connected and kept signed in.",
      };
    case "syncing":
      return {
        key,
        label: "Syncing…",
        detail:
          state.connect === "throttled"
            ? "LinkedIn was asked a moment ago: the next sync asks again."
            : "Your LinkedIn session is stored; the connection is being set up.",
      };
    case "needs-verification": {
      const words = verificationWords(state.checkpoint, now);
      const expiry = words.expiry ? ` (${words.expiry})` : "";
      return { key, label: "Needs verification", detail: `${words.instruction}${expiry}` };
    }
    case "paused":
      return {
        key,
        label: "Paused",
        detail:
          reason === "deleted"
            ? "Your stored cookies were deleted. Syncing is off until you turn it back on."
            : "Syncing is off for this LinkedIn account: nothing is sent for it.",
      };
    case "signed-out":
      return {
        key,
        label: "Signed out",
        detail:
          reason === "expired"
            ? `Your session with ${appName} ended: open the app and sign in again.`
            : reason === "signed-out"
              ? `You signed out of ${appName}: sign in there to sync again.`
              : `Open ${appName} and sign in: syncing starts then.`,
      };
    case "no-linkedin":
      return {
        key,
        label: "Not signed in to LinkedIn",
        detail:
          reason === "no-member"
            ? "Open linkedin.com once in this browser, so that the extension learns who is " +
              "signed in."
            : "Sign in to LinkedIn in this browser: syncing starts then.",
      };
    case "retrying": {
      const next = retryWords(state.retry_at, { now, locale, timeZone });
      return {
        key,
        label: "Waiting to retry",
        detail: `The service is busy or out of reach. Next try ${next}.`,
      };
    }
    case "limit":
      return {
        key,
        label: "Limit reached",
        detail: state.detail || "You already sync as many LinkedIn accounts as allowed.",
      };
    default:
      return {
        key: "error",
        label: "Error",
        detail:
          reason === "verification-expired"
            ? "The verification expired. The next sync starts a new sign-in: press Sync now " +
              "to start it."
            : state?.detail || "The service refused the LinkedIn session.",
      };
  }
}
