// The calls the worker makes, against a fake fetch: their bodies, and what failures become.

import { test } from "node:test";
import assert from "node:assert/strict";
import { createServer } from "node:http";
import { ApiError, ExtensionApi, kindOf } from "../api.js";

function fakeFetch(answers) {
  const calls = [];
  const fetch = async (url, init) => {
    calls.push({ url, init, body: init.body === undefined ? undefined : JSON.parse(init.body) });
    const next = answers.shift();
    if (next instanceof Error) throw next;
    const { status, body = null, headers = {} } = next;
    return new Response(body === null ? null : JSON.stringify(body), {
      status,
      headers: { "content-type": status >= 400 ? "application/problem+json" : "application/json", ...headers },
    });
  };
  return { fetch, calls };
}

test("a sync posts exactly the cookie, the user agent and the member id, with the bearer token", async () => {
  const { fetch, calls } = fakeFetch([{ status: 201, body: { status: "connected", account_id: "acc1" } }]);
  const api = new ExtensionApi({ base: "http://127.0.0.1:8080/", token: "t.o.k", fetch });
  const answer = await api.syncCookies({ liAt: "AQED", liA: null, userAgent: "UA/1", memberId: "42" });
  assert.deepEqual(answer, { status: 201, body: { status: "connected", account_id: "acc1" } });
  assert.equal(calls[0].url, "http://127.0.0.1:8080/extension/cookies");
  assert.equal(calls[0].init.method, "POST");
  assert.equal(calls[0].init.headers.authorization, "Bearer t.o.k");
  assert.equal(calls[0].init.headers["content-type"], "application/json");
  assert.equal(calls[0].init.credentials, "omit");
  assert.equal(calls[0].init.redirect, "error");
  assert.deepEqual(calls[0].body, { li_at: "AQED", user_agent: "UA/1", linkedin_member_id: "42" });
});

/** An HTTP server on a free local port: its origin, what it received, and how to stop it. */
async function server(answer) {
  const received = [];
  const listening = createServer((request, response) => {
    let body = "";
    request.on("data", (chunk) => {
      body += chunk;
    });
    request.on("end", () => {
      received.push({ method: request.method, url: request.url, body });
      answer(response);
    });
  });
  await new Promise((resolve) => listening.listen(0, "127.0.0.1", resolve));
  const origin = `http://127.0.0.1:${listening.address().port}`;
  const stop = () => new Promise((resolve) => listening.close(resolve));
  return { origin, received, stop };
}

test("given an API that answers a sync with a redirect, the cookie is not sent on: the call fails", async () => {
  const elsewhere = await server((response) => response.writeHead(200).end("{}"));
  const api = await server((response) =>
    response.writeHead(307, { location: `${elsewhere.origin}/extension/cookies` }).end(),
  );
  try {
    const client = new ExtensionApi({ base: api.origin, token: "t.o.k" });
    for (const call of [
      () => client.syncCookies({ liAt: "AQED-secret", userAgent: "UA/1", memberId: "42" }),
      () => client.listIdentities(),
    ]) {
      await assert.rejects(call(), (error) => error instanceof ApiError && error.kind === "network");
    }
    assert.equal(api.received.length, 2, "the API was asked");
    assert.equal(api.received[0].method, "POST");
    assert.deepEqual(elsewhere.received, [], "nothing followed the redirect");
  } finally {
    await Promise.all([api.stop(), elsewhere.stop()]);
  }
});

test("the member's profile id goes along as Unipile shows it, and only then", async () => {
  const { fetch, calls } = fakeFetch(Array.from({ length: 7 }, () => ({ status: 200, body: { status: "stored" } })));
  const api = new ExtensionApi({ base: "https://api.example.com", token: "t.o.k", fetch });
  await api.syncCookies({ liAt: "AQED", userAgent: "UA/1", memberId: "42", profileId: "ACoAAB1x-y_Z9" });
  assert.deepEqual(calls[0].body, {
    li_at: "AQED",
    user_agent: "UA/1",
    linkedin_member_id: "42",
    linkedin_profile_id: "ACoAAB1x-y_Z9",
  });
  for (const profileId of [undefined, null, "", "urn:li:fsd_profile:ACoAAB1", "ACoA AB", "x".repeat(129)]) {
    await api.syncCookies({ liAt: "AQED", userAgent: "UA/1", memberId: "42", profileId });
    assert.equal("linkedin_profile_id" in calls.at(-1).body, false, String(profileId));
  }
});

test("li_a goes along when the browser has it", async () => {
  const { fetch, calls } = fakeFetch([{ status: 200, body: { status: "stored" } }]);
  const api = new ExtensionApi({ base: "https://api.example.com", token: "t.o.k", fetch });
  await api.syncCookies({ liAt: "AQED", liA: "AQEF", userAgent: "UA/1", memberId: "42" });
  assert.deepEqual(Object.keys(calls[0].body), ["li_at", "li_a", "user_agent", "linkedin_member_id"]);
});

test("an approval in the LinkedIn app is asked about without a code", async () => {
  const { fetch, calls } = fakeFetch([
    { status: 202, body: { status: "checkpoint", checkpoint: { type: "IN_APP_VALIDATION" } } },
    { status: 200, body: { status: "connected", account_id: "acc1" } },
  ]);
  const api = new ExtensionApi({ base: "https://api.example.com", token: "t.o.k", fetch });
  await api.solveCheckpoint({ memberId: "42", code: undefined });
  await api.solveCheckpoint({ memberId: "42", code: "123456" });
  assert.deepEqual(calls[0].body, { linkedin_member_id: "42" });
  assert.deepEqual(calls[1].body, { linkedin_member_id: "42", code: "123456" });
  assert.equal(calls[1].url, "https://api.example.com/extension/checkpoint");
});

test("pausing, listing and deleting call their routes", async () => {
  const { fetch, calls } = fakeFetch([
    { status: 200, body: { linkedin_member_id: "42", paused: false } },
    { status: 200, body: { identities: [{ linkedin_member_id: "42", paused: false }] } },
    { status: 200, body: { deleted: 2 } },
  ]);
  const api = new ExtensionApi({ base: "https://api.example.com", token: "t.o.k", fetch });
  await api.setPaused("42", false);
  assert.deepEqual(await api.listIdentities(), [{ linkedin_member_id: "42", paused: false }]);
  assert.equal(await api.deleteCookies(), 2);
  assert.deepEqual(
    calls.map((c) => `${c.init.method} ${c.url}`),
    [
      "PUT https://api.example.com/extension/identities/42",
      "GET https://api.example.com/extension/identities",
      "DELETE https://api.example.com/extension/cookies",
    ],
  );
  assert.deepEqual(calls[0].body, { paused: false });
});

test("failures become kinds: 401 ends the session, 429 and 5xx are worth a retry", async () => {
  assert.equal(kindOf(401, null), "signed-out");
  assert.equal(kindOf(429, null), "busy");
  assert.equal(kindOf(503, null), "busy");
  assert.equal(kindOf(500, null), "server");
  assert.equal(kindOf(409, { type: "urn:unipile-connect:problem:linkedin-identity-limit" }), "limit");
  assert.equal(kindOf(409, { type: "urn:unipile-connect:problem:conflict" }), "refused");
  assert.equal(kindOf(422, null), "refused");
});

test("a problem's detail and Retry-After reach the error; an unreachable API is a network error", async () => {
  const { fetch } = fakeFetch([
    { status: 429, body: { type: "about:blank", title: "Too many", status: 429, detail: "slow down" }, headers: { "retry-after": "30" } },
    new TypeError("Failed to fetch"),
    { status: 502, body: null },
  ]);
  const api = new ExtensionApi({ base: "https://api.example.com", token: "t.o.k", fetch });
  const sync = () => api.syncCookies({ liAt: "secret-cookie", userAgent: "UA", memberId: "42" });
  await assert.rejects(sync(), (error) => {
    assert.ok(error instanceof ApiError);
    assert.deepEqual([error.kind, error.status, error.detail, error.retryAfter], ["busy", 429, "slow down", "30"]);
    assert.ok(error.isTransient);
    return true;
  });
  await assert.rejects(sync(), (error) => error.kind === "network" && error.isTransient);
  await assert.rejects(sync(), (error) => {
    assert.equal(error.kind, "busy");
    assert.equal(error.detail, "", "no problem body: no words invented");
    assert.ok(!JSON.stringify(error).includes("secret-cookie"));
    assert.ok(!String(error.message).includes("secret-cookie"));
    return true;
  });
});
