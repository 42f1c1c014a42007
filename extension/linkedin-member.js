// Content script on linkedin.com (a classic script: content scripts cannot be modules without
// exposing a file to the page). It learns who is signed in to LinkedIn in this browser and
// tells the service worker, so that the cookie is handed over under the right member id.
//
// LinkedIn pages carry their data as JSON in <code> elements; the one shaped
// {"data": {"plainId": ...}} (the signed-in member, LinkedIn's "Me") names the member. The
// same JSON names the member's profile: `data["*miniProfile"]` is
// "urn:li:fs_miniProfile:ACoAA…", and the profile it points to, in `included`, carries
// `dashEntityUrn` "urn:li:fsd_profile:ACoAA…". That id (ACoAA…) is the one Unipile's Account
// shows (connection_params.im.id). Profiles of other people fill the rest of the page: only
// the Me document's own is read. This script reads nothing else: no cookie (the worker reads
// those through the cookies permission), no message.
//
// The functions below are declared at the top level so that tests can load the file and call
// them; the content script's world is the extension's own, not the page's.

// Copies of messages.js's MEMBER_ID and PROFILE_ID (a classic script cannot import them);
// tests/member-id.test.js fails when they differ.
/** A member id as the API accepts it: 1 to 20 digits. */
const MEMBER_ID = /^\d{1,20}$/;
/** A profile id as Unipile shows it: letters, digits, `-` and `_`, at most 128. */
const PROFILE_ID = /^[A-Za-z0-9_-]{1,128}$/;
const PROFILE_URN = /^urn:li:(?:fsd_profile|fs_miniProfile):(.+)$/;

/** The bare id of a member's profile URN (fsd_profile or fs_miniProfile), or null. */
function profileIdFromUrn(urn) {
  const found = typeof urn === "string" ? PROFILE_URN.exec(urn) : null;
  return found && PROFILE_ID.test(found[1]) ? found[1] : null;
}

/**
 * The signed-in member's profile id in LinkedIn's Me document, or null: the fsd_profile of
 * the profile the document points to (by its `*miniProfile`, or as `urn:li:member:<id>`),
 * else the id of `*miniProfile` itself.
 */
function profileIdOf(me, memberId) {
  const pointer = typeof me.data["*miniProfile"] === "string" ? me.data["*miniProfile"] : null;
  const member = `urn:li:member:${memberId}`;
  const included = Array.isArray(me.included) ? me.included : [];
  const own = included.find(
    (entity) =>
      typeof entity === "object" &&
      entity !== null &&
      ((pointer !== null && entity.entityUrn === pointer) || entity.objectUrn === member),
  );
  return (
    profileIdFromUrn(own?.dashEntityUrn) ??
    profileIdFromUrn(own?.entityUrn) ??
    profileIdFromUrn(pointer)
  );
}

/**
 * The member in one <code> element's text, or null: `{memberId, profileId}`, the member id 1
 * to 20 digits as a string, the profile id null when the document holds none.
 */
function memberFromCodeText(text) {
  // Pages hold hundreds of <code> elements; parsing only the ones that can match keeps the
  // page responsive.
  if (typeof text !== "string" || !text.includes("plainId")) return null;
  let value;
  try {
    value = JSON.parse(text);
  } catch {
    return null;
  }
  const plainId = value?.data?.plainId;
  let memberId = null;
  // A number past 2^53 has already lost digits in JSON.parse: it would name someone else.
  if (typeof plainId === "number") {
    memberId = Number.isSafeInteger(plainId) && plainId > 0 ? String(plainId) : null;
  } else if (typeof plainId === "string" && MEMBER_ID.test(plainId)) {
    memberId = plainId;
  }
  return memberId ? { memberId, profileId: profileIdOf(value, memberId) } : null;
}

/** The first member among the texts of the page's <code> elements, or null. */
function memberFromCodeTexts(texts) {
  for (const text of texts) {
    const member = memberFromCodeText(text);
    if (member) return member;
  }
  return null;
}

// LinkedIn renders late: the <code> elements may come after document_idle. The page is
// watched for a few seconds, then left alone.
const WATCH_MILLISECONDS = 10_000;
const CHECK_EVERY_MILLISECONDS = 250;

function watchForMember() {
  let sent = false;
  let timer = null;
  let observer = null;

  function stop() {
    observer?.disconnect();
    observer = null;
    if (timer !== null) clearTimeout(timer);
    timer = null;
  }

  function check() {
    timer = null;
    if (sent) return;
    const texts = Array.from(document.querySelectorAll("code"), (code) => code.textContent);
    const member = memberFromCodeTexts(texts);
    if (!member) return;
    sent = true;
    stop();
    const message = { type: "linkedin-member", member_id: member.memberId };
    if (member.profileId) message.profile_id = member.profileId;
    // The worker may be reloading (an extension update): the next page load tells it again.
    Promise.resolve()
      .then(() => chrome.runtime.sendMessage(message))
      .catch(() => {});
  }

  check();
  if (sent || typeof MutationObserver !== "function") return;
  observer = new MutationObserver(() => {
    if (timer === null && !sent) timer = setTimeout(check, CHECK_EVERY_MILLISECONDS);
  });
  observer.observe(document.documentElement, {
    childList: true,
    subtree: true,
    characterData: true,
  });
  setTimeout(() => {
    if (!sent) {
      check();
      stop();
    }
  }, WATCH_MILLISECONDS);
}

if (typeof chrome !== "undefined" && chrome.runtime?.id && typeof document !== "undefined") {
  watchForMember();
}
