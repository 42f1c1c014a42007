// The sign-in form of each provider the element connects here: its fields (named as the
// API's POST /accounts/connect names them), and the request body they make.
//
// Secrets (passwords, the phone number) leave the form once read: `clearSecrets()` empties
// them after every submit, so that nothing typed stays in the page.

import { element } from "./dom.js";
import { providerName } from "./providers.js";

const PASSWORD = { type: "password", autocomplete: "current-password", secret: true };

// What each provider asks, in order. `optional` fields are sent only when filled in.
const FIELDS = {
  LINKEDIN: [
    { name: "username", label: "Email or phone number", autocomplete: "username", inputmode: "email" },
    { name: "password", label: "LinkedIn password", ...PASSWORD },
  ],
  INSTAGRAM: [
    { name: "username", label: "Instagram username", autocomplete: "username" },
    { name: "password", label: "Instagram password", ...PASSWORD },
  ],
  MESSENGER: [
    { name: "username", label: "Facebook email or phone number", autocomplete: "username", inputmode: "email" },
    { name: "password", label: "Facebook password", ...PASSWORD },
  ],
  TWITTER: [
    { name: "username", label: "Username, email or phone number", autocomplete: "username" },
    { name: "password", label: "X password", ...PASSWORD },
    {
      name: "email",
      label: "Email address (optional)",
      type: "email",
      autocomplete: "email",
      optional: true,
      hint: "X sometimes asks for it to confirm it is you.",
    },
  ],
  WHATSAPP: [
    {
      name: "phone_number",
      label: "Phone number (optional)",
      type: "tel",
      autocomplete: "tel",
      optional: true,
      secret: true,
      hint: "Leave it empty to scan a QR code. With your number, WhatsApp gives you a code to type on your phone instead.",
    },
  ],
  TELEGRAM: [],
};

const INTRO = {
  WHATSAPP: "Link WhatsApp as a device: scan a QR code with your phone, or get a code to type on it.",
  TELEGRAM: "Link Telegram as a device: you scan a QR code with the Telegram app on your phone.",
  INSTAGRAM: "Sign in with your Instagram username, not with Facebook.",
  MAIL: "Your email address, its password and your provider's mail servers (IMAP to read, SMTP to send).",
};

let serial = 0;

/**
 * `{form, read(), clearSecrets(), focus(name)}` for `provider`. `read()` gives the body's
 * provider fields; `focus("password" | "username" | "servers" | name)` puts the cursor
 * where a refusal says the problem is.
 */
export function credentialForm(provider, { reconnect = false } = {}) {
  const prefix = `cred-${++serial}`;
  const form = element("form", { class: "credentials", "data-provider": provider });
  if (INTRO[provider] && !(provider === "MAIL" && reconnect)) {
    form.append(element("p", { class: "hint" }, INTRO[provider]));
  }
  if (provider === "MAIL") {
    for (const part of reconnect ? mailReconnectFields(prefix) : mailFields(prefix)) form.append(part);
  } else {
    for (const spec of FIELDS[provider] ?? []) form.append(field(prefix, spec));
  }
  const submit = element(
    "button",
    { type: "submit", class: "primary" },
    submitWords(provider, reconnect),
  );
  form.append(element("div", { class: "step-actions" }));
  form.lastChild.append(submit);

  const input = (name) => form.elements.namedItem(name);
  return {
    form,
    read() {
      const body = {};
      for (const control of form.querySelectorAll("input[name], select[name]")) {
        if (control.disabled || control.type === "checkbox" || !control.dataset.field) continue;
        const value = control.value.trim();
        if (value === "" && control.dataset.optional === "true") continue;
        // Passwords are sent as typed: a leading space may be part of one.
        const raw = control.dataset.secret === "true" && control.type !== "tel" ? control.value : value;
        body[control.name] = control.dataset.number === "true" ? Number(value) : raw;
      }
      return body;
    },
    clearSecrets() {
      for (const control of form.querySelectorAll("input[data-secret='true']")) {
        control.value = "";
        if (control.dataset.revealable === "true") control.type = "password";
      }
      for (const toggle of form.querySelectorAll("button.reveal")) {
        toggle.setAttribute("aria-pressed", "false");
      }
    },
    focus(name) {
      const target =
        name === "servers"
          ? input("imap_host")
          : name === "password"
            ? input("password") ?? input("imap_password")
            : name === "username"
              ? input("username") ?? input("imap_user") ?? input("imap_password")
              : input(name);
      (target ?? form.querySelector("input, select, button"))?.focus();
    },
  };
}

function submitWords(provider, reconnect) {
  if (provider === "TELEGRAM") return "Show the QR code";
  if (provider === "WHATSAPP") return "Continue";
  return reconnect ? `Reconnect ${providerName(provider)}` : "Sign in";
}

function field(prefix, spec) {
  const id = `${prefix}-${spec.name}`;
  const wrap = element("div", { class: "field", "data-name": spec.name });
  wrap.append(element("label", { for: id }, spec.label));
  const describedBy = spec.hint ? `${id}-hint` : null;
  const attributes = {
    id,
    name: spec.name,
    type: spec.type ?? "text",
    autocomplete: spec.autocomplete ?? "off",
    inputmode: spec.inputmode,
    required: !spec.optional,
    "aria-describedby": describedBy,
    spellcheck: "false",
    autocapitalize: "off",
    min: spec.min,
    max: spec.max,
  };
  const input = element("input", attributes);
  input.dataset.field = "true";
  if (spec.optional) input.dataset.optional = "true";
  if (spec.secret) input.dataset.secret = "true";
  if (spec.number) input.dataset.number = "true";
  if (spec.value !== undefined) input.value = spec.value;
  if (spec.type === "password") {
    input.dataset.revealable = "true";
    const row = element("div", { class: "password-row" });
    const toggle = element(
      "button",
      { type: "button", class: "reveal", "aria-pressed": "false", "aria-controls": id },
      "Show",
    );
    // "Show password", "Show LinkedIn password": brand names keep their capitals.
    const named = spec.label.replace(/^(Password|Email)\b/, (word) => word.toLowerCase());
    toggle.setAttribute("aria-label", `Show ${named}`);
    toggle.addEventListener("click", () => {
      const shown = input.type === "password";
      input.type = shown ? "text" : "password";
      toggle.setAttribute("aria-pressed", String(shown));
    });
    row.append(input, toggle);
    wrap.append(row);
  } else {
    wrap.append(input);
  }
  if (spec.hint) wrap.append(element("p", { class: "hint", id: describedBy }, spec.hint));
  return wrap;
}

function select(prefix, { name, label, options, value }) {
  const id = `${prefix}-${name}`;
  const wrap = element("div", { class: "field", "data-name": name });
  wrap.append(element("label", { for: id }, label));
  const control = element("select", { id, name });
  control.dataset.field = "true";
  control.dataset.optional = "true";
  for (const [optionValue, words] of options) control.append(new Option(words, optionValue));
  control.value = value;
  wrap.append(control);
  return wrap;
}

// "Same as IMAP": checked hides the SMTP fields and keeps them out of the body.
function sameAsImap(prefix, words, fields) {
  const id = `${prefix}-smtp-same`;
  const wrap = element("div", { class: "field checkbox" });
  const box = element("input", { id, type: "checkbox", name: "smtp_same" });
  box.checked = true;
  wrap.append(box, element("label", { for: id }, words));
  const group = element("div", { class: "smtp-own", hidden: true });
  for (const part of fields) group.append(part);
  const apply = () => {
    group.hidden = box.checked;
    for (const control of group.querySelectorAll("input")) control.disabled = box.checked;
  };
  box.addEventListener("change", apply);
  apply();
  return [wrap, group];
}

function mailFields(prefix) {
  const user = field(prefix, {
    name: "imap_user",
    label: "Email address",
    type: "email",
    autocomplete: "email",
  });
  const password = field(prefix, { name: "imap_password", label: "Password", ...PASSWORD });
  const servers = element("fieldset", { class: "servers" });
  servers.append(element("legend", {}, "Mail servers"));
  const imapHost = field(prefix, {
    name: "imap_host",
    label: "IMAP server (incoming)",
    hint: "For example imap.example.com",
  });
  const imapPort = field(prefix, {
    name: "imap_port",
    label: "IMAP port",
    type: "number",
    inputmode: "numeric",
    number: true,
    value: "993",
    min: "1",
    max: "65535",
  });
  const security = select(prefix, {
    name: "imap_encryption",
    label: "IMAP security",
    value: "SSL",
    options: [
      ["SSL", "SSL"],
      ["TLS", "TLS"],
      ["STARTTLS", "STARTTLS"],
    ],
  });
  const smtpHost = field(prefix, {
    name: "smtp_host",
    label: "SMTP server (outgoing)",
    hint: "For example smtp.example.com",
  });
  const smtpPort = field(prefix, {
    name: "smtp_port",
    label: "SMTP port",
    type: "number",
    inputmode: "numeric",
    number: true,
    value: "465",
    min: "1",
    max: "65535",
  });
  const [same, own] = sameAsImap(
    prefix,
    "The SMTP server uses the same username and password",
    [
      field(prefix, { name: "smtp_user", label: "SMTP username", autocomplete: "off" }),
      field(prefix, { name: "smtp_password", label: "SMTP password", ...PASSWORD, autocomplete: "off" }),
    ],
  );
  servers.append(imapHost, imapPort, security, smtpHost, smtpPort, same, own);

  // The usual server names follow from the address until the user types their own.
  const email = user.querySelector("input");
  const hosts = [
    [imapHost.querySelector("input"), "imap"],
    [smtpHost.querySelector("input"), "smtp"],
  ];
  for (const [input] of hosts) input.addEventListener("input", () => (input.dataset.typed = "true"));
  email.addEventListener("change", () => {
    const domain = email.value.split("@")[1]?.trim().toLowerCase();
    if (!domain) return;
    for (const [input, name] of hosts) {
      if (input.dataset.typed !== "true") input.value = `${name}.${domain}`;
    }
  });
  return [user, password, servers];
}

function mailReconnectFields(prefix) {
  const password = field(prefix, { name: "imap_password", label: "Email password", ...PASSWORD });
  const [same, own] = sameAsImap(prefix, "The SMTP server uses the same password", [
    field(prefix, { name: "smtp_password", label: "SMTP password", ...PASSWORD, autocomplete: "off" }),
  ]);
  return [password, same, own];
}
