// The numbers and names a team may want to change, in one place. Which API origins the
// cookie may go to, and which app pages may hand over a session, are origins.json's (written
// into a build by build.mjs); the API's base URL within those comes from the app's handshake.

/** What the popup calls the app whose session the extension borrows ("open the app"). */
export const APP_NAME = "the app";

/** Minutes between two syncs of the LinkedIn cookie. */
export const SYNC_MINUTES = 15;

/**
 * Back-off after a busy or unreachable API: the first retry comes after about
 * RETRY_FIRST_MINUTES, each next one waits twice as long, never more than RETRY_MAX_MINUTES.
 */
export const RETRY_FIRST_MINUTES = 1;
export const RETRY_MAX_MINUTES = 60;
/** Each wait moves by up to this share either way, so that many browsers do not retry in step. */
export const RETRY_JITTER = 0.2;

/** How often an approval in the LinkedIn app is asked about while it waits. */
export const CHECKPOINT_POLL_SECONDS = 5;
/**
 * How long a verification is taken to wait when the API gives no `expires_at`: the periodic
 * sync leaves it alone until then, so that it does not start a new sign-in under the user.
 */
export const CHECKPOINT_DEFAULT_MINUTES = 10;

/** Where the LinkedIn session cookies are read from. */
export const LINKEDIN_URL = "https://www.linkedin.com/";

/** Alarm names (chrome.alarms). */
export const ALARMS = Object.freeze({
  sync: "sync",
  retry: "retry",
  checkpoint: "checkpoint",
});

/** How long an API call may take before it counts as a network failure. */
export const REQUEST_TIMEOUT_SECONDS = 60;
