// The accounts API as the component calls it: GET /accounts, POST /accounts/link,
// DELETE /accounts/{id}, and the connect-here routes (POST /accounts/connect, its checkpoint
// and resend, GET /accounts/connect/{id}), each with the user's token from the host page's
// getToken().
//
// Every failure becomes an ApiError whose `kind` says what the user can do about it, so the
// element chooses its message from the kind and never from a raw status.

/**
 * Why a call failed:
 * - "signed-out": no token, or the API refused it (401): the user must sign in again.
 * - "network": the API could not be reached at all (offline, DNS, CORS).
 * - "unavailable": the API or Unipile behind it is down or busy (502, 503, 504).
 * - "not-found": the account is not (or no longer) the user's (404).
 * - "refused": the API refused the request (another 4xx); `detail` says why.
 * - "server": anything else (500...).
 */
export class ApiError extends Error {
  constructor(kind, { status = 0, problem = null, retryAfter = null, cause } = {}) {
    super(problem?.detail || problem?.title || kind, { cause });
    this.name = "ApiError";
    this.kind = kind;
    this.status = status;
    this.problem = problem;
    /** Seconds to wait before trying again (a 429's `Retry-After`), or null. */
    this.retryAfter = retryAfter;
  }

  /** The API's own name for the problem (`urn:unipile-connect:problem:<slug>`), or null. */
  get slug() {
    const type = this.problem?.type;
    return typeof type === "string" && type.startsWith(PROBLEM_PREFIX)
      ? type.slice(PROBLEM_PREFIX.length)
      : null;
  }

  /** True when the problem is Unipile's (problem types name it), not the API's own. */
  get isUnipile() {
    return typeof this.problem?.type === "string" && this.problem.type.includes("unipile");
  }
}

const PROBLEM_PREFIX = "urn:unipile-connect:problem:";

/** `Retry-After` as seconds from now (it may be seconds or an HTTP date), or null. */
export function retryAfterSeconds(header, now = Date.now()) {
  if (header === null || header === undefined || String(header).trim() === "") return null;
  const text = String(header).trim();
  if (/^\d+$/.test(text)) return Number(text);
  const date = Date.parse(text);
  return Number.isNaN(date) ? null : Math.max(0, Math.ceil((date - now) / 1000));
}

function kindOf(status) {
  if (status === 401) return "signed-out";
  if (status === 404) return "not-found";
  if (status === 502 || status === 503 || status === 504) return "unavailable";
  if (status >= 400 && status < 500) return "refused";
  return "server";
}

async function problemOf(response) {
  try {
    return await response.json();
  } catch {
    return null;
  }
}

export class AccountsApi {
  /**
   * @param {object} options
   * @param {string} options.base   the API's base URL ("" for the page's own origin)
   * @param {() => Promise<string|null|undefined>} options.getToken   the user's current token
   * @param {typeof fetch} [options.fetch]
   */
  constructor({ base, getToken, fetch: fetchImpl = globalThis.fetch.bind(globalThis) }) {
    this.base = String(base ?? "").replace(/\/+$/, "");
    this.getToken = getToken;
    this.fetch = fetchImpl;
  }

  async #call(method, path, body, { signal } = {}) {
    let token;
    try {
      token = typeof this.getToken === "function" ? await this.getToken() : null;
    } catch (cause) {
      throw new ApiError("signed-out", { cause });
    }
    if (!token) throw new ApiError("signed-out");
    const headers = { authorization: `Bearer ${token}`, accept: "application/json" };
    if (body !== undefined) headers["content-type"] = "application/json";
    let response;
    try {
      response = await this.fetch(this.base + path, {
        method,
        headers,
        body: body === undefined ? undefined : JSON.stringify(body),
        // The token travels in the header only: no cookies, no referrer with it.
        credentials: "omit",
        cache: "no-store",
        signal,
      });
    } catch (cause) {
      if (cause?.name === "AbortError") throw cause;
      throw new ApiError("network", { cause });
    }
    if (response.status === 204) return null;
    if (!response.ok) {
      // A cross-origin page reads Retry-After only when the API exposes it; the problem's own
      // `retry_after` (when the API adds one) is the fallback.
      const problem = await problemOf(response);
      const retryAfter =
        retryAfterSeconds(response.headers?.get?.("retry-after")) ??
        (Number.isFinite(problem?.retry_after) ? problem.retry_after : null);
      throw new ApiError(kindOf(response.status), {
        status: response.status,
        problem,
        retryAfter,
      });
    }
    try {
      return await response.json();
    } catch (cause) {
      throw new ApiError("server", { status: response.status, cause });
    }
  }

  /** The user's accounts, newest first: `[{account_id, type, name?, status, last_update, created_on}]`. */
  async listAccounts() {
    const answer = await this.#call("GET", "/accounts");
    return Array.isArray(answer?.accounts) ? answer.accounts : [];
  }

  /** A hosted-auth link to connect a new account: `{url, expires_at}`. */
  createLink({ providers, successUrl, failureUrl }) {
    return this.#call("POST", "/accounts/link", {
      type: "create",
      providers,
      ...redirects(successUrl, failureUrl),
    });
  }

  /** A hosted-auth link to reconnect one of the user's accounts: `{url, expires_at}`. */
  reconnectLink({ accountId, successUrl, failureUrl }) {
    return this.#call("POST", "/accounts/link", {
      type: "reconnect",
      reconnect_account: accountId,
      ...redirects(successUrl, failureUrl),
    });
  }

  /**
   * Starts connecting (or reconnecting) an account here, in the page: `body` is
   * `{provider, reconnect_account?, renew?, ...the provider's fields}`. Answers
   * `{status: "connected", account_id, provider}` or `{status: "checkpoint", account_id,
   * provider, checkpoint}`.
   */
  startConnect(body) {
    return this.#call("POST", "/accounts/connect", body);
  }

  /** Answers a checkpoint with the user's code: the same answers as `startConnect`. */
  solveCheckpoint({ accountId, code }) {
    return this.#call("POST", "/accounts/connect/checkpoint", { account_id: accountId, code });
  }

  /** Asks the provider to send the checkpoint's code again: the current checkpoint. */
  resendCheckpoint(accountId) {
    return this.#call("POST", "/accounts/connect/resend", { account_id: accountId });
  }

  /**
   * Where a sign-in that completes elsewhere (QR scan, pairing code, in-app approval)
   * stands: `{status: "waiting" | "connected" | "expired", account_id}`. The API holds the
   * request up to ten seconds while nothing changes.
   */
  connectStatus(accountId, { signal } = {}) {
    return this.#call("GET", `/accounts/connect/${encodeURIComponent(accountId)}`, undefined, {
      signal,
    });
  }

  /** Disconnects the account at Unipile and forgets it. */
  async disconnect(accountId) {
    await this.#call("DELETE", `/accounts/${encodeURIComponent(accountId)}`);
  }
}

function redirects(successUrl, failureUrl) {
  const body = {};
  if (successUrl) body.success_redirect_url = successUrl;
  if (failureUrl) body.failure_redirect_url = failureUrl;
  return body;
}
