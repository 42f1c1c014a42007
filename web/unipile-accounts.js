// <unipile-accounts>: the signed-in user's connected accounts, with Connect, Reconnect and
// Disconnect, on Unipile's hosted page or here in the page (connect-wizard.js), and the
// outcome of a hosted-auth visit. See README.md for how a page uses it.

import { AccountsApi, ApiError } from "./api.js";
import { ConnectWizard } from "./connect-wizard.js";
import { element } from "./dom.js";
import {
  CONNECTABLE_PROVIDERS,
  connectWays,
  parseConnectMode,
  parseProviderList,
  providerName,
} from "./providers.js";
import { statusWords } from "./status-words.js";
import { calendarDate, fullDateTime, relativeTime } from "./time-words.js";
import {
  forgetOutcome,
  readOutcome,
  readReconnectRequest,
  redirectUrls,
} from "./redirect-outcome.js";
import { styles } from "./styles.js";

const TEMPLATE = document.createElement("template");
TEMPLATE.innerHTML = `
<section class="root" aria-labelledby="title">
  <h2 id="title"></h2>
  <div class="notice outcome" role="status" aria-live="polite" tabindex="-1"></div>
  <div class="notice problem" role="alert" data-tone="problem"></div>
  <form class="connect" novalidate>
    <div class="field">
      <label for="provider">Provider</label>
      <select id="provider" name="provider"></select>
    </div>
    <div class="connect-buttons">
      <button type="submit" class="primary hosted" value="hosted">Connect an account</button>
      <button type="submit" class="custom" value="custom" hidden>Connect here</button>
    </div>
  </form>
  <div class="wizard-slot"></div>
  <p class="state"></p>
  <ul class="accounts" role="list" aria-labelledby="title"></ul>
  <dialog class="confirm" aria-labelledby="confirm-title" aria-describedby="confirm-text">
    <h3 id="confirm-title"></h3>
    <p id="confirm-text"></p>
    <form method="dialog">
      <button value="keep" autofocus>Keep it</button>
      <button value="disconnect" class="danger confirm">Disconnect</button>
    </form>
  </dialog>
</section>`;

// Words for each reason a call fails; `{what}` names what was being done.
const PROBLEM_WORDS = {
  "signed-out-expired": "Your session has expired. Sign in again to see your accounts.",
  "signed-out-none": "Sign in to see your accounts.",
  network: "Cannot reach the server to {what}. Check your connection, then try again.",
  "unavailable-unipile":
    "The connection service (Unipile) is not answering, so we could not {what}. Try again in a few minutes.",
  unavailable: "The service is busy or down, so we could not {what}. Try again in a few minutes.",
  "not-found": "This account is not one of yours any more, so we could not {what}.",
  refused: "The request to {what} was refused: {detail}",
  server: "Something went wrong while trying to {what}. Try again later.",
};

const WHAT = {
  list: "load your accounts",
  connect: "open the connection page",
  reconnect: "open the reconnection page",
  disconnect: "disconnect the account",
};

const MINUTE = 60_000;

export class UnipileAccounts extends HTMLElement {
  static observedAttributes = ["api-base", "providers", "heading", "locale", "connect-mode"];

  #getToken = null;
  #api = null;
  #accounts = [];
  #loading = null;
  #reconnectRequest = null;
  #clock = null;
  #confirmFor = null;
  #started = false;
  #loaded = false;
  #generation = 0;
  #wizard = null;
  #onVisible = () => {
    if (document.visibilityState === "visible" && !this.#loading) this.refresh();
  };

  constructor() {
    super();
    const root = this.attachShadow({ mode: "open" });
    const sheet = document.createElement("style");
    sheet.textContent = styles;
    root.append(sheet);
    root.append(TEMPLATE.content.cloneNode(true));
    this.#q("form.connect").addEventListener("submit", (event) => {
      event.preventDefault();
      this.#connect(event.submitter);
    });
    this.#q("select").addEventListener("change", () => this.#renderConnectButtons());
    this.#q("ul.accounts").addEventListener("click", (event) => this.#onAccountAction(event));
    this.#q("dialog.confirm").addEventListener("close", () => this.#onConfirmClosed());
    this.#q(".notice.problem").addEventListener("click", (event) => {
      if (event.target.closest("button.retry")) this.refresh();
    });
  }

  #q(selector) {
    return this.shadowRoot.querySelector(selector);
  }

  /** `async () => token`: how the element gets the signed-in user's token for each call. */
  get getToken() {
    return this.#getToken;
  }

  set getToken(provider) {
    this.#getToken = typeof provider === "function" ? provider : null;
    this.#api = null;
    if (this.isConnected && this.#started) this.refresh();
  }

  /** The accounts last listed (a copy). */
  get accounts() {
    return structuredClone(this.#accounts);
  }

  connectedCallback() {
    // A page may set `getToken` before this module loads: that value sits on the instance
    // and hides the accessor; take it over.
    if (Object.hasOwn(this, "getToken")) {
      const early = this.getToken;
      delete this.getToken;
      this.getToken = early;
    }
    this.#renderHeading();
    this.#renderProviders();
    if (!this.#started) {
      this.#started = true;
      this.#readReturn();
    }
    document.addEventListener("visibilitychange", this.#onVisible);
    // Relative times ("3 minutes ago") age while the page stays open.
    this.#clock = setInterval(() => this.#renderTimes(), MINUTE);
    // After the current script: a page that sets getToken right after importing this module
    // gets its first listing with the token, not a "sign in" flash.
    queueMicrotask(() => this.#loading ?? this.refresh());
  }

  disconnectedCallback() {
    document.removeEventListener("visibilitychange", this.#onVisible);
    clearInterval(this.#clock);
    this.#closeWizard();
  }

  attributeChangedCallback(name) {
    if (name === "api-base") {
      this.#api = null;
      if (this.isConnected && this.#started) this.refresh();
    }
    if (name === "heading") this.#renderHeading();
    if (name === "providers") this.#renderProviders();
    if (name === "locale") this.#renderList();
    if (name === "connect-mode") {
      this.#renderConnectButtons();
      this.#renderList();
    }
  }

  /** Lists the accounts again; the newest listing wins over any still in flight. */
  refresh() {
    const loading = this.#load().finally(() => {
      if (this.#loading === loading) this.#loading = null;
    });
    this.#loading = loading;
    return loading;
  }

  get #locale() {
    return this.getAttribute("locale") || undefined;
  }

  #client() {
    this.#api ??= new AccountsApi({
      base: this.getAttribute("api-base") ?? "",
      getToken: () => (this.#getToken ? this.#getToken() : null),
    });
    return this.#api;
  }

  #renderHeading() {
    this.#q("#title").textContent = this.getAttribute("heading") || "Connected accounts";
  }

  #renderProviders() {
    const select = this.#q("select");
    const chosen = select.value;
    const names = parseProviderList(this.getAttribute("providers"));
    const options = [];
    if (names.length > 1) options.push(new Option("Any provider", "*"));
    for (const name of names) options.push(new Option(providerName(name), name));
    select.replaceChildren(...options);
    this.#q(".field").hidden = names.length === 1;
    if ([...select.options].some((o) => o.value === chosen)) select.value = chosen;
    this.#renderConnectButtons();
  }

  get #connectMode() {
    return parseConnectMode(this.getAttribute("connect-mode"));
  }

  // "Connect here" where the chosen provider can sign in here and the mode allows it; the
  // hosted page otherwise, or as the second choice when the mode is "ask".
  #renderConnectButtons() {
    const choice = this.#q("select").value;
    const ways = connectWays(choice, this.#connectMode);
    const hosted = this.#q("form.connect button.hosted");
    const custom = this.#q("form.connect button.custom");
    custom.hidden = !ways.includes("custom");
    hosted.hidden = !ways.includes("hosted");
    custom.classList.toggle("primary", ways[0] === "custom");
    hosted.classList.toggle("primary", ways[0] === "hosted");
    hosted.textContent = ways.length > 1 ? "Use Unipile's secure page" : "Connect an account";
  }

  // After a hosted-auth visit: say how it went, once, and move focus there so keyboard and
  // screen-reader users start from the news.
  #readReturn() {
    const outcome = readOutcome(location);
    const reconnectParam = this.getAttribute("reconnect-param") || "reconnect";
    this.#reconnectRequest = readReconnectRequest(location, reconnectParam);
    forgetOutcome(history, location, reconnectParam);
    if (!outcome) return;
    const words = {
      connected: ["ok", "Your account is connected."],
      reconnected: ["ok", "Your account is reconnected."],
      failed: ["problem", "The account was not connected. You can try again."],
    }[outcome];
    this.#say(words[0], words[1], { focus: true });
    // After the current script, so that a page listening right after importing hears it.
    queueMicrotask(() => {
      if (outcome === "failed") this.#emit("connect-failed", {});
      else this.#emit("connected", { outcome });
    });
  }

  async #load() {
    const generation = ++this.#generation;
    const current = () => generation === this.#generation;
    const list = this.#q("ul.accounts");
    if (!this.#getToken) {
      this.#closeWizard();
      this.#showProblem("list", new ApiError("signed-out"));
      this.#setState("");
      list.replaceChildren();
      return;
    }
    list.setAttribute("aria-busy", "true");
    if (this.#accounts.length === 0) this.#setState("Loading your accounts…");
    try {
      const accounts = await this.#client().listAccounts();
      if (!current()) return;
      this.#accounts = accounts;
      this.#loaded = true;
      this.#clearProblem();
      this.#renderList();
      this.#emit("accounts-loaded", { accounts: this.accounts });
      this.#answerReconnectRequest();
    } catch (error) {
      if (!current()) return;
      // Signed out meanwhile: a sign-in under way is no longer the user's to finish.
      if (error instanceof ApiError && error.kind === "signed-out") this.#closeWizard();
      this.#accounts = [];
      this.#loaded = false;
      list.replaceChildren();
      this.#setState("");
      this.#fail("list", error);
    } finally {
      if (current()) list.removeAttribute("aria-busy");
    }
  }

  #setState(text) {
    this.#q(".state").textContent = text;
  }

  #renderList() {
    const list = this.#q("ul.accounts");
    if (!this.#loaded) return;
    this.#setState(
      this.#accounts.length === 0 ? "No account connected yet. Connect one to get started." : "",
    );
    list.replaceChildren(...this.#accounts.map((account, index) => this.#card(account, index)));
  }

  #card(account, index) {
    const words = statusWords(account.status);
    const provider = providerName(account.type);
    const who = account.name ? ` ${account.name}` : "";
    const li = element("li", { class: "account" });
    li.dataset.accountId = account.account_id;
    li.dataset.status = account.status;
    const headingId = `account-${index}`;
    const article = element("article", { "aria-labelledby": headingId });
    const head = element("div", { class: "head" });
    head.append(element("h3", { id: headingId }, provider));
    if (account.name) head.append(element("span", { class: "who" }, account.name));
    const badge = element("span", { class: `badge tone-${words.tone}` });
    badge.append(element("span", { class: "visually-hidden" }, "Status: "), words.label);
    head.append(badge);
    article.append(head);
    if (account.status !== "OK") article.append(element("p", { class: "detail" }, words.detail));

    const facts = element("dl", { class: "facts" });
    facts.append(
      fact("Updated", timeElement(account.last_update, "relative")),
      fact("Connected on", timeElement(account.created_on, "date")),
    );
    article.append(facts);
    this.#fillTimes(facts);

    const actions = element("div", { class: "actions" });
    if (words.needsUser) {
      const ways = connectWays(account.type, this.#connectMode);
      const both = ways.length > 1;
      if (ways.includes("custom")) {
        actions.append(
          element(
            "button",
            {
              type: "button",
              class: "primary reconnect-here",
              "aria-label": `Reconnect ${provider}${who}${both ? " here" : ""}`,
            },
            both ? "Reconnect here" : "Reconnect",
          ),
        );
      }
      if (ways.includes("hosted")) {
        actions.append(
          element(
            "button",
            {
              type: "button",
              class: `${both ? "" : "primary "}reconnect`,
              "aria-label": `Reconnect ${provider}${who}${both ? " on Unipile's secure page" : ""}`,
            },
            both ? "Use the secure page" : "Reconnect",
          ),
        );
      }
    }
    actions.append(
      element(
        "button",
        { type: "button", class: "danger disconnect", "aria-label": `Disconnect ${provider}${who}` },
        "Disconnect",
      ),
    );
    article.append(actions);
    li.append(article);
    return li;
  }

  #renderTimes() {
    this.#fillTimes(this.shadowRoot);
  }

  #fillTimes(scope) {
    const locale = this.#locale;
    for (const time of scope.querySelectorAll("time[data-format]")) {
      const value = time.dateTime;
      time.textContent =
        time.dataset.format === "relative"
          ? relativeTime(value, { locale })
          : calendarDate(value, { locale });
      time.title = fullDateTime(value, { locale });
    }
  }

  // A "please reconnect" email links here with the account: point at it, ready to press.
  #answerReconnectRequest() {
    const id = this.#reconnectRequest;
    if (!id) return;
    this.#reconnectRequest = null;
    const account = this.#accounts.find((a) => a.account_id === id);
    if (!account) {
      this.#say("problem", "That account is not among yours: it may have been disconnected.");
      return;
    }
    const words = statusWords(account.status);
    const provider = providerName(account.type);
    if (!words.needsUser) {
      this.#say("ok", `Your ${provider} account is ${words.label.toLowerCase()}: nothing to do.`);
      return;
    }
    const card = this.#cardOf(id);
    card?.classList.add("requested");
    this.#say("info", `Your ${provider} account needs you. Press Reconnect to sign in again.`);
    card?.querySelector("button.reconnect-here, button.reconnect")?.focus();
  }

  #cardOf(id) {
    return [...this.shadowRoot.querySelectorAll("li.account")].find(
      (li) => li.dataset.accountId === id,
    );
  }

  #onAccountAction(event) {
    const button = event.target.closest("button");
    const card = button?.closest("li.account");
    if (!card) return;
    const account = this.#accounts.find((a) => a.account_id === card.dataset.accountId);
    if (!account) return;
    if (button.classList.contains("reconnect")) this.#reconnect(account, button);
    if (button.classList.contains("reconnect-here")) {
      this.#openWizard({ provider: account.type, account, opener: button });
    }
    if (button.classList.contains("disconnect")) this.#askToDisconnect(account, button);
  }

  async #connect(submitter) {
    const choice = this.#q("select").value;
    const ways = connectWays(choice, this.#connectMode);
    const asked = submitter?.value;
    const way = ways.includes(asked) ? asked : ways[0];
    if (way === "custom") {
      this.#openWizard({ provider: choice, account: null, opener: this.#q("form.connect button.custom") });
      return;
    }
    const button = this.#q("form.connect button.hosted");
    const providers = choice === "*" ? this.#offered() : [choice];
    await this.#goToHosted(button, providers);
  }

  async #goToHosted(button, providers) {
    await this.#goToHostedPage(button, "connect", "connect-started", { providers }, (urls) =>
      this.#client().createLink({ providers: wireProviders(providers), ...urls }),
    );
  }

  #offered() {
    return parseProviderList(this.getAttribute("providers"));
  }

  async #reconnect(account, button) {
    await this.#goToHostedPage(
      button,
      "reconnect",
      "reconnect-started",
      { accountId: account.account_id, type: account.type },
      (urls) => this.#client().reconnectLink({ accountId: account.account_id, ...urls }),
    );
  }

  // Asks for a link, tells the host page (which may cancel and navigate itself), then goes
  // there in this tab: hosted auth must be a full page, never a frame or a popup, as provider
  // captchas and OAuth screens break there.
  async #goToHostedPage(button, action, eventName, detail, ask) {
    button.disabled = true;
    button.setAttribute("aria-busy", "true");
    this.#clearProblem();
    this.#say("info", "Opening the connection page…");
    try {
      const link = await ask(redirectUrls(location, action));
      const proceed = this.#emit(eventName, { ...detail, url: link.url }, { cancelable: true });
      if (proceed) location.assign(link.url);
      else this.#say("", "");
    } catch (error) {
      this.#say("", "");
      this.#fail(action, error);
    } finally {
      button.disabled = false;
      button.removeAttribute("aria-busy");
    }
  }

  // Connecting (or reconnecting) here: the wizard takes the connect form's place until the
  // account is connected, the user cancels, or they choose the hosted page instead.
  #openWizard({ provider, account, opener }) {
    this.#closeWizard();
    this.#clearProblem();
    this.#say("", "");
    const reconnect = Boolean(account);
    const detail = (step, reason) => {
      const about = { provider, step, reconnect };
      if (account) about.accountId = account.account_id;
      if (reason) about.reason = reason;
      return about;
    };
    const wizard = new ConnectWizard({
      api: this.#client(),
      provider,
      reconnectId: account?.account_id ?? null,
      locale: this.#locale,
      on: {
        step: (step, reason) => this.#emit("connect-step", detail(step, reason)),
        connected: ({ accountId }) => this.#wizardConnected({ provider, accountId, reconnect }),
        cancel: () => {
          this.#emit("connect-step", detail("cancelled"));
          this.#closeWizard();
          (opener?.isConnected ? opener : this.#q("form.connect button:not([hidden])"))?.focus();
        },
        hosted: () => {
          this.#closeWizard();
          const button = opener?.isConnected ? opener : this.#q("form.connect button.hosted");
          if (account) this.#reconnect(account, button);
          else this.#goToHosted(button, [provider]);
        },
        signedOut: (error) => {
          this.#closeWizard();
          this.#fail(reconnect ? "reconnect" : "connect", error);
        },
      },
    });
    this.#wizard = wizard;
    this.#q("form.connect").hidden = true;
    this.#q(".wizard-slot").append(wizard.root);
    wizard.open();
  }

  #closeWizard() {
    if (!this.#wizard) return;
    this.#wizard.close();
    this.#wizard.root.remove();
    this.#wizard = null;
    this.#q("form.connect").hidden = false;
  }

  async #wizardConnected({ provider, accountId, reconnect }) {
    this.#closeWizard();
    const outcome = reconnect ? "reconnected" : "connected";
    const name = providerName(provider);
    this.#say("ok", `Your ${name} account is ${outcome}.`, { focus: true });
    this.#emit("connected", { outcome, accountId, provider, via: "here" });
    await this.refresh();
    this.#cardOf(accountId)?.classList.add("fresh");
  }

  #askToDisconnect(account, button) {
    const provider = providerName(account.type);
    const who = account.name ? ` (${account.name})` : "";
    this.#q("#confirm-title").textContent = `Disconnect ${provider}${who}?`;
    this.#q("#confirm-text").textContent =
      `The ${provider} account stops syncing and is removed from your list. You can connect it again later.`;
    this.#confirmFor = { account, button };
    const dialog = this.#q("dialog.confirm");
    dialog.returnValue = "";
    dialog.showModal();
  }

  async #onConfirmClosed() {
    const dialog = this.#q("dialog.confirm");
    const pending = this.#confirmFor;
    this.#confirmFor = null;
    if (!pending) return;
    if (dialog.returnValue !== "disconnect") {
      pending.button.focus();
      return;
    }
    const { account } = pending;
    const provider = providerName(account.type);
    try {
      await this.#client().disconnect(account.account_id);
      this.#emit("disconnected", { accountId: account.account_id, type: account.type });
      await this.refresh();
      this.#say("ok", `Your ${provider} account is disconnected.`, { focus: true });
    } catch (error) {
      if (error instanceof ApiError && error.kind === "not-found") {
        await this.refresh();
        this.#say("ok", `That ${provider} account was already disconnected.`, { focus: true });
        return;
      }
      this.#fail("disconnect", error);
      pending.button.focus();
    }
  }

  #say(tone, text, { focus = false } = {}) {
    const outcome = this.#q(".notice.outcome");
    outcome.dataset.tone = tone;
    outcome.replaceChildren();
    if (!text) return;
    outcome.append(element("p", {}, text));
    if (focus) outcome.focus();
  }

  #fail(action, error) {
    const problem = error instanceof ApiError ? error : new ApiError("server", { cause: error });
    this.#showProblem(action, problem);
    this.#emit("error", {
      action,
      kind: problem.kind,
      status: problem.status,
      message: this.#q(".notice.problem p")?.textContent ?? problem.message,
    });
  }

  #showProblem(action, problem) {
    let key = problem.kind;
    if (key === "signed-out") key = problem.status === 401 ? "signed-out-expired" : "signed-out-none";
    if (key === "unavailable" && problem.isUnipile) key = "unavailable-unipile";
    const text = (PROBLEM_WORDS[key] ?? PROBLEM_WORDS.server)
      .replace("{what}", WHAT[action] ?? "do that")
      .replace("{detail}", problem.problem?.detail ?? problem.problem?.title ?? "no reason given");
    const box = this.#q(".notice.problem");
    box.dataset.kind = problem.kind;
    box.replaceChildren(element("p", {}, text));
    // A failed action is retried by pressing its own button again; only the list has none.
    if (action === "list" && ["network", "unavailable", "server"].includes(problem.kind)) {
      box.append(element("button", { type: "button", class: "retry" }, "Try again"));
    }
  }

  #clearProblem() {
    const box = this.#q(".notice.problem");
    delete box.dataset.kind;
    box.replaceChildren();
  }

  #emit(name, detail, { cancelable = false } = {}) {
    return this.dispatchEvent(
      new CustomEvent(name, { detail, bubbles: true, composed: true, cancelable }),
    );
  }
}

// The API takes "*" for every provider and a list otherwise; "*" is only right when the
// element offers them all.
function wireProviders(providers) {
  const all =
    providers.length === CONNECTABLE_PROVIDERS.length &&
    CONNECTABLE_PROVIDERS.every((name) => providers.includes(name));
  return all ? "*" : providers;
}

function fact(label, value) {
  const row = element("div");
  row.append(element("dt", {}, label));
  const dd = element("dd");
  dd.append(value);
  row.append(dd);
  return row;
}

function timeElement(value, format) {
  const time = element("time", { datetime: value });
  time.dataset.format = format;
  return time;
}

if (!customElements.get("unipile-accounts")) {
  customElements.define("unipile-accounts", UnipileAccounts);
}
