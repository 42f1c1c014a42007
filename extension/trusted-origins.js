// Which origins the extension trusts, decided in one place. The cookie goes to one of the API
// origins this build names (origins.js, written by build.mjs from origins.json), and only
// the app's pages this build names may hand over a session: a page elsewhere, or an API it
// names, never gets a LinkedIn cookie. Outside a development build, both must be https.
// Pure, so that the rules can be tested without a browser; build.mjs checks a team's
// configuration with the same rules before it writes a build.

const LOOPBACK_NAMES = ["localhost", "[::1]", "0.0.0.0"];

/** The origin (`scheme://host[:port]`) of a URL, or null for anything else. */
export function originOf(value) {
  if (typeof value !== "string") return null;
  let url;
  try {
    url = new URL(value);
  } catch {
    return null;
  }
  return url.protocol === "https:" || url.protocol === "http:" ? url.origin : null;
}

/** True for this machine's own names: a release never trusts them. */
export function isLoopback(origin) {
  const { hostname } = new URL(origin);
  return (
    LOOPBACK_NAMES.includes(hostname) ||
    hostname.endsWith(".localhost") ||
    /^127\.\d{1,3}\.\d{1,3}\.\d{1,3}$/.test(hostname)
  );
}

/**
 * An origin as a build may name it: `{origin}`, or `{error}` saying why not. https (plain
 * http too in a development build), a host without wildcard, and nothing after it: no
 * path, query, fragment or credentials. A release names no loopback host.
 */
export function configuredOrigin(value, { development = false } = {}) {
  if (typeof value !== "string" || value.trim() === "") return { error: "not a URL" };
  if (value.includes("*")) return { error: `${value}: no wildcard; name each origin` };
  let url;
  try {
    url = new URL(value);
  } catch {
    return { error: `${value}: not a URL` };
  }
  const schemes = development ? ["https:", "http:"] : ["https:"];
  if (!schemes.includes(url.protocol)) {
    return {
      error: `${value}: ${development ? "http or https" : "https"} only${development ? "" : " outside a development build"}`,
    };
  }
  if (url.username || url.password || url.search || url.hash || url.pathname !== "/") {
    return { error: `${value}: an origin only (scheme, host and port), without path or query` };
  }
  if (!development && isLoopback(url.origin)) {
    return { error: `${value}: a release names no loopback host` };
  }
  return { origin: url.origin };
}

/**
 * True when the cookie may go to `apiBase`: its origin is one the build names, over https
 * (or http in a development build).
 */
export function apiTrusted(apiBase, { apiOrigins, development = false }) {
  const origin = originOf(apiBase);
  if (!origin || !apiOrigins.includes(origin)) return false;
  return development || origin.startsWith("https://");
}

/**
 * True when an external message comes from one of the app's pages the build names, as the
 * browser reports its origin (`sender.origin`, which a page cannot choose).
 */
export function senderTrusted(sender, { appOrigins, development = false }) {
  const origin = typeof sender?.origin === "string" ? sender.origin : null;
  if (!origin || !appOrigins.includes(origin)) return false;
  return development || origin.startsWith("https://");
}
