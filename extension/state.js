// The popup's state and the LinkedIn member id, in chrome.storage.local: neither is secret,
// and both should survive a browser restart so that the popup has something true to say.
// The popup reads the same keys and re-renders when they change.

export const STATE_KEY = "state";
export const MEMBER_KEY = "member_id";

/** The last state written, or null before the first. */
export async function readState() {
  const stored = await chrome.storage.local.get(STATE_KEY);
  return stored[STATE_KEY] ?? null;
}

export async function writeState(state) {
  await chrome.storage.local.set({ [STATE_KEY]: state });
}

/** The member id the content script last saw on linkedin.com, or null. */
export async function readMemberId() {
  const stored = await chrome.storage.local.get(MEMBER_KEY);
  return stored[MEMBER_KEY] ?? null;
}

/** Keeps the member id; true when it is a new one (another LinkedIn account, or the first). */
export async function rememberMemberId(memberId) {
  const known = await readMemberId();
  if (known === memberId) return false;
  await chrome.storage.local.set({ [MEMBER_KEY]: memberId });
  return true;
}
