// Why connecting here did not work, in the user's words, and the way forward: every problem
// the connect routes answer (by its slug), and the failures any call can have.
//
// `refusalOf` says where the wizard goes next:
// - `stay`: the same step, the words above its form (the user fixes what they typed);
// - `credentials`: back to the sign-in form, with `focus` naming the field to fix;
// - `refused`: a step of its own that ends this attempt, with `actions` to go on:
//   "hosted" (Unipile's secure page), "restart", "continue" (a sign-in already waiting),
//   "retry" (the same request again), "close".
// `leaves`: the wizard closes and the element shows the problem (signed out).

import { ApiError } from "./api.js";
import { providerName } from "./providers.js";

/** "in 3 minutes (at 14:05)", for a wait of `seconds`. */
export function whenAgain(seconds, { now = new Date(), locale } = {}) {
  if (!Number.isFinite(seconds) || seconds <= 0) return "now";
  const at = new Date(now.getTime() + seconds * 1000);
  const clock = new Intl.DateTimeFormat(locale, { timeStyle: "short" }).format(at);
  if (seconds < 60) return `in ${Math.ceil(seconds)} seconds`;
  const minutes = Math.ceil(seconds / 60);
  return `in ${minutes} minute${minutes === 1 ? "" : "s"} (at ${clock})`;
}

/**
 * `{slug, go, text, focus?, actions?, retryAfter?}` for a failed call of the wizard.
 * `during` is "start" (the sign-in form was sent), "code" (a checkpoint answer), "resend"
 * or "wait" (polling).
 */
export function refusalOf(error, { provider, reconnect = false, during = "start", locale } = {}) {
  const name = providerName(provider);
  const problem = error instanceof ApiError ? error : new ApiError("server", { cause: error });
  const slug = problem.slug ?? problem.kind;
  const detail = problem.problem?.detail || problem.problem?.title || "no reason given";
  const wait = problem.retryAfter;
  const unavailable =
    "The connection service (Unipile) is not answering. Wait a few minutes, then try again.";

  switch (slug) {
    case "credentials-refused":
      return {
        slug,
        go: "credentials",
        focus: "password",
        text: `${name} did not accept this username and password. Check them and try again.`,
      };
    case "imap-settings-refused":
      return {
        slug,
        go: "credentials",
        focus: "servers",
        text: "The mail server refused these server settings. Check the IMAP and SMTP servers, ports and security, then try again.",
      };
    case "app-password-needed":
      return {
        slug,
        go: "credentials",
        focus: "password",
        text: "The mailbox exists but refused this password. Your email provider may require an app password: create one in your account's security settings and use it here.",
      };
    case "wrong-account":
      return {
        slug,
        go: "credentials",
        focus: "username",
        text: `These are the details of a different ${name} account. To reconnect this one, sign in with the same account it was connected with.`,
      };
    case "captcha-required":
      return {
        slug,
        go: "refused",
        text: `${name} asks this account to solve a captcha, which cannot be done here. Use the secure page instead: it shows the captcha.`,
        actions: ["hosted", "close"],
      };
    case "method-not-available":
      return {
        slug,
        go: "refused",
        text: `${name} does not allow this way of signing in for this account. Use the secure page instead.`,
        actions: ["hosted", "close"],
      };
    case "account-restricted":
      return {
        slug,
        go: "refused",
        text: `${name} has restricted this account. Sign in on ${name} itself to lift the restriction, then try again.`,
        actions: ["restart", "close"],
      };
    case "too-many-attempts":
      return {
        slug,
        go: "stay",
        // Without Retry-After (not exposed to a cross-origin page), a minute.
        retryAfter: wait ?? 60,
        text: `Too many attempts. ${name} can be tried again ${whenAgain(wait ?? 60, { locale })}.`,
      };
    case "attempt-in-progress":
      return {
        slug,
        go: "refused",
        accountId: problem.problem?.account_id ?? null,
        text: `Another ${name} sign-in is already waiting to be completed. Continue it, or wait a few minutes for it to expire and start again.`,
        actions: problem.problem?.account_id ? ["continue", "close"] : ["retry", "close"],
      };
    case "authentication-in-progress":
      return {
        slug,
        go: "refused",
        text: `A ${name} sign-in is already under way for this account. Wait a minute, then try again.`,
        actions: ["retry", "close"],
      };
    case "checkpoint-code-refused":
      return {
        slug,
        go: "stay",
        focus: "code",
        text: "That code was not accepted. Check it and type it again.",
      };
    case "checkpoint-expired":
      return {
        slug,
        go: "refused",
        text: "This sign-in has expired: it has to be completed within a few minutes. Start again.",
        actions: ["restart", "close"],
      };
    case "not-found":
      return {
        slug,
        go: "refused",
        text:
          during === "start" && reconnect
            ? "This account is not one of yours any more, so it cannot be reconnected."
            : "This sign-in is no longer known: it may have expired. Start again.",
        actions: during === "start" && reconnect ? ["close"] : ["restart", "close"],
      };
    case "unipile-unavailable":
    case "unipile-unreachable":
    case "unipile-busy":
    case "unavailable":
      return { slug, go: "stay", text: unavailable };
    case "network":
      return {
        slug,
        go: "stay",
        text: "Cannot reach the server. Check your connection, then try again.",
      };
    case "signed-out":
      return { slug, go: "leaves", text: "" };
    case "refused":
      return { slug, go: "stay", text: `The request was refused: ${detail}` };
    default:
      return {
        slug,
        go: "stay",
        text:
          problem.status >= 400 && problem.status < 500
            ? `The request was refused: ${detail}`
            : "Something went wrong. Try again in a moment.",
      };
  }
}
