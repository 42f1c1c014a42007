// The back-off's schedule, without a browser or a clock.

import { test } from "node:test";
import assert from "node:assert/strict";
import { backoffMinutes, nextRetry, retryAfterMinutes } from "../backoff.js";

const MIDDLE = 0.5; // no jitter: the random draw sits in the middle of the range

test("retries wait 1, 2, 4 ... minutes and never more than an hour", () => {
  const waits = [1, 2, 3, 4, 5, 6, 7, 8, 50].map((attempt) => backoffMinutes(attempt, { random: MIDDLE }));
  assert.deepEqual(waits, [1, 2, 4, 8, 16, 32, 60, 60, 60]);
});

test("jitter moves a wait by at most a fifth either way, and the cap still holds", () => {
  assert.equal(backoffMinutes(3, { random: 0 }), 4 * 0.8);
  assert.ok(Math.abs(backoffMinutes(3, { random: 0.999999 }) - 4 * 1.2) < 1e-4);
  assert.equal(backoffMinutes(7, { random: 0.999999 }), 60);
  assert.equal(backoffMinutes(7, { random: 0 }), 48);
});

test("no wait is shorter than the 30 seconds an alarm allows", () => {
  assert.equal(backoffMinutes(1, { random: 0, first: 0.1 }), 0.5);
  assert.equal(backoffMinutes(0, { random: 0.5 }), 1);
});

test("Retry-After is read as seconds or as an HTTP date", () => {
  const now = new Date("2026-03-01T12:00:00Z");
  assert.equal(retryAfterMinutes("120", now), 2);
  assert.equal(retryAfterMinutes("Sun, 01 Mar 2026 12:10:00 GMT", now), 10);
  assert.equal(retryAfterMinutes("5", now), 0.5, "30 seconds at least");
  assert.equal(retryAfterMinutes("999999", now), 24 * 60, "a day at most");
  assert.equal(retryAfterMinutes("soon", now), null);
  assert.equal(retryAfterMinutes(null, now), null);
  assert.equal(retryAfterMinutes("", now), null);
});

test("given a Retry-After, the next retry follows it rather than the back-off", () => {
  const now = new Date("2026-03-01T12:00:00Z");
  const retry = nextRetry({ attempt: 6, retryAfter: "180", now, random: MIDDLE });
  assert.equal(retry.minutes, 3);
  assert.equal(retry.at.toISOString(), "2026-03-01T12:03:00.000Z");
});

test("without a Retry-After, the next retry is the back-off's", () => {
  const now = new Date("2026-03-01T12:00:00Z");
  const retry = nextRetry({ attempt: 3, retryAfter: null, now, random: MIDDLE });
  assert.equal(retry.at.toISOString(), "2026-03-01T12:04:00.000Z");
});
