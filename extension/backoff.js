// When to try again after the API was busy (429), failing (5xx) or out of reach: pure
// arithmetic, so that the schedule can be tested without a browser or a clock.

import { RETRY_FIRST_MINUTES, RETRY_JITTER, RETRY_MAX_MINUTES } from "./config.js";

// chrome.alarms does not fire sooner than 30 seconds in a packed extension.
const SHORTEST_MINUTES = 0.5;
// A Retry-After beyond a day is a server's mistake, not a plan worth following.
const LONGEST_RETRY_AFTER_MINUTES = 24 * 60;

/**
 * Minutes to wait before retry number `attempt` (1 for the first): 1, 2, 4, ... up to the
 * cap, each moved by the jitter. `random` is a number in [0, 1).
 */
export function backoffMinutes(
  attempt,
  {
    random = Math.random(),
    first = RETRY_FIRST_MINUTES,
    max = RETRY_MAX_MINUTES,
    jitter = RETRY_JITTER,
  } = {},
) {
  const exponent = Math.max(0, Math.floor(attempt) - 1);
  // 2 ** 30 minutes is already far past any cap: stop doubling before numbers get silly.
  const base = Math.min(max, first * 2 ** Math.min(exponent, 30));
  const moved = base * (1 - jitter + 2 * jitter * random);
  return Math.min(max, Math.max(SHORTEST_MINUTES, moved));
}

/**
 * A Retry-After header in minutes: delay-seconds ("120") or an HTTP date; null when absent
 * or unreadable.
 */
export function retryAfterMinutes(header, now = new Date()) {
  if (typeof header !== "string" || header.trim() === "") return null;
  const value = header.trim();
  let minutes;
  if (/^\d+$/.test(value)) {
    minutes = Number(value) / 60;
  } else {
    const date = Date.parse(value);
    if (Number.isNaN(date)) return null;
    minutes = (date - now.getTime()) / 60_000;
  }
  return Math.min(LONGEST_RETRY_AFTER_MINUTES, Math.max(SHORTEST_MINUTES, minutes));
}

/**
 * The next retry: `{attempt, minutes, at}` where `at` is a Date. The server's Retry-After wins
 * over the back-off when it gives one: it knows when it will be ready.
 */
export function nextRetry({
  attempt,
  retryAfter = null,
  now = new Date(),
  random = Math.random(),
}) {
  const fromServer = retryAfterMinutes(retryAfter, now);
  const minutes = fromServer ?? backoffMinutes(attempt, { random });
  return { attempt, minutes, at: new Date(now.getTime() + minutes * 60_000) };
}
