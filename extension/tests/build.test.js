// The builds (build.mjs): the release in this folder trusts exactly what origins.json names,
// over https; a development build is written elsewhere, and says what it is.

import { test } from "node:test";
import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import { mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync, mkdirSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import {
  SOURCE,
  manifestFor,
  originsModule,
  readArguments,
  readOrigins,
  runtimeFiles,
  writeBuild,
} from "../build.mjs";

const read = (path) => readFileSync(path, "utf8");
const json = (path) => JSON.parse(read(path));
const scratch = () => mkdtempSync(join(tmpdir(), "extension-build-"));
const manifest = json(join(SOURCE, "manifest.json"));

test("the manifest and origins.js in this folder are the release build of origins.json", () => {
  const out = scratch();
  try {
    const origins = readOrigins(json(join(SOURCE, "origins.json")));
    writeBuild({ origins, out });
    assert.equal(read(join(SOURCE, "manifest.json")), read(join(out, "manifest.json")), "run `node extension/build.mjs`");
    assert.equal(read(join(SOURCE, "origins.js")), read(join(out, "origins.js")), "run `node extension/build.mjs`");
  } finally {
    rmSync(out, { recursive: true, force: true });
  }
});

test("the release manifest names no loopback host, no plain http and no wildcard host but LinkedIn's own", () => {
  const patterns = [
    ...manifest.host_permissions,
    ...manifest.externally_connectable.matches,
    ...manifest.content_scripts.flatMap((script) => script.matches),
  ];
  for (const pattern of patterns) {
    assert.match(pattern, /^https:\/\//, pattern);
    assert.doesNotMatch(pattern, /127\.0\.0\.1|localhost|\[::1\]/, pattern);
    const host = pattern.replace(/^https:\/\//, "").split("/")[0];
    if (host.includes("*")) assert.equal(host, "*.linkedin.com", pattern);
  }
  assert.doesNotMatch(manifest.name, /development/);
  assert.doesNotMatch(manifest.action.default_title, /development/);
});

test("given a team's origins, the release trusts exactly them: host_permissions, externally_connectable and origins.js", () => {
  const origins = readOrigins({
    api_origins: ["https://api.team.example/", "https://api-eu.team.example"],
    app_origins: ["https://app.team.example"],
  });
  const built = manifestFor(manifest, origins);
  assert.deepEqual(built.host_permissions, [
    "https://*.linkedin.com/*",
    "https://api.team.example/*",
    "https://api-eu.team.example/*",
  ]);
  assert.deepEqual(built.externally_connectable, { matches: ["https://app.team.example/*"] });
  assert.equal(built.key, manifest.key, "the same ID");
  assert.deepEqual([built.name, built.action], [manifest.name, manifest.action], "a release's own name and title");
  const module = originsModule(origins);
  assert.match(module, /API_ORIGINS = Object\.freeze\(\["https:\/\/api\.team\.example","https:\/\/api-eu\.team\.example"\]\)/);
  assert.match(module, /APP_ORIGINS = Object\.freeze\(\["https:\/\/app\.team\.example"\]\)/);
  assert.match(module, /DEVELOPMENT = false/);
});

test("a release refuses http, loopback, wildcards, paths, and a list left empty, naming each", () => {
  assert.throws(
    () =>
      readOrigins({
        api_origins: ["http://api.team.example", "https://*.execute-api.us-east-1.amazonaws.com"],
        app_origins: ["http://127.0.0.1:8787", "https://app.team.example/accounts"],
      }),
    (error) => {
      for (const named of ["http://api.team.example", "*.execute-api", "127.0.0.1", "/accounts"]) {
        assert.ok(error.message.includes(named), `${named} in: ${error.message}`);
      }
      return true;
    },
  );
  assert.throws(() => readOrigins({ api_origins: [], app_origins: ["https://app.team.example"] }), /api_origins/);
  assert.throws(() => readOrigins({ api_origins: ["https://a.example"], app_origins: ["https://b.example"], extra: 1 }), /unknown key extra/);
});

test("a development build trusts the local origins it is given, over http, and says it is one", () => {
  const out = scratch();
  try {
    const origins = readOrigins(
      { api_origins: ["http://127.0.0.1:41000"], app_origins: ["http://127.0.0.1:41000"] },
      { development: true },
    );
    writeBuild({ origins, development: true, out });
    const built = json(join(out, "manifest.json"));
    assert.deepEqual(built.host_permissions, ["*://*.linkedin.com/*", "http://127.0.0.1:41000/*"]);
    assert.deepEqual(built.externally_connectable.matches, ["http://127.0.0.1:41000/*"]);
    assert.equal(built.name, `${manifest.name} (development)`);
    assert.equal(built.action.default_title, `${manifest.action.default_title} (development)`, "the toolbar button says so too");
    assert.equal(built.action.default_popup, manifest.action.default_popup);
    assert.match(read(join(out, "origins.js")), /DEVELOPMENT = true/);
    assert.deepEqual(readdirSync(out).sort(), [...runtimeFiles(), "manifest.json", "origins.js"].sort());
    assert.ok(!readdirSync(out).includes("tests") && !readdirSync(out).includes("build.mjs"));
  } finally {
    rmSync(out, { recursive: true, force: true });
  }
});

test("a development build never lands in this folder, nor over a folder that holds something else", () => {
  const origins = readOrigins(json(join(SOURCE, "origins.development.json")), { development: true });
  assert.throws(() => writeBuild({ origins, development: true, out: SOURCE }), /never goes into extension/);
  const out = scratch();
  try {
    mkdirSync(join(out, "notes"));
    writeFileSync(join(out, "notes", "keep.txt"), "mine");
    assert.throws(() => writeBuild({ origins, development: true, out }), /holds no earlier build/);
    assert.equal(read(join(out, "notes", "keep.txt")), "mine");
  } finally {
    rmSync(out, { recursive: true, force: true });
  }
});

test("the command line: a release takes its origins from origins.json only", () => {
  assert.deepEqual(readArguments([]), { development: false, api: [], app: [], out: null });
  assert.throws(() => readArguments(["--api", "https://api.team.example"]), /origins\.json only/);
  assert.throws(() => readArguments(["--development", "--api", "http://127.0.0.1:1"]), /both --api and --app/);
  assert.throws(() => readArguments(["--out"]), /needs a value/);
  assert.throws(() => readArguments(["--zip"]), /unknown argument/);
});

test("the command writes a development build and refuses a release that names plain http", () => {
  const out = scratch();
  const script = join(SOURCE, "build.mjs");
  try {
    rmSync(out, { recursive: true, force: true });
    const said = execFileSync(process.execPath, [script, "--development", "--api", "http://127.0.0.1:41001", "--app", "http://localhost:41001", "--out", out], { encoding: "utf8" });
    assert.match(said, /development build written/);
    assert.deepEqual(json(join(out, "manifest.json")).externally_connectable.matches, ["http://localhost:41001/*"]);
  } finally {
    rmSync(out, { recursive: true, force: true });
  }
  const config = scratch();
  try {
    // A copy of this folder whose origins.json names plain http: the release is refused.
    for (const name of [...runtimeFiles(), "manifest.json", "origins.js", "build.mjs"]) {
      writeFileSync(join(config, name), read(join(SOURCE, name)));
    }
    writeFileSync(join(config, "origins.json"), JSON.stringify({ api_origins: ["http://api.team.example"], app_origins: ["https://app.team.example"] }));
    assert.throws(
      () => execFileSync(process.execPath, [join(config, "build.mjs")], { encoding: "utf8", stdio: "pipe" }),
      (error) => error.status === 1 && /https only/.test(error.stderr),
    );
    assert.equal(read(join(config, "manifest.json")), read(join(SOURCE, "manifest.json")), "nothing written");
  } finally {
    rmSync(config, { recursive: true, force: true });
  }
});
