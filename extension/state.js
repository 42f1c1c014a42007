// The popup's state and the LinkedIn member (its id, and its profile id when the page showed
// one), in chrome.storage.local: none is secret, and all should survive a browser restart so
// that the popup has something true to say. The popup reads the same keys and re-renders
// when they change.

export const STATE_KEY = "state";
export const MEMBER_KEY = "member_id";
/** The profile id of the member under MEMBER_KEY, written with it (null when unknown). */
export const PROFILE_KEY = "profile_id";

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

/**
 * The profile id of `memberId`, or null: when the page showed none, or another member is
 * the one last seen (both are read in one go, so they always belong together).
 */
export async function readProfileId(memberId) {
  const stored = await chrome.storage.local.get([MEMBER_KEY, PROFILE_KEY]);
  if (stored[MEMBER_KEY] !== memberId) return null;
  return typeof stored[PROFILE_KEY] === "string" ? stored[PROFILE_KEY] : null;
}

/**
 * Keeps the member and its profile id, in one write so that a profile id never stays beside
 * another member's id. A page of the same member that shows no profile id leaves the known
 * one. True when either is new (another LinkedIn account, the first, or a profile id now
 * known).
 */
export async function rememberMember({ memberId, profileId = null }) {
  const stored = await chrome.storage.local.get([MEMBER_KEY, PROFILE_KEY]);
  const sameMember = stored[MEMBER_KEY] === memberId;
  const known = sameMember ? (stored[PROFILE_KEY] ?? null) : null;
  const kept = profileId ?? known;
  if (sameMember && kept === known) return false;
  await chrome.storage.local.set({ [MEMBER_KEY]: memberId, [PROFILE_KEY]: kept });
  return true;
}
