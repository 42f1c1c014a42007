// Which origins the extension trusts: the API the cookie may go to, the pages that may hand
// over a session, and what a build may name.

import { test } from "node:test";
import assert from "node:assert/strict";
import { configuredOrigin, isLoopback, originOf, originTrusted } from "../trusted-origins.js";

const RELEASE = {
  apiOrigins: ["https://api.example.com"],
  appOrigins: ["https://app.example.com"],
  development: false,
};
const DEVELOPMENT = {
  apiOrigins: ["http://127.0.0.1:8787"],
  appOrigins: ["http://127.0.0.1:8787"],
  development: true,
};

// The one rule, as the worker applies it: to the origin of the API a session names
// (session.js), and to the origin the browser reports for a page's message (background.js).
const apiTrusted = (apiBase, { apiOrigins, development }) =>
  originTrusted(originOf(apiBase), apiOrigins, development);
const senderTrusted = (sender, { appOrigins, development }) =>
  originTrusted(sender?.origin, appOrigins, development);

test("given a release, the cookie may go to its API origin, under any path", () => {
  assert.equal(apiTrusted("https://api.example.com", RELEASE), true);
  assert.equal(apiTrusted("https://api.example.com/prod", RELEASE), true);
  assert.equal(apiTrusted("https://API.example.com:443/prod/", RELEASE), true, "the same origin, spelt otherwise");
});

test("given a release, every other API is refused: host, port, scheme and look-alikes", () => {
  for (const base of [
    "https://evil.example",
    "https://api.example.com.evil.example",
    "https://evil-api.example.com",
    "https://sub.api.example.com",
    "https://api.example.com:8443",
    "http://api.example.com",
    "http://127.0.0.1:8787",
    "http://localhost:8787",
    "ftp://api.example.com",
    "javascript:alert(1)",
    "",
    null,
    undefined,
    42,
  ]) {
    assert.equal(apiTrusted(base, RELEASE), false, String(base));
  }
});

test("plain http is trusted only by a development build, and only for the origins it names", () => {
  assert.equal(apiTrusted("http://127.0.0.1:8787", DEVELOPMENT), true);
  assert.equal(apiTrusted("http://127.0.0.1:8788", DEVELOPMENT), false, "another port");
  assert.equal(apiTrusted("http://localhost:8787", DEVELOPMENT), false, "another name");
  const mistaken = { ...RELEASE, apiOrigins: ["http://api.example.com"] };
  assert.equal(apiTrusted("http://api.example.com", mistaken), false, "a release never sends over http");
});

test("only the app's pages may hand over a session, by the origin the browser reports", () => {
  const page = (origin, url = `${origin}/accounts`) => ({ origin, url, tab: { id: 1 } });
  assert.equal(senderTrusted(page("https://app.example.com"), RELEASE), true);
  for (const sender of [
    page("https://evil.example"),
    page("https://app.example.com:8443"),
    page("http://app.example.com"),
    page("https://app.example.com.evil.example"),
    page("null"),
    { url: "https://app.example.com/accounts" }, // no origin reported: not taken from the url
    { origin: "chrome-extension://abcdefghijklmnopabcdefghijklmnop" },
    {},
    null,
  ]) {
    assert.equal(senderTrusted(sender, RELEASE), false, JSON.stringify(sender));
  }
  assert.equal(senderTrusted(page("http://127.0.0.1:8787"), DEVELOPMENT), true);
  assert.equal(senderTrusted(page("http://127.0.0.1:9999"), DEVELOPMENT), false, "another local port");
});

test("a release build names https origins of real hosts, nothing else", () => {
  assert.deepEqual(configuredOrigin("https://api.example.com"), { origin: "https://api.example.com" });
  assert.deepEqual(configuredOrigin("https://api.example.com/"), { origin: "https://api.example.com" });
  assert.deepEqual(configuredOrigin("https://api.example.com:8443"), { origin: "https://api.example.com:8443" });
  for (const value of [
    "http://api.example.com",
    "https://*.execute-api.us-east-1.amazonaws.com",
    "*://api.example.com",
    "https://localhost",
    "https://app.localhost",
    "https://127.0.0.1:8787",
    "https://[::1]:8787",
    "https://api.example.com/prod",
    "https://api.example.com/?stage=prod",
    "https://user:pw@api.example.com",
    "api.example.com",
    "",
    42,
  ]) {
    assert.ok(configuredOrigin(value).error, String(value));
  }
});

test("this machine is loopback under every name: IPv4, IPv6, IPv4 written as IPv6, localhost", () => {
  for (const origin of [
    "https://localhost",
    "https://app.localhost:8443",
    "https://127.0.0.1",
    "https://127.1.2.3:8787",
    "https://[::1]",
    "https://0.0.0.0",
    "https://[::ffff:127.0.0.1]",
    "https://[::ffff:127.9.8.7]:8787",
    "https://[0:0:0:0:0:ffff:7f00:1]",
    "https://[::ffff:0.0.0.0]",
  ]) {
    assert.equal(isLoopback(origin), true, origin);
    assert.ok(configuredOrigin(origin).error, `a release refuses ${origin}`);
  }
  for (const origin of ["https://api.example.com", "https://[::ffff:10.0.0.1]", "https://[2001:db8::1]", "https://128.0.0.1"]) {
    assert.equal(isLoopback(origin), false, origin);
  }
});

test("a development build may name plain-http and loopback origins, still without wildcard", () => {
  const development = { development: true };
  assert.deepEqual(configuredOrigin("http://127.0.0.1:8787", development), { origin: "http://127.0.0.1:8787" });
  assert.deepEqual(configuredOrigin("http://localhost:8787", development), { origin: "http://localhost:8787" });
  assert.ok(configuredOrigin("http://*:8787", development).error);
  assert.ok(configuredOrigin("ws://127.0.0.1:8787", development).error);
});

test("an origin is read from http(s) URLs only", () => {
  assert.equal(originOf("https://api.example.com/prod/x?y"), "https://api.example.com");
  assert.equal(originOf("chrome-extension://abc/popup.html"), null);
  assert.equal(originOf("not a url"), null);
});
