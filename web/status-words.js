// What an account's status (Unipile's word, as GET /accounts gives it) means to the person
// who owns the account, and whether they have something to do.
//
// `tone` picks the colour (styles.js); the words carry the meaning on their own, so nothing
// depends on seeing the colour. `needsUser` puts a Reconnect button on the account.

const WORDS = Object.freeze({
  OK: {
    label: "Connected",
    detail: "Everything works.",
    tone: "ok",
    needsUser: false,
  },
  CREDENTIALS: {
    label: "Signed out",
    detail:
      "The provider signed this account out (a password change, an expired session or a security check). Reconnect to sign in again.",
    tone: "action",
    needsUser: true,
  },
  PERMISSIONS: {
    label: "Missing permissions",
    detail: "The account no longer grants the access it needs. Reconnect to grant it again.",
    tone: "action",
    needsUser: true,
  },
  ERROR: {
    label: "Stopped by an error",
    detail: "Syncing stopped after an unexpected error. If it does not recover by itself, reconnect.",
    tone: "problem",
    needsUser: true,
  },
  STOPPED: {
    label: "Stopped",
    detail: "Syncing has stopped. If it does not recover by itself, reconnect.",
    tone: "problem",
    needsUser: true,
  },
  CONNECTING: {
    label: "Connecting",
    detail: "The connection is being restored. Nothing to do: this usually takes a few minutes.",
    tone: "pending",
    needsUser: false,
  },
  DELETED: {
    label: "Disconnected",
    detail: "This account is no longer connected.",
    tone: "muted",
    needsUser: false,
  },
});

// Events Unipile reports that all mean "working" once they are recorded.
const HEALTHY_EVENTS = new Set(["CREATION_SUCCESS", "RECONNECTED", "SYNC_SUCCESS"]);

/**
 * `{label, detail, tone, needsUser}` for a status. An unknown status (a newer Unipile) is
 * named as sent, without alarm and without a button that might not help.
 */
export function statusWords(status) {
  if (Object.hasOwn(WORDS, status)) return WORDS[status];
  if (HEALTHY_EVENTS.has(status)) return WORDS.OK;
  return {
    label: "Unknown status",
    detail: `The provider reports “${String(status ?? "nothing")}”, which this page does not know yet.`,
    tone: "muted",
    needsUser: false,
  };
}
