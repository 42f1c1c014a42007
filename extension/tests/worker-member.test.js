// The service worker and the member LinkedIn shows, as stories: what the content script
// reports becomes the sync's body, the profile id beside the member id, never another
// member's. The worker runs as the browser loads it, on a fake browser, with the release
// build's origins (API https://api.example.com).

import { test } from "node:test";
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { eventually, installFakeChrome } from "./fake-chrome.js";
import { readMember, rememberMember } from "../state.js";

const manifest = JSON.parse(readFileSync(new URL("../manifest.json", import.meta.url), "utf8"));
const browser = installFakeChrome({ manifest });
await import("../background.js");

const TOKEN = "eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiJkZW1vIn0.c2lnbmF0dXJl";
const linkedinTab = { id: globalThis.chrome.runtime.id, tab: { id: 3 }, url: "https://www.linkedin.com/feed/" };

/** The content script's report, as the worker receives it; the sync it starts, once sent. */
async function linkedinShows(message) {
  const before = browser.requests.length;
  browser.answers.push({ status: 200, body: { status: "stored", account_id: "acc1" } });
  const [listener] = globalThis.chrome.runtime.onMessage.listeners;
  listener({ type: "linkedin-member", ...message }, linkedinTab, () => {});
  await eventually(() => browser.requests.length > before, "a sync");
  return browser.requests.at(-1).body;
}

async function syncNow() {
  const before = browser.requests.length;
  browser.answers.push({ status: 200, body: { status: "stored", account_id: "acc1" } });
  const [listener] = globalThis.chrome.runtime.onMessage.listeners;
  const popup = { id: globalThis.chrome.runtime.id, url: globalThis.chrome.runtime.getURL("popup.html") };
  await new Promise((resolve) => listener({ type: "sync-now" }, popup, resolve));
  assert.equal(browser.requests.length, before + 1, "one sync");
  return browser.requests.at(-1).body;
}

browser.cookies.set("li_at", "AQEDAR-secret-session");
await browser.session.set({ session: { token: TOKEN, apiBase: "https://api.example.com" } });

test("given a session, when LinkedIn shows the member and their profile, the sync sends both, the bare id", async () => {
  const body = await linkedinShows({ member_id: "111", profile_id: "ACoAABx9-YzQ_111" });
  assert.equal(body.linkedin_member_id, "111");
  assert.equal(body.linkedin_profile_id, "ACoAABx9-YzQ_111");
});

test("when a later page of the same member shows no profile, the known one still goes along", async () => {
  const [listener] = globalThis.chrome.runtime.onMessage.listeners;
  listener({ type: "linkedin-member", member_id: "111" }, linkedinTab, () => {});
  const body = await syncNow();
  assert.equal(body.linkedin_profile_id, "ACoAABx9-YzQ_111");
});

test("when another member signs in without a profile on the page, no profile id is sent, least of all the previous member's", async () => {
  const body = await linkedinShows({ member_id: "222" });
  assert.equal(body.linkedin_member_id, "222");
  assert.equal("linkedin_profile_id" in body, false);
});

test("a profile id the page gives malformed is not sent; the member id is", async () => {
  const body = await linkedinShows({ member_id: "333", profile_id: "urn:li:fsd_profile:ACoAAB333" });
  assert.equal(body.linkedin_member_id, "333");
  assert.equal("linkedin_profile_id" in body, false);
});

test("the member and their profile id are read together, so a profile id is never another member's", async () => {
  await rememberMember({ memberId: "444", profileId: "ACoAAB444" });
  assert.deepEqual(await readMember(), { memberId: "444", profileId: "ACoAAB444" });
  await rememberMember({ memberId: "555" });
  assert.deepEqual(await readMember(), { memberId: "555", profileId: null }, "a member just replaced sends none");
  // A profile id beside no member (storage edited by hand, or an older version's) names no one.
  await browser.local.set({ profile_id: "ACoAAB-stray" });
  await browser.local.remove("member_id");
  assert.deepEqual(await readMember(), { memberId: null, profileId: null });
});
