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

/**
 * The member the content script last saw on linkedin.com, `{memberId, profileId}`, each null
 * when unknown: both in one read, so that the profile id is always that member's.
 */
export async function readMember() {
  const stored = await chrome.storage.local.get([MEMBER_KEY, PROFILE_KEY]);
  const memberId = stored[MEMBER_KEY] ?? null;
  const profile = stored[PROFILE_KEY];
  return { memberId, profileId: memberId !== null && typeof profile === "string" ? profile : null };
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
