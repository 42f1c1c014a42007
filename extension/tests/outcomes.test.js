// What each answer of the API makes of the popup's state, as stories.

import { test } from "node:test";
import assert from "node:assert/strict";
import { ApiError } from "../api.js";
import {
  afterCheckpoint,
  afterCheckpointError,
  afterError,
  afterIdentity,
  afterSync,
  periodicSyncWanted,
  verificationExpiry,
} from "../outcomes.js";

const NOW = new Date("2026-03-01T12:00:00Z");
const LATER = new Date("2026-03-01T12:15:00Z");
const ok = (status, body) => ({ status, body });

test("given a first sync, when the API connects an account, then the state is connected with it", () => {
  const state = afterSync(null, ok(201, { status: "connected", account_id: "acc1" }), { memberId: "42", now: NOW });
  assert.equal(state.state, "connected");
  assert.equal(state.account_id, "acc1");
  assert.equal(state.member_id, "42");
  assert.equal(state.last_sync, NOW.toISOString());
});

test("given a connected member, when later syncs are only stored, then it stays connected", () => {
  const connected = afterSync(null, ok(201, { status: "connected", account_id: "acc1" }), { memberId: "42", now: NOW });
  const state = afterSync(connected, ok(200, { status: "stored" }), { memberId: "42", now: LATER });
  assert.equal(state.state, "connected");
  assert.equal(state.account_id, "acc1");
  assert.equal(state.last_sync, LATER.toISOString());
});

test("given a connected member, when another LinkedIn account signs in, then its account is not assumed", () => {
  const connected = afterSync(null, ok(201, { status: "connected", account_id: "acc1" }), { memberId: "42", now: NOW });
  const state = afterSync(connected, ok(200, { status: "stored", connect: "throttled" }), { memberId: "77", now: LATER });
  assert.equal(state.state, "syncing");
  assert.equal(state.account_id, undefined);
  assert.equal(state.connect, "throttled");
  assert.equal(state.member_id, "77");
});

test("when the API asks for a verification, then the state waits for it until it expires", () => {
  const body = { status: "checkpoint", checkpoint: { type: "2FA", expires_at: "2026-03-01T12:05:00Z" }, account_id: "acc9" };
  const state = afterSync(null, ok(202, body), { memberId: "42", now: NOW });
  assert.equal(state.state, "needs-verification");
  assert.deepEqual(state.checkpoint, { type: "2FA", expires_at: "2026-03-01T12:05:00.000Z" });
  assert.equal(verificationExpiry(state).toISOString(), "2026-03-01T12:05:00.000Z");
  assert.equal(periodicSyncWanted(state, NOW), false, "no new sign-in under the user");
  assert.equal(periodicSyncWanted(state, LATER), true, "an expired one is not waited for");
});

test("a verification without expires_at waits the default ten minutes, however often it is asked about", () => {
  const first = afterSync(null, ok(202, { status: "checkpoint", checkpoint: { type: "IN_APP_VALIDATION" } }), { memberId: "42", now: NOW });
  assert.equal(first.checkpoint.expires_at, "2026-03-01T12:10:00.000Z");
  const polled = afterCheckpoint(first, ok(202, { status: "checkpoint", checkpoint: { type: "IN_APP_VALIDATION" } }), {
    memberId: "42",
    now: new Date("2026-03-01T12:04:00Z"),
  });
  assert.equal(polled.state.checkpoint.expires_at, "2026-03-01T12:10:00.000Z");
  assert.equal(polled.message, "");
});

test("when the user disconnected this LinkedIn account, then the state is paused and nothing counts as synced", () => {
  const state = afterSync({ state: "connected", member_id: "42", account_id: "a", last_sync: NOW.toISOString() }, ok(200, { status: "paused", linkedin_member_id: "42" }), {
    memberId: "42",
    now: LATER,
  });
  assert.equal(state.state, "paused");
  assert.equal(state.reason, "identity");
  assert.equal(state.last_sync, NOW.toISOString());
});

test("when the API refuses the token, then the state is signed out", () => {
  const state = afterError(null, new ApiError("signed-out", { status: 401 }), { memberId: "42", now: NOW });
  assert.equal(state.state, "signed-out");
  assert.equal(state.reason, "expired");
});

test("when the API is busy again and again, then each retry waits longer", () => {
  const busy = new ApiError("busy", { status: 503 });
  const first = afterError(null, busy, { memberId: "42", now: NOW, random: 0.5 });
  assert.equal(first.state, "retrying");
  assert.equal(first.attempt, 1);
  assert.equal(first.retry_at, "2026-03-01T12:01:00.000Z");
  assert.equal(periodicSyncWanted(first, NOW), false, "the back-off decides, not the period");
  const second = afterError(first, new ApiError("network"), { memberId: "42", now: NOW, random: 0.5 });
  assert.equal(second.attempt, 2);
  assert.equal(second.retry_at, "2026-03-01T12:02:00.000Z");
  const throttled = afterError(second, new ApiError("busy", { status: 429, retryAfter: "600" }), { memberId: "42", now: NOW, random: 0.5 });
  assert.equal(throttled.retry_at, "2026-03-01T12:10:00.000Z", "Retry-After is honoured");
});

test("the identity limit and other refusals keep the API's words, never a raw body", () => {
  const limit = afterError(null, new ApiError("limit", { status: 409, problem: { type: "urn:unipile-connect:problem:linkedin-identity-limit", detail: "3 LinkedIn identities at most" } }), { memberId: "42", now: NOW });
  assert.deepEqual([limit.state, limit.detail], ["limit", "3 LinkedIn identities at most"]);
  const refused = afterError(null, new ApiError("refused", { status: 422, problem: { detail: "LinkedIn refused the cookie" } }), { memberId: "42", now: NOW });
  assert.deepEqual([refused.state, refused.detail], ["error", "LinkedIn refused the cookie"]);
  const bare = afterError(null, new ApiError("refused", { status: 400, problem: null }), { memberId: "42", now: NOW });
  assert.equal(bare.detail, "");
});

test("a wrong code leaves the verification waiting; an expired one asks for a new sign-in", () => {
  const waiting = { state: "needs-verification", member_id: "42", checkpoint: { type: "OTP", expires_at: "2026-03-01T12:05:00Z" } };
  const wrong = afterCheckpointError(waiting, new ApiError("refused", { status: 422 }), { memberId: "42", now: NOW });
  assert.equal(wrong.state, waiting);
  assert.match(wrong.message, /try again/);
  const gone = afterCheckpointError(waiting, new ApiError("refused", { status: 410 }), { memberId: "42", now: NOW });
  assert.deepEqual([gone.state.state, gone.state.reason], ["error", "verification-expired"]);
  const none = afterCheckpointError(waiting, new ApiError("refused", { status: 409 }), { memberId: "42", now: NOW });
  assert.equal(none.syncAgain, true);
});

test("a solved verification connects", () => {
  const waiting = { state: "needs-verification", member_id: "42", checkpoint: { type: "2FA", expires_at: "2026-03-01T12:05:00Z" } };
  const { state } = afterCheckpoint(waiting, ok(200, { status: "connected", account_id: "acc1" }), { memberId: "42", now: NOW });
  assert.deepEqual([state.state, state.account_id, state.checkpoint], ["connected", "acc1", undefined]);
});

test("the identities list names the account a stored sync did not", () => {
  const syncing = { state: "syncing", member_id: "42" };
  const state = afterIdentity(syncing, { linkedin_member_id: "42", paused: false, account_id: "acc1" }, { now: NOW });
  assert.deepEqual([state.state, state.account_id], ["connected", "acc1"]);
  assert.equal(afterIdentity(syncing, { linkedin_member_id: "77", paused: false, account_id: "x" }), syncing);
  assert.equal(afterIdentity(syncing, null), syncing);
  const pausedElsewhere = afterIdentity({ state: "connected", member_id: "42" }, { linkedin_member_id: "42", paused: true });
  assert.equal(pausedElsewhere.state, "paused");
});

test("after the user deleted their cookies, only they turn syncing back on", () => {
  assert.equal(periodicSyncWanted({ state: "paused", reason: "deleted" }, NOW), false);
  assert.equal(periodicSyncWanted({ state: "paused", reason: "identity" }, NOW), true);
  assert.equal(periodicSyncWanted(null, NOW), true);
});
