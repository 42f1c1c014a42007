// Connecting an account here, in the page, step by step: the provider's sign-in form, then
// whatever the provider asks next (a QR code to scan, a pairing code to type on the phone, a
// code it sent, an approval in its app, a phone number, a contract to choose), until the
// account is connected; or, when it refuses, why in plain words and the way forward.
//
// The wizard is a part of <unipile-accounts>: it renders into the element's shadow root and
// tells the element what happened through the callbacks it is built with. Every step's
// container carries `data-step` (credentials, qrcode, pairing, code, approve, phone,
// contract, waiting, refused). Nothing the user typed (password, code, phone number) stays in
// the page once sent, nor goes into a callback.

import { ApiError } from "./api.js";
import { credentialForm } from "./credential-forms.js";
import { element } from "./dom.js";
import { providerName } from "./providers.js";
import { qrImageSource } from "./qr-code.js";
import { refusalOf } from "./refusal-words.js";
import { countdownClock } from "./time-words.js";

// After a failed wait (the network, a busy API), the next try comes this much later.
const POLL_PAUSE_MS = 4000;
// The seconds left at which the status region speaks (it never counts every second).
const SPOKEN_MARKS = [60, 15];

// How to reach the linking screen on the phone, per provider that links by QR code.
const QR_STEPS = {
  WHATSAPP: [
    "Open WhatsApp on your phone.",
    "Go to Settings › Linked devices › Link a device.",
    "Point your phone at this code.",
  ],
  TELEGRAM: [
    "Open Telegram on your phone.",
    "Go to Settings › Devices › Link Desktop Device.",
    "Point your phone at this code.",
  ],
};

export class ConnectWizard {
  #api;
  #provider;
  #reconnectId;
  #locale;
  #on;
  #root;
  #body;
  #status;
  #step = null;
  #stepToken = 0;
  #accountId = null;
  // WhatsApp's number, kept in memory only while the wizard is open, to renew a pairing code.
  #phoneNumber = null;
  #credentials = null;
  #busy = false;
  #timers = new Set();
  #poll = null;
  #closed = false;
  #renewing = false;

  /**
   * @param {object} options
   * @param {import("./api.js").AccountsApi} options.api
   * @param {string} options.provider   e.g. "LINKEDIN"
   * @param {string|null} [options.reconnectId]   the account being reconnected
   * @param {string} [options.locale]
   * @param {object} options.on   callbacks: step(step, reason), connected({accountId}),
   *   hosted() (go to Unipile's page instead), cancel(), signedOut(error)
   */
  constructor({ api, provider, reconnectId = null, locale, on }) {
    this.#api = api;
    this.#provider = provider;
    this.#reconnectId = reconnectId;
    this.#locale = locale;
    this.#on = on;
    const name = providerName(provider);
    this.#root = element("section", {
      class: "wizard",
      "aria-label": reconnectId ? `Reconnect ${name}` : `Connect ${name}`,
      "data-provider": provider,
    });
    this.#body = element("div", { class: "wizard-body" });
    this.#status = element("p", {
      class: "wizard-status",
      role: "status",
      "aria-live": "polite",
    });
    const foot = element("div", { class: "wizard-foot" });
    const cancel = element("button", { type: "button", class: "cancel" }, "Cancel");
    cancel.addEventListener("click", () => this.#cancel());
    foot.append(cancel);
    this.#root.append(this.#body, this.#status, foot);
    this.#root.addEventListener("keydown", (event) => {
      if (event.key === "Escape" && !event.defaultPrevented) {
        event.preventDefault();
        this.#cancel();
      }
    });
  }

  /** The wizard's section, for the element to place. */
  get root() {
    return this.#root;
  }

  get step() {
    return this.#step;
  }

  /** Shows the first step. */
  open() {
    this.#credentialsStep();
  }

  /** Stops every wait and timer; the element removes the section. */
  close() {
    this.#closed = true;
    this.#leaveStep();
  }

  get #name() {
    return providerName(this.#provider);
  }

  // ---- steps ----------------------------------------------------------------------------

  #credentialsStep(refusal) {
    this.#accountId = null;
    const reconnect = Boolean(this.#reconnectId);
    const title = reconnect ? `Sign in again to ${this.#name}` : `Connect ${this.#name}`;
    const step = this.#show("credentials", title, refusal?.slug);
    const credentials = credentialForm(this.#provider, { reconnect });
    credentials.form.addEventListener("submit", (event) => {
      event.preventDefault();
      if (this.#busy) return;
      const fields = credentials.read();
      credentials.clearSecrets();
      this.#phoneNumber = fields.phone_number ?? null;
      this.#start(fields);
    });
    step.append(credentials.form);
    this.#credentials = credentials;
    if (refusal) this.#problem(refusal.text);
  }

  #qrStep(checkpoint) {
    const step = this.#show("qrcode", `Scan the QR code with ${this.#name}`);
    const steps = QR_STEPS[this.#provider] ?? [
      `Open ${this.#name} on your phone and scan this code.`,
    ];
    const list = element("ol", { class: "instructions" });
    for (const line of steps) list.append(element("li", {}, line));
    const picture = element("div", { class: "qr" });
    const image = element("img", {
      alt: `QR code to link ${this.#name}`,
      width: "240",
      height: "240",
    });
    picture.append(image);
    const token = this.#stepToken;
    qrImageSource(checkpoint)
      .then((source) => {
        if (token !== this.#stepToken) return;
        if (source) image.src = source;
        else this.#problem("The QR code could not be shown. Press New code to get another.");
      })
      .catch(() => {
        if (token === this.#stepToken) {
          this.#problem("The QR code could not be drawn. Press New code to get another.");
        }
      });
    const clock = element("p", { class: "countdown" });
    const actions = element("div", { class: "step-actions" });
    const renew = element("button", { type: "button", class: "new-code" }, "New code");
    renew.addEventListener("click", () => this.#renew());
    actions.append(renew);
    if (this.#provider === "WHATSAPP") {
      const byNumber = element(
        "button",
        { type: "button", class: "by-number" },
        "Use a phone number instead",
      );
      byNumber.addEventListener("click", () => this.#credentialsStep());
      actions.append(byNumber);
    }
    step.append(list, picture, clock, actions);
    this.#say("Waiting for you to scan the code.");
    const expired = () => {
      picture.classList.add("expired");
      image.alt = "Expired QR code";
      this.#stopPolling();
      this.#say("The code has expired. Press New code to get another.");
      renew.classList.add("primary");
    };
    const stopClock = this.#countdown(checkpoint.expires_at, clock, expired);
    // The server's word ends the wait even while this device's clock still counts.
    this.#startPolling(() => {
      stopClock();
      expired();
    });
  }

  #pairingStep(checkpoint) {
    const step = this.#show("pairing", "Type this code on your phone");
    const code = String(checkpoint.pairing_code ?? checkpoint.code ?? "");
    step.append(
      element(
        "p",
        {},
        `Open ${this.#name} › Linked devices › Link with phone number, and type this code:`,
      ),
      pairingCode(code),
    );
    const clock = element("p", { class: "countdown" });
    const actions = element("div", { class: "step-actions" });
    const renew = element("button", { type: "button", class: "new-code" }, "New code");
    renew.addEventListener("click", () => this.#renew());
    actions.append(renew);
    step.append(clock, actions);
    this.#say("Waiting for you to type the code on your phone.");
    const expired = () => {
      this.#stopPolling();
      this.#say("The code has expired. Press New code to get another.");
      renew.classList.add("primary");
    };
    const stopClock = this.#countdown(checkpoint.expires_at, clock, expired);
    this.#startPolling(() => {
      stopClock();
      expired();
    });
  }

  #codeStep(checkpoint) {
    const type = String(checkpoint.type ?? "");
    const known = type === "2FA" || type === "OTP";
    const step = this.#show("code", codeTitle(type, this.#name));
    step.dataset.checkpoint = type;
    step.append(element("p", {}, codeHint(checkpoint, this.#name)));
    const form = element("form", { class: "code-form" });
    const wrap = element("div", { class: "field", "data-name": "code" });
    wrap.append(element("label", { for: "wizard-code" }, known ? "Code" : `Code (${type})`));
    const input = element("input", {
      id: "wizard-code",
      name: "code",
      type: "text",
      autocomplete: "one-time-code",
      inputmode: known ? "numeric" : "text",
      required: true,
      spellcheck: "false",
      autocapitalize: "off",
    });
    wrap.append(input);
    form.append(wrap);
    const actions = element("div", { class: "step-actions" });
    actions.append(element("button", { type: "submit", class: "primary" }, "Verify"));
    if (checkpoint.can_resend) {
      const resend = element("button", { type: "button", class: "resend" }, "Send a new code");
      resend.addEventListener("click", () => this.#resend(resend));
      actions.append(resend);
    }
    form.append(actions);
    form.addEventListener("submit", (event) => {
      event.preventDefault();
      if (this.#busy) return;
      const code = input.value.trim();
      input.value = "";
      if (code) this.#solve(code);
    });
    const clock = element("p", { class: "countdown" });
    step.append(form, clock);
    this.#countdown(checkpoint.expires_at, clock, () => this.#expired());
  }

  #approveStep(checkpoint) {
    const step = this.#show("approve", `Approve the sign-in in your ${this.#name} app`);
    step.append(
      element(
        "p",
        {},
        `Open the ${this.#name} app on your phone and confirm that it is you signing in. This page goes on by itself once you have.`,
      ),
      element("p", { class: "waiting" }, "Waiting for your approval…"),
    );
    const clock = element("p", { class: "countdown" });
    const actions = element("div", { class: "step-actions" });
    const another = element("button", { type: "button", class: "another-way" }, "Use a code instead");
    another.addEventListener("click", () => this.#solve("TRY_ANOTHER_WAY"));
    actions.append(another);
    step.append(clock, actions);
    this.#say(`Waiting for your approval in the ${this.#name} app.`);
    this.#countdown(checkpoint.expires_at, clock, () => this.#expired());
    this.#startPolling(() => this.#expired());
  }

  #phoneStep(checkpoint) {
    const step = this.#show("phone", `Add a phone number to ${this.#name}`);
    step.append(
      element(
        "p",
        {},
        `${this.#name} asks for a mobile phone number to send you a security code.`,
      ),
    );
    const form = element("form", { class: "phone-form" });
    const country = element("div", { class: "field country", "data-name": "dialling_code" });
    country.append(element("label", { for: "wizard-dialling-code" }, "Country code"));
    const dialling = element("input", {
      id: "wizard-dialling-code",
      name: "dialling_code",
      type: "tel",
      autocomplete: "tel-country-code",
      inputmode: "tel",
      required: true,
      pattern: "\\+?[0-9]{1,4}",
      placeholder: "+33",
      "aria-describedby": "wizard-dialling-hint",
    });
    country.append(dialling, element("p", { class: "hint", id: "wizard-dialling-hint" }, "For example +33 or +1"));
    const local = element("div", { class: "field", "data-name": "national_number" });
    local.append(element("label", { for: "wizard-national-number" }, "Phone number"));
    const national = element("input", {
      id: "wizard-national-number",
      name: "national_number",
      type: "tel",
      autocomplete: "tel-national",
      inputmode: "tel",
      required: true,
    });
    local.append(national);
    const row = element("div", { class: "phone-row" });
    row.append(country, local);
    const actions = element("div", { class: "step-actions" });
    actions.append(element("button", { type: "submit", class: "primary" }, "Send the code"));
    form.append(row, actions);
    form.addEventListener("submit", (event) => {
      event.preventDefault();
      if (this.#busy) return;
      const code = phoneCode(dialling.value, national.value);
      dialling.value = "";
      national.value = "";
      if (code) this.#solve(code);
      else this.#problem("Type the country code (such as +33) and the phone number.");
    });
    const clock = element("p", { class: "countdown" });
    step.append(form, clock);
    this.#countdown(checkpoint.expires_at, clock, () => this.#expired());
  }

  #contractStep(checkpoint) {
    const step = this.#show("contract", `Choose the ${this.#name} contract`);
    const options = Array.isArray(checkpoint.contract_options) ? checkpoint.contract_options : [];
    const form = element("form", { class: "contract-form" });
    const group = element("fieldset", {});
    group.append(element("legend", {}, "Which contract should this account use?"));
    options.forEach((option, index) => {
      const id = `wizard-contract-${index}`;
      const row = element("div", { class: "field checkbox" });
      const radio = element("input", {
        id,
        type: "radio",
        name: "contract",
        value: String(option.id),
        required: true,
      });
      if (options.length === 1) radio.checked = true;
      row.append(radio, element("label", { for: id }, option.name || String(option.id)));
      group.append(row);
    });
    const actions = element("div", { class: "step-actions" });
    actions.append(element("button", { type: "submit", class: "primary" }, "Continue"));
    form.append(group, actions);
    form.addEventListener("submit", (event) => {
      event.preventDefault();
      if (this.#busy) return;
      const chosen = form.querySelector("input[name=contract]:checked");
      if (chosen) this.#solve(chosen.value);
    });
    const clock = element("p", { class: "countdown" });
    step.append(form, clock);
    this.#countdown(checkpoint.expires_at, clock, () => this.#expired());
  }

  // A sign-in started earlier (in another tab, say) that is still waiting: wait for it here.
  #waitingStep(accountId) {
    this.#accountId = accountId;
    const step = this.#show("waiting", `Finishing your ${this.#name} sign-in`);
    step.append(
      element(
        "p",
        {},
        "Complete the sign-in where it started (scan the code, type the code or approve it in the app). This page goes on by itself once you have.",
      ),
      element("p", { class: "waiting" }, "Waiting…"),
    );
    this.#say("Waiting for the sign-in already under way.");
    this.#startPolling(() => this.#expired());
  }

  #refusedStep(refusal) {
    const step = this.#show("refused", "Not connected", refusal.slug);
    step.dataset.reason = refusal.slug;
    step.append(element("p", { class: "refusal" }, refusal.text));
    // The heading takes the focus; the status region reads out why.
    this.#say(refusal.text);
    const actions = element("div", { class: "step-actions" });
    const words = {
      hosted: "Use the secure page instead",
      restart: "Start again",
      retry: "Try again",
      continue: "Continue that sign-in",
      close: "Close",
    };
    (refusal.actions ?? ["restart", "close"]).forEach((action, index) => {
      const button = element(
        "button",
        { type: "button", class: `${index === 0 ? "primary " : ""}${action}` },
        words[action],
      );
      button.dataset.action = action;
      button.addEventListener("click", () => {
        if (action === "hosted") this.#on.hosted();
        else if (action === "close") this.#cancel();
        else if (action === "continue") this.#waitingStep(refusal.accountId);
        else this.#credentialsStep();
      });
      actions.append(button);
    });
    step.append(actions);
  }

  #expired() {
    this.#refusedStep(refusalOf(new ApiError("refused", {
      status: 410,
      problem: { type: "urn:unipile-connect:problem:checkpoint-expired" },
    }), { provider: this.#provider }));
  }

  // ---- calls ----------------------------------------------------------------------------

  #start(fields, { renew = null } = {}) {
    const body = { provider: this.#provider, ...fields };
    if (this.#reconnectId) body.reconnect_account = this.#reconnectId;
    if (renew) body.renew = renew;
    this.#say(renew ? "Getting a new code…" : "Signing in…");
    return this.#request(() => this.#api.startConnect(body), "start");
  }

  #renew() {
    if (this.#busy) return;
    this.#renewing = true;
    const fields = this.#provider === "WHATSAPP" && this.#phoneNumber ? { phone_number: this.#phoneNumber } : {};
    this.#start(fields, { renew: this.#accountId });
  }

  #solve(code) {
    const accountId = this.#accountId;
    this.#say("Checking…");
    return this.#request(() => this.#api.solveCheckpoint({ accountId, code }), "code");
  }

  async #resend(button) {
    if (this.#busy || !this.#accountId) return;
    const token = this.#stepToken;
    this.#setBusy(true);
    try {
      await this.#api.resendCheckpoint(this.#accountId);
      if (token !== this.#stepToken || this.#closed) return;
      this.#problem("");
      this.#say("A new code is on its way.");
    } catch (error) {
      if (token !== this.#stepToken || this.#closed) return;
      if (error instanceof ApiError && error.status === 429) {
        this.#holdResend(button, error.retryAfter ?? 30);
      } else {
        this.#react(error, "resend");
      }
    } finally {
      if (token === this.#stepToken) this.#setBusy(false);
    }
  }

  // The resend button counts down to when the provider allows another code.
  #holdResend(button, seconds) {
    const until = Date.now() + seconds * 1000;
    button.dataset.held = "true";
    button.disabled = true;
    this.#say(`You can ask for a new code in ${Math.ceil(seconds)} seconds.`);
    const tick = () => {
      const left = (until - Date.now()) / 1000;
      if (left <= 0) {
        delete button.dataset.held;
        button.disabled = this.#busy;
        button.textContent = "Send a new code";
        clearInterval(timer);
        this.#timers.delete(timer);
        return;
      }
      button.textContent = `Send a new code (${countdownClock(left)})`;
    };
    const timer = setInterval(tick, 1000);
    this.#timers.add(timer);
    tick();
  }

  async #request(call, during) {
    if (this.#busy) return;
    const token = this.#stepToken;
    this.#setBusy(true);
    this.#problem("");
    try {
      const answer = await call();
      if (this.#closed || token !== this.#stepToken) return;
      this.#setBusy(false);
      this.#answer(answer);
    } catch (error) {
      this.#renewing = false;
      if (this.#closed || token !== this.#stepToken) return;
      this.#setBusy(false);
      this.#say("");
      this.#react(error, during);
    }
  }

  #answer(answer) {
    if (answer?.status === "connected") {
      this.#done(answer.account_id ?? this.#accountId);
      return;
    }
    if (answer?.status !== "checkpoint" || !answer.checkpoint) {
      this.#react(new ApiError("server"), "start");
      return;
    }
    this.#accountId = answer.account_id ?? this.#accountId;
    this.#say("");
    const checkpoint = answer.checkpoint;
    const type = String(checkpoint.type ?? "").toUpperCase();
    if (type === "QRCODE") this.#qrStep(checkpoint);
    else if (checkpoint.pairing_code || type.includes("PAIRING")) this.#pairingStep(checkpoint);
    else if (type === "IN_APP_VALIDATION") this.#approveStep(checkpoint);
    else if (type === "PHONE_REGISTER") this.#phoneStep(checkpoint);
    else if (type === "CONTRACT_CHOOSER") this.#contractStep(checkpoint);
    else if (type === "CAPTCHA") {
      this.#refusedStep(refusalOf(new ApiError("refused", {
        status: 422,
        problem: { type: "urn:unipile-connect:problem:captcha-required" },
      }), { provider: this.#provider }));
    } else this.#codeStep(checkpoint);
  }

  #react(error, during) {
    if (error?.name === "AbortError") return;
    const refusal = refusalOf(error, {
      provider: this.#provider,
      reconnect: Boolean(this.#reconnectId),
      during,
      locale: this.#locale,
    });
    if (refusal.go === "leaves") {
      this.#on.signedOut(error);
      return;
    }
    if (refusal.go === "refused") {
      this.#refusedStep(refusal);
      return;
    }
    if (refusal.go === "credentials") {
      if (this.#step !== "credentials" || !this.#credentials) this.#credentialsStep(refusal);
      else {
        this.#problem(refusal.text);
        this.#on.step("credentials", refusal.slug);
      }
      this.#credentials?.focus(refusal.focus);
      return;
    }
    // Stay: the words above the step's form; the user fixes it and tries again.
    this.#problem(refusal.text);
    this.#on.step(this.#step, refusal.slug);
    if (refusal.retryAfter) this.#holdSubmit(refusal.retryAfter);
    const input = this.#body.querySelector("input:not([type=hidden]):not([disabled])");
    if (refusal.focus === "code" && input) input.focus();
  }

  // Too many attempts: the step's main button waits until the provider allows another.
  #holdSubmit(seconds) {
    const button = this.#body.querySelector("button[type=submit], button.new-code");
    if (!button) return;
    button.dataset.held = "true";
    button.disabled = true;
    const timer = setTimeout(() => {
      this.#timers.delete(timer);
      delete button.dataset.held;
      button.disabled = this.#busy;
    }, seconds * 1000);
    this.#timers.add(timer);
  }

  // ---- waiting --------------------------------------------------------------------------

  #startPolling(onExpired) {
    this.#stopPolling();
    const controller = new AbortController();
    this.#poll = controller;
    const accountId = this.#accountId;
    const token = this.#stepToken;
    const still = () => !controller.signal.aborted && token === this.#stepToken && !this.#closed;
    (async () => {
      while (still()) {
        try {
          const answer = await this.#api.connectStatus(accountId, { signal: controller.signal });
          if (!still()) return;
          if (answer?.status === "connected") {
            this.#done(accountId);
            return;
          }
          if (answer?.status === "expired") {
            onExpired();
            return;
          }
        } catch (error) {
          if (!still() || error?.name === "AbortError") return;
          if (error instanceof ApiError && (error.kind === "signed-out" || error.kind === "not-found")) {
            this.#react(error, "wait");
            return;
          }
          await this.#pause(POLL_PAUSE_MS);
        }
      }
    })();
  }

  #stopPolling() {
    this.#poll?.abort();
    this.#poll = null;
  }

  #pause(ms) {
    return new Promise((resolve) => {
      const timer = setTimeout(() => {
        this.#timers.delete(timer);
        resolve();
      }, ms);
      this.#timers.add(timer);
    });
  }

  // A visible clock to `expiresAt`; the status region speaks only at a few marks. Answers a
  // function that stops the clock at "Expired" (when the server says so first), without
  // calling `onExpired`.
  #countdown(expiresAt, clock, onExpired) {
    const end = Date.parse(expiresAt);
    if (Number.isNaN(end)) {
      clock.hidden = true;
      return () => {};
    }
    const stop = () => {
      clock.hidden = false;
      clock.textContent = "Expired";
      clock.dataset.expired = "true";
      clearInterval(timer);
      this.#timers.delete(timer);
    };
    const spoken = new Set();
    const tick = () => {
      const left = (end - Date.now()) / 1000;
      if (left <= 0) {
        stop();
        onExpired();
        return;
      }
      clock.textContent = `Expires in ${countdownClock(left)}`;
      for (const mark of SPOKEN_MARKS) {
        if (left <= mark && !spoken.has(mark) && left > mark - 2) {
          spoken.add(mark);
          this.#say(mark >= 60 ? "About 1 minute left." : `${mark} seconds left.`);
        } else if (left <= mark) spoken.add(mark);
      }
    };
    const timer = setInterval(tick, 1000);
    this.#timers.add(timer);
    // Marks already passed when the step opens are not announced late.
    for (const mark of SPOKEN_MARKS) if ((end - Date.now()) / 1000 <= mark) spoken.add(mark);
    tick();
    return stop;
  }

  // ---- the page -------------------------------------------------------------------------

  #show(step, title, reason) {
    const renewed = this.#renewing && step === this.#step;
    this.#renewing = false;
    this.#leaveStep();
    this.#step = step;
    const container = element("div", { class: "step", "data-step": step });
    const heading = element("h3", { class: "step-title", tabindex: "-1" }, title);
    const problem = element("p", { class: "step-problem", role: "alert" });
    container.append(heading, problem);
    this.#body.replaceChildren(container);
    this.#root.dataset.step = step;
    this.#on.step(step, reason);
    // A renewed code keeps the focus on New code (placed by the step); any other step
    // starts from its heading.
    if (renewed) queueMicrotask(() => container.querySelector("button.new-code")?.focus());
    else heading.focus();
    return container;
  }

  #leaveStep() {
    this.#stepToken += 1;
    this.#stopPolling();
    for (const timer of this.#timers) {
      clearInterval(timer);
      clearTimeout(timer);
    }
    this.#timers.clear();
    this.#busy = false;
    this.#root.removeAttribute("aria-busy");
    this.#credentials = null;
  }

  #problem(text) {
    const box = this.#body.querySelector(".step-problem");
    if (box) box.textContent = text;
  }

  #say(text) {
    this.#status.textContent = text;
  }

  #setBusy(on) {
    this.#busy = on;
    if (on) this.#root.setAttribute("aria-busy", "true");
    else this.#root.removeAttribute("aria-busy");
    for (const button of this.#body.querySelectorAll("button")) {
      button.disabled = on || button.dataset.held === "true";
    }
  }

  #done(accountId) {
    this.#leaveStep();
    this.#phoneNumber = null;
    this.#on.connected({ accountId });
  }

  #cancel() {
    this.#leaveStep();
    this.#phoneNumber = null;
    this.#on.cancel();
  }
}

function codeTitle(type, name) {
  if (type === "2FA") return `Enter your ${name} security code`;
  if (type === "OTP") return `Enter the code ${name} sent you`;
  return `${name} asks for a code`;
}

function codeHint(checkpoint, name) {
  const type = String(checkpoint.type ?? "");
  if (type === "2FA") {
    if (checkpoint.source === "SMS") return `${name} sent a code to your phone by text message.`;
    if (checkpoint.source === "APP") return "Open your authenticator app and type the code it shows.";
    return `Type the two-step verification code for your ${name} account.`;
  }
  if (type === "OTP") return `${name} sent a one-time code to your email or phone.`;
  return `${name} asks for a code of its own (${type || "unnamed"}). Type the code it gave you.`;
}

/** `(+33)0612345678` from "+33" and "06 12 34 56 78", or null when either is missing. */
export function phoneCode(dialling, national) {
  const code = String(dialling ?? "").replace(/\D/g, "");
  const number = String(national ?? "").replace(/\D/g, "");
  return code && number ? `(+${code})${number}` : null;
}

// Shown as it is, read a character at a time ("A B C D, 1 2 3 4") rather than as a word.
function pairingCode(code) {
  const shown = element("p", { class: "pairing-code" });
  shown.append(
    element("span", { "aria-hidden": "true" }, code),
    element(
      "span",
      { class: "visually-hidden" },
      code
        .split("-")
        .map((part) => part.split("").join(" "))
        .join(", "),
    ),
  );
  return shown;
}
