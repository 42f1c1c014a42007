// Writes a build of the extension that trusts exactly the origins it is given: the API
// origins the LinkedIn cookie may go to (host_permissions) and the app's pages that may hand
// over a session (externally_connectable), in manifest.json and in origins.js, which the
// service worker checks every handshake and every call against.
//
//   node extension/build.mjs
//       The release, in place: extension/manifest.json and extension/origins.js from
//       extension/origins.json (https only, no loopback, no wildcard).
//   node extension/build.mjs --out DIR
//       The same release written into DIR with only the files the browser loads (to zip).
//   node extension/build.mjs --development [--api ORIGIN ... --app ORIGIN ...] [--out DIR]
//       A development build (plain http allowed, "(development)" in its name and in its
//       toolbar button's title) of origins.development.json (the local stack on port 8787)
//       or of the origins given, into DIR (default target/extension-development). Never into
//       extension/ itself.
//
// Node 20+, no packages. The browser walk (tests/tests/extension.rs) makes its own
// development build with this script for the local stack it starts.

import {
  copyFileSync,
  existsSync,
  mkdirSync,
  readFileSync,
  readdirSync,
  rmSync,
  writeFileSync,
} from "node:fs";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath, pathToFileURL } from "node:url";
import { configuredOrigin } from "./trusted-origins.js";

/** The extension's own folder: the source of every build, and the release's place. */
export const SOURCE = dirname(fileURLToPath(import.meta.url));

const DEVELOPMENT_SUFFIX = " (development)";
// LinkedIn serves https only; the browser walk serves its LinkedIn-shaped page over plain
// http, which only a development build's content script and cookie access reach.
const LINKEDIN = { release: "https://*.linkedin.com/*", development: "*://*.linkedin.com/*" };
const CONFIG_KEYS = ["api_origins", "app_origins"];

/**
 * The origins a configuration names, checked: `{apiOrigins, appOrigins}`. Throws an Error
 * naming every problem.
 */
export function readOrigins(config, { development = false } = {}) {
  const problems = [];
  if (typeof config !== "object" || config === null || Array.isArray(config)) {
    throw new Error(`the configuration must be an object with ${CONFIG_KEYS.join(" and ")}`);
  }
  for (const key of Object.keys(config)) {
    if (!CONFIG_KEYS.includes(key)) problems.push(`unknown key ${key}`);
  }
  const lists = {};
  for (const key of CONFIG_KEYS) {
    const values = config[key];
    if (!Array.isArray(values) || values.length === 0) {
      problems.push(`${key} must list at least one origin`);
      continue;
    }
    const origins = [];
    for (const value of values) {
      const checked = configuredOrigin(value, { development });
      if (checked.error) problems.push(`${key}: ${checked.error}`);
      else if (!origins.includes(checked.origin)) origins.push(checked.origin);
    }
    lists[key] = origins;
  }
  if (problems.length > 0) throw new Error(problems.join("; "));
  return { apiOrigins: lists.api_origins, appOrigins: lists.app_origins };
}

const matchPattern = (origin) => `${origin}/*`;

/**
 * The manifest of a build: `base` with the origins, and the LinkedIn patterns, it trusts. A
 * development build says so in its name and in its toolbar button's title, so that a tester
 * can tell which build is loaded. (`base` is the source's manifest, which only a release is
 * ever written over: it never carries the suffix.)
 */
export function manifestFor(base, { apiOrigins, appOrigins, development = false }) {
  const manifest = structuredClone(base);
  const linkedin = development ? LINKEDIN.development : LINKEDIN.release;
  if (development) {
    manifest.name = `${base.name}${DEVELOPMENT_SUFFIX}`;
    const title = `${base.action.default_title}${DEVELOPMENT_SUFFIX}`;
    manifest.action = { ...base.action, default_title: title };
  }
  manifest.host_permissions = [linkedin, ...apiOrigins.map(matchPattern)];
  manifest.content_scripts = base.content_scripts.map((script) => ({
    ...script,
    matches: [linkedin],
  }));
  manifest.externally_connectable = { matches: appOrigins.map(matchPattern) };
  return manifest;
}

/** origins.js of a build: what the service worker checks against. */
export function originsModule({ apiOrigins, appOrigins, development = false }) {
  const list = (origins) => JSON.stringify(origins);
  return `// The origins this build trusts, written by build.mjs (from origins.json for a release):
// change origins.json and run \`node extension/build.mjs\`, never this file.

/** Where the LinkedIn cookie may go: the API's origins. */
export const API_ORIGINS = Object.freeze(${list(apiOrigins)});
/** Which pages may hand over the app's session: the app's origins. */
export const APP_ORIGINS = Object.freeze(${list(appOrigins)});
/** A development build (the local stack, the browser walk) may trust plain-http origins. */
export const DEVELOPMENT = ${development};
`;
}

/** The files the browser loads: the extension's own scripts, pages and styles. */
export function runtimeFiles(source = SOURCE) {
  return readdirSync(source, { withFileTypes: true })
    .filter((entry) => entry.isFile() && /\.(js|html|css)$/.test(entry.name))
    .map((entry) => entry.name)
    .filter((name) => name !== "origins.js")
    .sort();
}

function readJson(path) {
  return JSON.parse(readFileSync(path, "utf8"));
}

// A folder is only replaced when it holds an earlier build (or nothing): a mistyped --out
// must not empty someone's folder.
function replaceFolder(out) {
  if (existsSync(out)) {
    const held = readdirSync(out);
    if (held.length > 0 && !held.includes("manifest.json")) {
      throw new Error(`${out} is not empty and holds no earlier build: choose another --out`);
    }
    rmSync(out, { recursive: true, force: true });
  }
  mkdirSync(out, { recursive: true });
}

/**
 * Writes a build into `out` (the release may be written into the source itself: then only
 * manifest.json and origins.js change). Answers what it wrote.
 */
export function writeBuild({ origins, development = false, out, source = SOURCE }) {
  const inPlace = resolve(out) === resolve(source);
  if (inPlace && development) {
    throw new Error("a development build never goes into extension/ itself: give --out DIR");
  }
  const base = readJson(join(source, "manifest.json"));
  const manifest = manifestFor(base, { ...origins, development });
  const module = originsModule({ ...origins, development });
  if (!inPlace) {
    replaceFolder(out);
    for (const name of runtimeFiles(source)) copyFileSync(join(source, name), join(out, name));
  }
  writeFileSync(join(out, "manifest.json"), `${JSON.stringify(manifest, null, 2)}\n`);
  writeFileSync(join(out, "origins.js"), module);
  return { out: resolve(out), manifest };
}

const USAGE = `usage:
  node extension/build.mjs [--out DIR]
      the release, from extension/origins.json (in place without --out)
  node extension/build.mjs --development [--api ORIGIN ... --app ORIGIN ...] [--out DIR]
      a development build (default: origins.development.json into target/extension-development)`;

/** The command line as `{development, api, app, out}`; throws on anything else. */
export function readArguments(argv) {
  const options = { development: false, api: [], app: [], out: null };
  for (let i = 0; i < argv.length; i += 1) {
    const arg = argv[i];
    const value = () => {
      const next = argv[i + 1];
      if (next === undefined || next.startsWith("--")) throw new Error(`${arg} needs a value`);
      i += 1;
      return next;
    };
    if (arg === "--development") options.development = true;
    else if (arg === "--api") options.api.push(value());
    else if (arg === "--app") options.app.push(value());
    else if (arg === "--out") options.out = value();
    else throw new Error(`unknown argument ${arg}`);
  }
  if (!options.development && (options.api.length > 0 || options.app.length > 0)) {
    throw new Error("a release reads its origins from extension/origins.json only");
  }
  if ((options.api.length > 0) !== (options.app.length > 0)) {
    throw new Error("give both --api and --app, or neither");
  }
  return options;
}

function main(argv) {
  if (argv.includes("--help") || argv.includes("-h")) {
    console.log(USAGE);
    return;
  }
  const options = readArguments(argv);
  const { development } = options;
  const config =
    options.api.length > 0
      ? { api_origins: options.api, app_origins: options.app }
      : readJson(join(SOURCE, development ? "origins.development.json" : "origins.json"));
  const origins = readOrigins(config, { development });
  const out =
    options.out ??
    (development ? join(SOURCE, "..", "target", "extension-development") : SOURCE);
  const written = writeBuild({ origins, development, out });
  const kind = development ? "development build" : "release";
  console.log(`${kind} written to ${written.out}`);
  console.log(`  API (where the cookie goes): ${origins.apiOrigins.join(", ")}`);
  console.log(`  app pages (who may hand over a session): ${origins.appOrigins.join(", ")}`);
}

if (process.argv[1] && import.meta.url === pathToFileURL(resolve(process.argv[1])).href) {
  try {
    main(process.argv.slice(2));
  } catch (error) {
    console.error(`build.mjs: ${error.message}`);
    console.error(USAGE);
    process.exit(1);
  }
}
