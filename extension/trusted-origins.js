// Which origins the extension trusts, decided in one place. The cookie goes to one of the API
// origins this build names (origins.js, written by build.mjs from origins.json), and only
// the app's pages this build names may hand over a session: a page elsewhere, or an API it
// names, never gets a LinkedIn cookie. Outside a development build, both must be https.
// Pure, so that the rules can be tested without a browser; build.mjs checks a team's
// configuration with the same rules before it writes a build.

const LOOPBACK_NAMES = ["localhost", "[::1]", "0.0.0.0"];
// An IPv4 address written as IPv6 (`[::ffff:127.0.0.1]`), as the URL parser spells it
// (`[::ffff:7f00:1]`): the two groups are the four octets.
const MAPPED_IPV4 = /^\[::ffff:([0-9a-f]{1,4}):([0-9a-f]{1,4})\]$/;

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

/** The dotted IPv4 address an IPv4-mapped IPv6 host stands for, or the host itself. */
function asIpv4(hostname) {
  const mapped = MAPPED_IPV4.exec(hostname);
  if (!mapped) return hostname;
  const [high, low] = [mapped[1], mapped[2]].map((group) => Number.parseInt(group, 16));
  return [high >> 8, high & 255, low >> 8, low & 255].join(".");
}

/** True for this machine's own names: a release never trusts them. */
export function isLoopback(origin) {
  const hostname = asIpv4(new URL(origin).hostname);
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
 * True when `origin` (`scheme://host[:port]`, exactly) is one of `origins` the build names,
 * over https (or http in a development build). The same rule for the API the cookie may go
 * to (the origin of the `apiBase` a session names) and for the app's pages that may hand one
 * over (the origin the browser reports for an external message, `sender.origin`, which a page
 * cannot choose, never one read from its URL).
 */
export function originTrusted(origin, origins, development = false) {
  if (typeof origin !== "string" || !origins.includes(origin)) return false;
  return development || origin.startsWith("https://");
}
