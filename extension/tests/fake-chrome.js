// A browser for the service worker's tests, in memory: storage areas, alarms, the cookies of
// LinkedIn, host permissions from a manifest, the runtime's listeners, and a fetch that
// records every request and answers as it is told. Install it before importing
// background.js, which adds its listeners at load as the browser requires.

function storageArea() {
  const items = new Map();
  return {
    items,
    async get(keys) {
      const wanted = keys === undefined || keys === null ? [...items.keys()] : [keys].flat();
      const found = {};
      for (const key of wanted) if (items.has(key)) found[key] = structuredClone(items.get(key));
      return found;
    },
    async set(values) {
      for (const [key, value] of Object.entries(values)) items.set(key, structuredClone(value));
    },
    async remove(keys) {
      for (const key of [keys].flat()) items.delete(key);
    },
  };
}

// A host permission's match pattern (`*://*.linkedin.com/*`, `http://127.0.0.1/*`,
// `https://api.example.com:8443/*`) against an origin, as the browser reads it: a pattern
// without a port matches every port.
function patternMatches(pattern, origin) {
  const parts = /^(\*|https?):\/\/([^/:]+)(?::(\d+|\*))?\/.*$/.exec(pattern);
  if (!parts) return false;
  const [, scheme, host, port] = parts;
  const url = new URL(origin);
  if (scheme !== "*" && `${scheme}:` !== url.protocol) return false;
  const hostMatches = host.startsWith("*.")
    ? url.hostname === host.slice(2) || url.hostname.endsWith(host.slice(1))
    : host === "*" || url.hostname === host;
  const urlPort = url.port || (url.protocol === "https:" ? "443" : "80");
  return hostMatches && (port === undefined || port === "*" || port === urlPort);
}

function event() {
  const listeners = [];
  return { listeners, addListener: (listener) => listeners.push(listener) };
}

/**
 * Installs `globalThis.chrome`, `fetch` and `navigator`; answers the handles a test uses:
 * `requests` (every fetch: url, method, body), `answers` (what the next fetches get),
 * `cookies`, `local`, `session`, and `fromPage(message, sender)` to send an external message
 * as a web page would.
 */
export function installFakeChrome({ manifest, extensionId = "abcdefghijklmnopabcdefghijklmnop" }) {
  const local = storageArea();
  const session = storageArea();
  const alarms = new Map();
  const cookies = new Map();
  const requests = [];
  const answers = [];
  const onMessageExternal = event();
  const onMessage = event();
  const granted = manifest.host_permissions ?? [];

  globalThis.chrome = {
    runtime: {
      id: extensionId,
      getManifest: () => manifest,
      getURL: (path) => `chrome-extension://${extensionId}/${path}`,
      onInstalled: event(),
      onStartup: event(),
      onMessage,
      onMessageExternal,
      lastError: undefined,
    },
    storage: { local, session },
    alarms: {
      onAlarm: event(),
      async create(name, info) {
        alarms.set(name, { name, ...info });
      },
      async get(name) {
        return alarms.get(name);
      },
      async clear(name) {
        return alarms.delete(name);
      },
      async getAll() {
        return [...alarms.values()];
      },
    },
    cookies: {
      async get({ name }) {
        return cookies.has(name) ? { name, value: cookies.get(name) } : null;
      },
    },
    permissions: {
      async contains({ origins }) {
        return origins.every((wanted) => {
          const origin = new URL(wanted.replace(/\/\*$/, "/")).origin;
          return granted.some((pattern) => patternMatches(pattern, origin));
        });
      },
    },
  };
  globalThis.fetch = async (url, init = {}) => {
    requests.push({
      url: String(url),
      method: init.method ?? "GET",
      body: typeof init.body === "string" ? JSON.parse(init.body) : undefined,
    });
    const { status = 200, body = {} } = answers.shift() ?? {};
    return new Response(JSON.stringify(body), {
      status,
      headers: { "content-type": "application/json" },
    });
  };
  if (typeof globalThis.navigator === "undefined") {
    globalThis.navigator = { userAgent: "Mozilla/5.0 (test) Chrome/131.0" };
  }

  /** The worker's answer to an external message from a page with `sender`. */
  function fromPage(message, sender) {
    return new Promise((resolve) => {
      const [listener] = onMessageExternal.listeners;
      listener(message, sender, resolve);
    });
  }

  return { requests, answers, cookies, local, session, alarms, fromPage };
}

/** Waits until `condition()` holds (a few hundred turns of the event loop at most). */
export async function eventually(condition, what) {
  for (let turn = 0; turn < 500; turn += 1) {
    if (condition()) return;
    await new Promise((resolve) => setImmediate(resolve));
  }
  throw new Error(`never happened: ${what}`);
}
