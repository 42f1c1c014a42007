// The providers Unipile knows, by the names users know them by. The names match the ones the
// emails use (shared/src/domain/provider.rs), so a user reads the same word everywhere.

const NAMES = Object.freeze({
  LINKEDIN: "LinkedIn",
  WHATSAPP: "WhatsApp",
  INSTAGRAM: "Instagram",
  MESSENGER: "Messenger",
  TELEGRAM: "Telegram",
  TWITTER: "X",
  GOOGLE: "Google",
  GOOGLE_OAUTH: "Google",
  GOOGLE_CALENDAR: "Google Calendar",
  OUTLOOK: "Outlook",
  MAIL: "Email (IMAP)",
  MOBILE: "Mobile",
  ICLOUD: "iCloud",
  SLACK: "Slack",
  EXCHANGE: "Exchange",
});

/** The providers a hosted-auth link may offer, in the order the chooser lists them. */
export const CONNECTABLE_PROVIDERS = Object.freeze([
  "LINKEDIN",
  "WHATSAPP",
  "INSTAGRAM",
  "MESSENGER",
  "TELEGRAM",
  "TWITTER",
  "GOOGLE",
  "OUTLOOK",
  "MAIL",
]);

/**
 * The human name of an account `type`. A type this version does not know (Unipile adds
 * providers) is shown as Unipile spells it, tidied: "NEW_THING" reads "New thing".
 */
export function providerName(type) {
  if (typeof type !== "string" || type === "") return "Unknown provider";
  if (Object.hasOwn(NAMES, type)) return NAMES[type];
  const words = type.toLowerCase().replaceAll("_", " ");
  return words.charAt(0).toUpperCase() + words.slice(1);
}

/**
 * The provider choice a `providers` attribute allows ("LINKEDIN, WHATSAPP"): only names a
 * hosted-auth link accepts, so a typo cannot produce a link the API refuses.
 */
export function parseProviderList(attribute) {
  if (!attribute) return [...CONNECTABLE_PROVIDERS];
  const wanted = attribute
    .split(",")
    .map((name) => name.trim().toUpperCase())
    .filter((name) => CONNECTABLE_PROVIDERS.includes(name));
  return wanted.length > 0 ? [...new Set(wanted)] : [...CONNECTABLE_PROVIDERS];
}

/**
 * The providers whose sign-in the element can run here, in the page (the API's
 * `POST /accounts/connect`); the others (Google and Outlook use OAuth) always go to
 * Unipile's hosted page.
 */
export const CUSTOM_AUTH_PROVIDERS = Object.freeze([
  "WHATSAPP",
  "TELEGRAM",
  "LINKEDIN",
  "INSTAGRAM",
  "MESSENGER",
  "TWITTER",
  "MAIL",
]);

export function allowsCustomAuth(type) {
  return CUSTOM_AUTH_PROVIDERS.includes(type);
}

/** How the element connects: `hosted` (the default), `custom` (here) or `ask` (offer both). */
export const CONNECT_MODES = Object.freeze(["hosted", "custom", "ask"]);

export function parseConnectMode(attribute) {
  const mode = String(attribute ?? "").trim().toLowerCase();
  return CONNECT_MODES.includes(mode) ? mode : "hosted";
}

/**
 * The ways to connect (or reconnect) `type` under `mode`, preferred first: a subset of
 * `["custom", "hosted"]`, never empty. `"*"` (any provider) can only use the hosted page.
 */
export function connectWays(type, mode) {
  if (!allowsCustomAuth(type) || mode === "hosted") return ["hosted"];
  return mode === "custom" ? ["custom"] : ["custom", "hosted"];
}
