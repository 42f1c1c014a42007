// The service worker's side of the handshake, as stories: which pages may hand it a session,
// and where the LinkedIn cookie may then go. The worker runs as the browser loads it
// (background.js and every module it imports), on a fake browser, with the origins of the
// release build in this folder (origins.js: API https://api.example.com, app
// https://app.example.com).

import { test } from "node:test";
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { eventually, installFakeChrome } from "./fake-chrome.js";

const manifest = JSON.parse(readFileSync(new URL("../manifest.json", import.meta.url), "utf8"));
const browser = installFakeChrome({ manifest });
await import("../background.js");

const TOKEN = "eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiJkZW1vIn0.c2lnbmF0dXJl";
const APP = "https://app.example.com";
const page = (origin) => ({ origin, url: `${origin}/accounts`, tab: { id: 7 }, frameId: 0 });
const offer = (apiBase) => ({ type: "unipile-connect/session", token: TOKEN, api_base: apiBase });
const settle = async () => {
  for (let turn = 0; turn < 50; turn += 1) await new Promise((resolve) => setImmediate(resolve));
};

// Signed in to LinkedIn in this browser: a cookie to hand over, a member the page showed.
browser.cookies.set("li_at", "AQEDAR-secret-session");
await browser.local.set({ member_id: "42" });

test("given a page on another origin, when it offers a session naming its own API, then it is refused and nothing is sent", async () => {
  for (const origin of [
    "https://evil.example",
    "https://app.example.com:8443",
    "http://app.example.com",
    "https://app.example.com.evil.example",
    "http://127.0.0.1:8787",
  ]) {
    const answer = await browser.fromPage(offer(origin), page(origin));
    assert.equal(answer.ok, false, origin);
    assert.equal(answer.reason, "origin-not-permitted", origin);
  }
  // A sender the browser reports no origin for is not trusted on its URL's word.
  const { origin: _, ...noOrigin } = page(APP);
  const answer = await browser.fromPage(offer("https://api.example.com"), noOrigin);
  assert.deepEqual([answer.ok, answer.reason], [false, "origin-not-permitted"]);
  await settle();
  assert.deepEqual(await browser.session.get("session"), {}, "no session kept");
  assert.deepEqual(browser.requests, [], "no request at all");
});

test("given the app's own page, when it names an API this build does not trust, then it is refused and nothing is sent", async () => {
  for (const apiBase of [
    "https://evil.example",
    "https://api.example.com.evil.example",
    "https://api.example.com:8443",
    "http://api.example.com",
    "http://127.0.0.1:9999",
  ]) {
    const answer = await browser.fromPage(offer(apiBase), page(APP));
    assert.deepEqual([answer.ok, answer.reason], [false, "api-not-permitted"], apiBase);
  }
  await settle();
  assert.deepEqual(await browser.session.get("session"), {});
  assert.deepEqual(browser.requests, []);
});

test("given the app's own page naming the configured API, the session is kept and the cookie goes there", async () => {
  browser.answers.push({ status: 201, body: { status: "connected", account_id: "acc1" } });
  const answer = await browser.fromPage(offer("https://api.example.com/prod"), page(APP));
  assert.equal(answer.ok, true);
  await eventually(() => browser.requests.length === 1, "the first sync");
  const [sync] = browser.requests;
  assert.equal(sync.url, "https://api.example.com/prod/extension/cookies");
  assert.equal(sync.method, "POST");
  assert.equal(sync.body.li_at, "AQEDAR-secret-session");
  assert.equal(sync.body.linkedin_member_id, "42");
});

test("given a session held, another origin can neither replace it nor end it, and the next sync still goes to the configured API", async () => {
  const evil = page("https://evil.example");
  assert.equal((await browser.fromPage(offer("https://evil.example"), evil)).reason, "origin-not-permitted");
  assert.equal((await browser.fromPage({ type: "unipile-connect/sign-out" }, evil)).reason, "origin-not-permitted");
  assert.equal((await browser.session.get("session")).session.apiBase, "https://api.example.com/prod");

  browser.answers.push({ status: 200, body: { status: "stored", account_id: "acc1" } });
  const [popupListener] = globalThis.chrome.runtime.onMessage.listeners;
  const popup = { id: globalThis.chrome.runtime.id, url: globalThis.chrome.runtime.getURL("popup.html") };
  await new Promise((resolve) => popupListener({ type: "sync-now" }, popup, resolve));
  assert.deepEqual(
    browser.requests.map((request) => request.url),
    ["https://api.example.com/prod/extension/cookies", "https://api.example.com/prod/extension/cookies"],
  );
});

test("a session whose API the build does not trust is no session: nothing is sent with it", async () => {
  // What an update to other origins leaves behind, had the browser kept the session.
  await browser.session.set({ session: { token: TOKEN, apiBase: "https://evil.example" } });
  const sent = browser.requests.length;
  const [popupListener] = globalThis.chrome.runtime.onMessage.listeners;
  const popup = { id: globalThis.chrome.runtime.id, url: globalThis.chrome.runtime.getURL("popup.html") };
  await new Promise((resolve) => popupListener({ type: "sync-now" }, popup, resolve));
  assert.equal(browser.requests.length, sent, "no request");
  assert.equal((await browser.local.get("state")).state.state, "signed-out");
});
