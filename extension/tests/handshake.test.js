// The app page's side of the handshake (web/extension-handshake.js), with a fake
// chrome.runtime: it resolves in every case, and never throws.

import { test, afterEach } from "node:test";
import assert from "node:assert/strict";
import { endSession, offerSession } from "../../web/extension-handshake.js";

afterEach(() => {
  delete globalThis.chrome;
});

function fakeRuntime(answer) {
  const sent = [];
  const runtime = {
    lastError: undefined,
    sendMessage(id, message, callback) {
      sent.push({ id, message });
      setTimeout(() => {
        if (answer === "missing") {
          runtime.lastError = { message: "Could not establish connection. Receiving end does not exist." };
          callback(undefined);
          runtime.lastError = undefined;
        } else {
          callback(answer);
        }
      }, 0);
      if (answer === "throws-now") throw new TypeError("Invalid extension id");
    },
  };
  globalThis.chrome = { runtime };
  return sent;
}

const offer = () => offerSession({ extensionId: "abc", apiBase: "http://127.0.0.1:8080", token: "a.b.c" });

test("given the extension takes the session, the page learns its version", async () => {
  const sent = fakeRuntime({ ok: true, version: "0.1.0" });
  assert.deepEqual(await offer(), { connected: true, version: "0.1.0" });
  assert.deepEqual(sent, [
    { id: "abc", message: { type: "unipile-connect/session", token: "a.b.c", api_base: "http://127.0.0.1:8080" } },
  ]);
});

test("given no extension is installed, the page is told so and goes on", async () => {
  fakeRuntime("missing");
  assert.deepEqual(await offer(), { connected: false, reason: "not-installed" });
  fakeRuntime("throws-now");
  assert.deepEqual(await offer(), { connected: false, reason: "not-installed" });
});

test("given a page no extension lists, chrome.runtime is absent and nothing is sent", async () => {
  assert.deepEqual(await offer(), { connected: false, reason: "unavailable" });
  globalThis.chrome = {};
  assert.deepEqual(await offer(), { connected: false, reason: "unavailable" });
});

test("given no extension id, nothing is sent", async () => {
  const sent = fakeRuntime({ ok: true });
  assert.deepEqual(await offerSession({ extensionId: "", apiBase: "x", token: "a.b.c" }), {
    connected: false,
    reason: "no-extension-id",
  });
  assert.equal(sent.length, 0);
});

test("the extension's refusal reason reaches the page", async () => {
  fakeRuntime({ ok: false, reason: "api-not-permitted", version: "0.1.0" });
  assert.deepEqual(await offer(), { connected: false, reason: "api-not-permitted" });
});

test("sign-out sends its message and resolves either way", async () => {
  const sent = fakeRuntime({ ok: true, version: "0.1.0" });
  assert.deepEqual(await endSession({ extensionId: "abc" }), { ended: true });
  assert.deepEqual(sent[0].message, { type: "unipile-connect/sign-out" });
  fakeRuntime("missing");
  assert.deepEqual(await endSession({ extensionId: "abc" }), { ended: false, reason: "not-installed" });
});
