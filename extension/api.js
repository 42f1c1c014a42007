// The API's extension routes as the service worker calls them, each with the session token
// the app handed over: POST and DELETE /extension/cookies, POST /extension/checkpoint,
// GET /extension/identities and PUT /extension/identities/{member_id}.
//
// Every failure becomes an ApiError whose `kind` says what the extension does about it, so
// callers choose from the kind and never read a raw body. Request bodies carry cookies: they
// are never kept, logged or put in an error.

import { REQUEST_TIMEOUT_SECONDS } from "./config.js";
import { isProfileId } from "./messages.js";

/**
 * Why a call failed:
 * - "signed-out": the API refused the token (401): stop until the app hands over a new one.
 * - "network": the API could not be reached at all (offline, DNS, timeout).
 * - "busy": the API is throttling (429) or down (502, 503, 504): try again later.
 * - "server": the API failed (500 and other 5xx): try again later too.
 * - "limit": the user syncs as many LinkedIn identities as the API allows (409).
 * - "refused": the API refused the request (another 4xx); `status` and `detail` say why.
 */
export class ApiError extends Error {
  constructor(kind, { status = 0, problem = null, retryAfter = null, cause } = {}) {
    super(problem?.detail || problem?.title || kind, { cause });
    this.name = "ApiError";
    this.kind = kind;
    this.status = status;
    this.problem = problem;
    /** The Retry-After header as sent, when the API sent one. */
    this.retryAfter = retryAfter;
  }

  /** Worth trying again later without the user doing anything. */
  get isTransient() {
    return this.kind === "network" || this.kind === "busy" || this.kind === "server";
  }

  /** The problem's own words for the user; never the raw body. */
  get detail() {
    const detail = this.problem?.detail || this.problem?.title;
    return typeof detail === "string" ? detail : "";
  }
}

/** The kind of a failed answer, from its status and its problem type. */
export function kindOf(status, problem) {
  if (status === 401) return "signed-out";
  if (status === 429 || status === 502 || status === 503 || status === 504) return "busy";
  const type = typeof problem?.type === "string" ? problem.type : "";
  if (status === 409 && type.includes("linkedin-identity-limit")) return "limit";
  if (status >= 400 && status < 500) return "refused";
  return "server";
}

async function jsonOf(response) {
  try {
    return await response.json();
  } catch {
    return null;
  }
}

export class ExtensionApi {
  /**
   * @param {object} options
   * @param {string} options.base   the API's base URL, as the app handed it over
   * @param {string} options.token  the user's session token
   * @param {typeof fetch} [options.fetch]
   */
  constructor({ base, token, fetch: fetchImpl = globalThis.fetch.bind(globalThis) }) {
    this.base = String(base).replace(/\/+$/, "");
    this.token = token;
    this.fetch = fetchImpl;
  }

  /** `{status, body}` for a 2xx answer; an ApiError for anything else. */
  async #call(method, path, body) {
    const headers = { authorization: `Bearer ${this.token}`, accept: "application/json" };
    if (body !== undefined) headers["content-type"] = "application/json";
    let response;
    try {
      response = await this.fetch(this.base + path, {
        method,
        headers,
        body: body === undefined ? undefined : JSON.stringify(body),
        // The token travels in the header only; the API's own cookies, if any, stay out.
        credentials: "omit",
        // The API never redirects: a 307 or 308 would send the body, the LinkedIn cookie, on
        // to wherever it points. A redirect fails the call as a network error instead.
        redirect: "error",
        cache: "no-store",
        signal: AbortSignal.timeout(REQUEST_TIMEOUT_SECONDS * 1000),
      });
    } catch (cause) {
      throw new ApiError("network", { cause });
    }
    if (!response.ok) {
      const problem = await jsonOf(response);
      throw new ApiError(kindOf(response.status, problem), {
        status: response.status,
        problem: problem && typeof problem === "object" ? problem : null,
        retryAfter: response.headers.get("retry-after"),
      });
    }
    const answer = response.status === 204 ? null : await jsonOf(response);
    return { status: response.status, body: answer && typeof answer === "object" ? answer : {} };
  }

  /**
   * Hands over the LinkedIn session: `{status, body}` where body is
   * `{status: "connected"|"reconnected"|"stored"|"linked"|"checkpoint"|"paused", ...}`. The
   * member's profile id goes along only when it is one (`ACoAAB…`: letters, digits, - and _).
   */
  syncCookies({ liAt, liA, userAgent, memberId, profileId }) {
    const body = { li_at: liAt };
    if (liA) body.li_a = liA;
    body.user_agent = userAgent;
    body.linkedin_member_id = memberId;
    if (isProfileId(profileId)) body.linkedin_profile_id = profileId;
    return this.#call("POST", "/extension/cookies", body);
  }

  /** Answers LinkedIn's verification; no code for an approval in the LinkedIn app. */
  solveCheckpoint({ memberId, code }) {
    const body = { linkedin_member_id: memberId };
    if (code !== undefined) body.code = code;
    return this.#call("POST", "/extension/checkpoint", body);
  }

  /** The user's LinkedIn identities: `[{linkedin_member_id, paused, account_id?, ...}]`. */
  async listIdentities() {
    const { body } = await this.#call("GET", "/extension/identities");
    return Array.isArray(body.identities) ? body.identities : [];
  }

  /** Turns syncing of one identity off or back on; answers that identity. */
  async setPaused(memberId, paused) {
    const { body } = await this.#call(
      "PUT",
      `/extension/identities/${encodeURIComponent(memberId)}`,
      { paused },
    );
    return body;
  }

  /** Deletes every cookie the API stores for the user; answers how many. */
  async deleteCookies() {
    const { body } = await this.#call("DELETE", "/extension/cookies");
    return Number.isInteger(body.deleted) ? body.deleted : 0;
  }
}
