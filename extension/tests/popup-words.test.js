// Every state in the popup's words.

import { test } from "node:test";
import assert from "node:assert/strict";
import { expiresIn, stateWords, verificationWords } from "../popup-words.js";

const NOW = new Date("2026-03-01T12:00:00Z");

test("each verification says what the user does", () => {
  const at = "2026-03-01T12:05:00Z";
  assert.equal(verificationWords({ type: "2FA", expires_at: at }, NOW).instruction, "Enter the code from your authenticator app.");
  assert.equal(verificationWords({ type: "OTP", expires_at: at }, NOW).instruction, "Enter the code LinkedIn sent you.");
  const inApp = verificationWords({ type: "IN_APP_VALIDATION", expires_at: at }, NOW);
  assert.equal(inApp.instruction, "Approve the sign-in in your LinkedIn app.");
  assert.deepEqual([inApp.inApp, inApp.needsCode], [true, false]);
  const other = verificationWords({ type: "CAPTCHA", expires_at: at }, NOW);
  assert.match(other.instruction, /CAPTCHA/);
  assert.equal(other.needsCode, false);
  assert.equal(verificationWords({ type: "2FA", expires_at: at }, NOW).needsCode, true);
  assert.equal(verificationWords({ type: "2FA", expires_at: "2026-03-01T11:00:00Z" }, NOW).needsCode, false, "expired");
});

test("expiry reads in minutes", () => {
  assert.equal(expiresIn("2026-03-01T12:05:00Z", NOW), "expires in 5 min");
  assert.equal(expiresIn("2026-03-01T12:04:01Z", NOW), "expires in 5 min");
  assert.equal(expiresIn("2026-03-01T12:00:30Z", NOW), "expires in less than a minute");
  assert.equal(expiresIn("2026-03-01T11:59:00Z", NOW), "expired");
  assert.equal(expiresIn(undefined, NOW), "");
});

test("every state has its key and words; nothing stored yet reads as signed out", () => {
  const cases = [
    [{ state: "connected", member_id: "42" }, "connected", "Connected"],
    [{ state: "syncing" }, "syncing", "Syncing…"],
    [{ state: "needs-verification", checkpoint: { type: "OTP", expires_at: "2026-03-01T12:03:00Z" } }, "needs-verification", "Needs verification"],
    [{ state: "paused", reason: "identity" }, "paused", "Paused"],
    [{ state: "signed-out", reason: "expired" }, "signed-out", "Signed out"],
    [{ state: "no-linkedin", reason: "no-cookie" }, "no-linkedin", "Not signed in to LinkedIn"],
    [{ state: "retrying", retry_at: "2026-03-01T12:04:00Z" }, "retrying", "Waiting to retry"],
    [{ state: "limit", detail: "3 at most" }, "limit", "Limit reached"],
    [{ state: "error", detail: "no" }, "error", "Error"],
    [null, "signed-out", "Signed out"],
  ];
  for (const [state, key, label] of cases) {
    const words = stateWords(state, { now: NOW, appName: "Acme", locale: "en-GB" });
    assert.deepEqual([words.key, words.label], [key, label], JSON.stringify(state));
    assert.ok(words.detail.length > 0);
  }
});

test("the details say what to do", () => {
  const words = (state) => stateWords(state, { now: NOW, appName: "Acme", locale: "en-GB", timeZone: "UTC" }).detail;
  assert.equal(words({ state: "signed-out", reason: "expired" }), "Your session with Acme ended: open the app and sign in again.");
  assert.match(words(null), /Open Acme and sign in/);
  assert.match(words({ state: "needs-verification", checkpoint: { type: "OTP", expires_at: "2026-03-01T12:03:00Z" } }), /sent you\. \(expires in 3 min\)/);
  assert.match(words({ state: "retrying", retry_at: "2026-03-01T12:04:00Z" }), /Next try in 4 min \(at 12:04\)/);
  assert.equal(words({ state: "limit", detail: "3 LinkedIn identities at most" }), "3 LinkedIn identities at most");
  assert.match(words({ state: "paused", reason: "deleted" }), /deleted/);
});
