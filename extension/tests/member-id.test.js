// The content script on LinkedIn-shaped pages: which member id it finds and tells the worker.
// The script is a classic script, loaded here into a context of its own with a fake page.

import { test } from "node:test";
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import vm from "node:vm";
import { MEMBER_ID, PROFILE_ID } from "../messages.js";

const source = readFileSync(new URL("../linkedin-member.js", import.meta.url), "utf8");

/** Runs the content script against <code> texts; returns its functions and what it sent. */
function load({ codes = [], chrome } = {}) {
  const sent = [];
  const observers = [];
  const page = { codes: [...codes] };
  const context = {
    document: {
      documentElement: {},
      querySelectorAll: (selector) =>
        selector === "code" ? page.codes.map((text) => ({ textContent: text })) : [],
    },
    MutationObserver: class {
      constructor(callback) {
        this.callback = callback;
        this.connected = false;
        observers.push(this);
      }
      observe() {
        this.connected = true;
      }
      disconnect() {
        this.connected = false;
      }
    },
    chrome:
      chrome === null
        ? undefined
        : { runtime: { id: "ext", sendMessage: async (message) => sent.push(JSON.parse(JSON.stringify(message))) } },
    setTimeout: (callback) => {
      page.pending = callback;
      return 1;
    },
    clearTimeout: () => {},
    Promise,
  };
  vm.createContext(context);
  vm.runInContext(source, context);
  return { context, sent, observers, page };
}

const settle = () => new Promise((resolve) => setImmediate(resolve));

test("the script's member id and profile id rules are the service worker's (messages.js)", () => {
  const { context } = load({ chrome: null });
  // Its top-level constants, as the script declares them.
  const own = vm.runInContext("({ member: MEMBER_ID, profile: PROFILE_ID })", context);
  assert.equal(own.member.source, MEMBER_ID.source);
  assert.equal(own.member.flags, MEMBER_ID.flags);
  assert.equal(own.profile.source, PROFILE_ID.source);
  assert.equal(own.profile.flags, PROFILE_ID.flags);
});

test("a numeric plainId is the member id, as a string", () => {
  const { context } = load({ chrome: null });
  assert.equal(context.memberFromCodeText('{"data":{"plainId":123456789}}')?.memberId, "123456789");
});

test("a string plainId of digits is taken as it is", () => {
  const { context } = load({ chrome: null });
  assert.equal(context.memberFromCodeText('{"data":{"plainId":"00987"}}')?.memberId, "00987");
});

test("what is not 1 to 20 digits is refused", () => {
  const { context } = load({ chrome: null });
  for (const text of [
    '{"data":{"plainId":"12a"}}',
    '{"data":{"plainId":""}}',
    '{"data":{"plainId":"123456789012345678901"}}',
    '{"data":{"plainId":-5}}',
    '{"data":{"plainId":1.5}}',
    '{"data":{"plainId":12345678901234567890}}', // beyond 2^53: digits already lost
    '{"data":{"plainId":null}}',
    '{"data":{"plainId":["1"]}}',
  ]) {
    assert.equal(context.memberFromCodeText(text), null, text);
  }
});

test("bad JSON and other <code> elements are passed over for the first that names a member", () => {
  const { context } = load({ chrome: null });
  const texts = [
    "not json at all",
    '{"data":{"plainId": broken',
    '{"included":[{"firstName":"Ada"}]}',
    '{"data":{"$type":"com.linkedin.voyager.common.Me","plainId":42}}',
    '{"data":{"plainId":43}}',
  ];
  assert.equal(context.memberFromCodeTexts(texts)?.memberId, "42");
  assert.equal(context.memberFromCodeTexts(["{}", "[]", "null"]), null);
});

test("given a page that already holds the member, the script tells the worker once", async () => {
  const { sent, observers } = load({ codes: ['{"data":{"plainId":777}}'] });
  await settle();
  assert.deepEqual(sent, [{ type: "linkedin-member", member_id: "777" }]);
  assert.equal(observers.length, 0, "nothing left to watch");
});

test("given a page that renders the member late, the script finds it after the change", async () => {
  const { sent, observers, page } = load({ codes: ['{"data":{"other":1}}'] });
  await settle();
  assert.deepEqual(sent, []);
  assert.equal(observers.length, 1);
  page.codes.push('{"data":{"plainId":"31337"}}');
  observers[0].callback([]);
  page.pending();
  await settle();
  assert.deepEqual(sent, [{ type: "linkedin-member", member_id: "31337" }]);
  assert.equal(observers[0].connected, false, "the observer stops once the member is known");
});

// LinkedIn's "Me" document as a page embeds it in a <code> element: the member, a pointer to
// their profile, and that profile among `included` with its fsd_profile URN.
const ME = JSON.stringify({
  data: {
    $type: "com.linkedin.voyager.common.Me",
    plainId: 123456789,
    premiumSubscriber: false,
    "*miniProfile": "urn:li:fs_miniProfile:ACoAABx9-YzQ_member",
  },
  included: [
    {
      $type: "com.linkedin.voyager.identity.shared.MiniProfile",
      firstName: "Ada",
      lastName: "Lovelace",
      dashEntityUrn: "urn:li:fsd_profile:ACoAABx9-YzQ_member",
      entityUrn: "urn:li:fs_miniProfile:ACoAABx9-YzQ_member",
      objectUrn: "urn:li:member:123456789",
      publicIdentifier: "ada-lovelace",
    },
  ],
});
// What else a feed page holds: other people's profiles, in the same URN form.
const FEED = JSON.stringify({
  data: { $type: "com.linkedin.voyager.feed.Update" },
  included: [
    { dashEntityUrn: "urn:li:fsd_profile:ACoAAOther-author", objectUrn: "urn:li:member:42" },
    { "*actor": "urn:li:fsd_profile:ACoAAAnother_one" },
  ],
});

test("given LinkedIn's Me document, the member's profile id is the bare id of their fsd_profile, not the URN", () => {
  const { context } = load({ chrome: null });
  assert.deepEqual(
    { ...context.memberFromCodeTexts([FEED, ME]) },
    { memberId: "123456789", profileId: "ACoAABx9-YzQ_member" },
  );
});

test("given a page holding other people's profiles first, the member's own is the one taken", () => {
  const { context } = load({ chrome: null });
  const crowded = JSON.parse(ME);
  crowded.included.unshift(
    { dashEntityUrn: "urn:li:fsd_profile:ACoAAOther-author", entityUrn: "urn:li:fs_miniProfile:ACoAAOther-author", objectUrn: "urn:li:member:42" },
    { dashEntityUrn: "urn:li:fsd_profile:ACoAAAnother_one" },
  );
  assert.equal(context.memberFromCodeTexts([JSON.stringify(crowded)]).profileId, "ACoAABx9-YzQ_member");
});

test("given only the Me document's pointer, its mini-profile id is the profile id; given the member's URN alone, that profile's", () => {
  const { context } = load({ chrome: null });
  const pointerOnly = JSON.parse(ME);
  delete pointerOnly.included;
  assert.equal(context.memberFromCodeText(JSON.stringify(pointerOnly)).profileId, "ACoAABx9-YzQ_member");
  const memberUrnOnly = JSON.parse(ME);
  delete memberUrnOnly.data["*miniProfile"];
  assert.equal(context.memberFromCodeText(JSON.stringify(memberUrnOnly)).profileId, "ACoAABx9-YzQ_member");
});

test("given a page without the member's profile, the member id comes alone; never another person's profile", () => {
  const { context } = load({ chrome: null });
  assert.deepEqual(
    { ...context.memberFromCodeTexts([FEED, '{"data":{"plainId":777}}']) },
    { memberId: "777", profileId: null },
  );
  const othersOnly = JSON.stringify({
    data: { plainId: 777 },
    included: [{ dashEntityUrn: "urn:li:fsd_profile:ACoAAOther-author", objectUrn: "urn:li:member:42" }],
  });
  assert.equal(context.memberFromCodeText(othersOnly).profileId, null);
});

test("a profile URN whose id is not letters, digits, - and _ is not taken", () => {
  const { context } = load({ chrome: null });
  for (const urn of [
    "urn:li:fsd_profile:ACoA AB",
    "urn:li:fsd_profile:ACoAAB<script>",
    "urn:li:fsd_profile:",
    `urn:li:fsd_profile:${"A".repeat(129)}`,
    "urn:li:fsd_company:ACoAAB1",
    "ACoAAB1",
  ]) {
    const text = JSON.stringify({ data: { plainId: 5, "*miniProfile": urn } });
    assert.equal(context.memberFromCodeText(text).profileId, null, urn);
  }
});

test("given a page with the member's profile, the script tells the worker both", async () => {
  const { sent } = load({ codes: [FEED, "not json", ME] });
  await settle();
  assert.deepEqual(sent, [
    { type: "linkedin-member", member_id: "123456789", profile_id: "ACoAABx9-YzQ_member" },
  ]);
});
