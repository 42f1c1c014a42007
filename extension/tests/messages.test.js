// What the worker accepts from the app's page, the content script and the popup.

import { test } from "node:test";
import assert from "node:assert/strict";
import { apiBaseOf, readAppMessage, readMemberMessage, readPopupMessage } from "../messages.js";

const TOKEN = "eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiJkZW1vIn0.c2lnbmF0dXJl";

test("a session with a JWT and an http(s) API base is taken, the base without its slash", () => {
  assert.deepEqual(
    readAppMessage({ type: "unipile-connect/session", token: TOKEN, api_base: "https://abc.execute-api.us-east-1.amazonaws.com/" }),
    { kind: "session", token: TOKEN, apiBase: "https://abc.execute-api.us-east-1.amazonaws.com" },
  );
  assert.equal(
    readAppMessage({ type: "unipile-connect/session", token: TOKEN, api_base: "http://127.0.0.1:8080" }).apiBase,
    "http://127.0.0.1:8080",
  );
});

test("a session whose token is not shaped like a JWT is refused", () => {
  for (const token of ["", "abc", "a.b", "a.b.c.d", "a b.c.d", 42, null, undefined, "x".repeat(20000)]) {
    const read = readAppMessage({ type: "unipile-connect/session", token, api_base: "http://127.0.0.1:8080" });
    assert.deepEqual(read, { kind: "invalid", reason: "bad-token" }, String(token).slice(0, 20));
  }
});

test("a session whose API base is not a plain http(s) URL is refused", () => {
  for (const base of ["", "ftp://example.com", "javascript:alert(1)", "https://user:pw@example.com", "https://example.com/?a=1", "https://example.com/#x", "not a url", 1]) {
    const read = readAppMessage({ type: "unipile-connect/session", token: TOKEN, api_base: base });
    assert.deepEqual(read, { kind: "invalid", reason: "bad-api-base" }, String(base));
  }
  assert.equal(apiBaseOf("https://api.example.com/prod/"), "https://api.example.com/prod");
});

test("sign-out needs nothing else; anything unknown is refused", () => {
  assert.deepEqual(readAppMessage({ type: "unipile-connect/sign-out" }), { kind: "sign-out" });
  assert.equal(readAppMessage({ type: "other" }).kind, "invalid");
  assert.equal(readAppMessage("unipile-connect/sign-out").kind, "invalid");
  assert.equal(readAppMessage(null).kind, "invalid");
});

test("the content script's member id must be 1 to 20 digits", () => {
  assert.deepEqual(readMemberMessage({ type: "linkedin-member", member_id: "12345" }), {
    memberId: "12345",
    profileId: null,
  });
  assert.equal(readMemberMessage({ type: "linkedin-member", member_id: 12345 }), null);
  assert.equal(readMemberMessage({ type: "linkedin-member", member_id: "1".repeat(21) }), null);
  assert.equal(readMemberMessage({ type: "linkedin-member", member_id: "12 45" }), null);
  assert.equal(readMemberMessage({ type: "other", member_id: "12345" }), null);
});

test("the content script's profile id goes along when it is one as Unipile shows it, else the member id goes alone", () => {
  const read = (profile_id) => readMemberMessage({ type: "linkedin-member", member_id: "42", profile_id });
  assert.deepEqual(read("ACoAAB1x-y_Z9"), { memberId: "42", profileId: "ACoAAB1x-y_Z9" });
  for (const bad of ["urn:li:fsd_profile:ACoAAB1", "ACoA AB", "ACoAAB<script>", "", "x".repeat(129), 42, null, undefined]) {
    assert.deepEqual(read(bad), { memberId: "42", profileId: null }, String(bad));
  }
  assert.equal(readMemberMessage({ type: "linkedin-member", member_id: "x", profile_id: "ACoAAB1" }), null);
});

test("the popup's commands are read, a code without its spaces", () => {
  assert.deepEqual(readPopupMessage({ type: "sync-now" }), { command: "sync-now" });
  assert.deepEqual(readPopupMessage({ type: "solve-checkpoint", code: " 123 456 " }), {
    command: "solve-checkpoint",
    code: "123456",
  });
  assert.deepEqual(readPopupMessage({ type: "solve-checkpoint" }), { command: "solve-checkpoint" });
  assert.equal(readPopupMessage({ type: "solve-checkpoint", code: "   " }), null);
  assert.equal(readPopupMessage({ type: "solve-checkpoint", code: 123456 }), null);
  assert.equal(readPopupMessage({ type: "solve-checkpoint", code: "1".repeat(33) }), null);
  assert.equal(readPopupMessage({ type: "steal-token" }), null);
});
