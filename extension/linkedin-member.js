// Content script on linkedin.com (a classic script: content scripts cannot be modules without
// exposing a file to the page). It learns who is signed in to LinkedIn in this browser and
// tells the service worker, so that the cookie is handed over under the right member id.
//
// LinkedIn pages carry their data as JSON in <code> elements; the one shaped
// {"data": {"plainId": ...}} names the signed-in member. This script reads nothing else: no
// cookie (the worker reads those through the cookies permission), no message, no profile.
//
// The two functions below are declared at the top level so that tests can load the file and
// call them; the content script's world is the extension's own, not the page's.

/** The member id in one <code> element's text, or null: 1 to 20 digits, as a string. */
function memberIdFromCodeText(text) {
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
  // A number past 2^53 has already lost digits in JSON.parse: it would name someone else.
  if (typeof plainId === "number") {
    return Number.isSafeInteger(plainId) && plainId > 0 ? String(plainId) : null;
  }
  if (typeof plainId === "string" && /^\d{1,20}$/.test(plainId)) return plainId;
  return null;
}

/** The first member id among the texts of the page's <code> elements, or null. */
function memberIdFromCodeTexts(texts) {
  for (const text of texts) {
    const memberId = memberIdFromCodeText(text);
    if (memberId) return memberId;
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
    const memberId = memberIdFromCodeTexts(texts);
    if (!memberId) return;
    sent = true;
    stop();
    // The worker may be reloading (an extension update): the next page load tells it again.
    Promise.resolve()
      .then(() => chrome.runtime.sendMessage({ type: "linkedin-member", member_id: memberId }))
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
