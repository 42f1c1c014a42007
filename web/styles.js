// The element's look. Everything a host page may want to change is a CSS custom property on
// the element (documented in README.md); custom properties cross the shadow boundary, so
//   unipile-accounts { --unipile-accent: #6b21a8; }
// in the host page's stylesheet is all it takes. The defaults meet WCAG AA contrast on the
// default background (4.5:1 for text, 3:1 for focus rings and borders that carry meaning).

export const styles = `
:host {
  --_font: var(--unipile-font, system-ui, -apple-system, "Segoe UI", Roboto, sans-serif);
  --_text: var(--unipile-text, #1f1f1f);
  --_muted: var(--unipile-muted-text, #5c5f63);
  --_background: var(--unipile-background, #ffffff);
  --_surface: var(--unipile-surface, #f6f7f9);
  --_border: var(--unipile-border, #c4c7cc);
  --_accent: var(--unipile-accent, #0b57d0);
  --_accent-text: var(--unipile-accent-text, #ffffff);
  --_danger: var(--unipile-danger, #b3261e);
  --_focus: var(--unipile-focus, #0b57d0);
  --_radius: var(--unipile-radius, 8px);
  --_gap: var(--unipile-gap, 1rem);
  --_ok: var(--unipile-status-ok, #0d652d);
  --_action: var(--unipile-status-action, #8f4700);
  --_problem: var(--unipile-status-problem, #b3261e);
  --_pending: var(--unipile-status-pending, #0b57d0);
  --_status-muted: var(--unipile-status-muted, #5c5f63);

  display: block;
  box-sizing: border-box;
  max-width: 100%;
  font-family: var(--_font);
  color: var(--_text);
  background: var(--_background);
  line-height: 1.45;
}
:host([hidden]) { display: none; }
*, *::before, *::after { box-sizing: inherit; }

h2 { font-size: 1.35rem; margin: 0 0 var(--_gap); }
h3 { font-size: 1.05rem; margin: 0; }
p { margin: 0; }

.visually-hidden {
  position: absolute; width: 1px; height: 1px; margin: -1px; padding: 0;
  overflow: hidden; clip: rect(0 0 0 0); white-space: nowrap; border: 0;
}

.notice {
  border-radius: var(--_radius);
  padding: .75rem 1rem;
  margin: 0 0 var(--_gap);
  border: 1px solid var(--_border);
  background: var(--_surface);
  display: flex; flex-wrap: wrap; gap: .5rem 1rem; align-items: center;
}
.notice:empty { display: none; }
.notice[data-tone="ok"] { border-color: var(--_ok); border-left-width: 6px; }
.notice[data-tone="problem"] { border-color: var(--_problem); border-left-width: 6px; }
.notice[data-tone="info"] { border-color: var(--_pending); border-left-width: 6px; }
.notice p { flex: 1 1 14rem; min-width: 0; overflow-wrap: anywhere; }
.notice:focus { outline: 3px solid var(--_focus); outline-offset: 2px; }

form.connect {
  display: flex; flex-wrap: wrap; gap: .5rem .75rem; align-items: end;
  margin: 0 0 var(--_gap);
}
form.connect .field[hidden] { display: none; }
form.connect .field { display: flex; flex-direction: column; gap: .25rem; flex: 1 1 12rem; min-width: 0; }
form.connect label { font-weight: 600; }

select, button {
  font: inherit;
  min-height: 44px;
  border-radius: var(--_radius);
  border: 1px solid var(--_border);
  padding: .5rem .9rem;
  color: var(--_text);
  background: var(--_background);
  max-width: 100%;
}
select { width: 100%; }
button { cursor: pointer; font-weight: 600; }
button.primary { background: var(--_accent); border-color: var(--_accent); color: var(--_accent-text); }
button.danger { color: var(--_danger); border-color: var(--_danger); }
button.danger.confirm { background: var(--_danger); color: #ffffff; }
button:disabled { opacity: .6; cursor: progress; }
select:focus-visible, button:focus-visible {
  outline: 3px solid var(--_focus);
  outline-offset: 2px;
}

.state { color: var(--_muted); margin: 0 0 var(--_gap); }
.state:empty { display: none; }

ul.accounts { list-style: none; margin: 0; padding: 0; display: grid; gap: .75rem; }
ul.accounts:empty { display: none; }
li.account {
  border: 1px solid var(--_border);
  border-radius: var(--_radius);
  padding: .9rem 1rem;
  background: var(--_background);
  display: grid; gap: .5rem;
  min-width: 0;
}
li.account.requested { outline: 3px solid var(--_action); outline-offset: 2px; }
/* Focused for the user on arrival from the email: show it whatever the browser's heuristics. */
li.account.requested button.reconnect:focus { outline: 3px solid var(--_focus); outline-offset: 2px; }
.account .head { display: flex; flex-wrap: wrap; gap: .25rem .75rem; align-items: baseline; }
.account .who { color: var(--_muted); overflow-wrap: anywhere; min-width: 0; }
.account .detail { color: var(--_muted); font-size: .95rem; }

.badge {
  display: inline-flex; align-items: center; gap: .4rem;
  font-size: .9rem; font-weight: 600;
  padding: .1rem .6rem;
  border-radius: 999px;
  border: 1px solid currentColor;
  background: var(--_background);
  margin-left: auto;
}
.badge::before { content: ""; width: .6rem; height: .6rem; border-radius: 50%; background: currentColor; }
.tone-ok { color: var(--_ok); }
.tone-action { color: var(--_action); }
.tone-problem { color: var(--_problem); }
.tone-pending { color: var(--_pending); }
.tone-muted { color: var(--_status-muted); }

dl.facts { display: flex; flex-wrap: wrap; gap: .25rem 1.5rem; margin: 0; font-size: .95rem; }
dl.facts div { display: flex; gap: .35rem; flex-wrap: wrap; }
dl.facts dt { color: var(--_muted); }
dl.facts dd { margin: 0; }

.actions { display: flex; flex-wrap: wrap; gap: .5rem; }

dialog {
  border: 1px solid var(--_border);
  border-radius: var(--_radius);
  padding: 1.25rem;
  max-width: min(28rem, calc(100vw - 2rem));
  color: var(--_text);
  background: var(--_background);
  font-family: var(--_font);
}
dialog::backdrop { background: rgb(0 0 0 / .45); }
dialog p { margin: .75rem 0 1rem; }
dialog form { display: flex; flex-wrap: wrap; gap: .5rem; justify-content: flex-end; }

form.connect[hidden] { display: none; }
form.connect .connect-buttons { display: flex; flex-wrap: wrap; gap: .5rem; }
li.account.fresh { outline: 3px solid var(--_ok); outline-offset: 2px; }

/* The connect-here wizard (connect-wizard.js). */
.wizard {
  border: 1px solid var(--_border);
  border-radius: var(--_radius);
  padding: 1rem;
  margin: 0 0 var(--_gap);
  display: grid; gap: .75rem;
  min-width: 0;
}
.wizard .step { display: grid; gap: .75rem; min-width: 0; }
.wizard .step-title { font-size: 1.15rem; }
.wizard .step-title:focus { outline: 3px solid var(--_focus); outline-offset: 2px; }
.wizard .step-problem {
  border: 1px solid var(--_problem); border-left-width: 6px;
  border-radius: var(--_radius); padding: .6rem .8rem; background: var(--_surface);
  overflow-wrap: anywhere;
}
.wizard .step-problem:empty { display: none; }
.wizard form { display: grid; gap: .75rem; min-width: 0; }
.wizard fieldset {
  border: 1px solid var(--_border); border-radius: var(--_radius);
  padding: .75rem; margin: 0; display: grid; gap: .75rem; min-width: 0;
}
.wizard legend { font-weight: 600; padding: 0 .25rem; }
.wizard .field { display: flex; flex-direction: column; gap: .25rem; min-width: 0; }
.wizard .field > label { font-weight: 600; }
.wizard .field.checkbox { flex-direction: row; align-items: center; gap: .5rem; }
.wizard .field.checkbox > label { font-weight: normal; }
.wizard .field.checkbox input { width: 1.25rem; height: 1.25rem; margin: 0; flex: none; }
.wizard .smtp-own[hidden] { display: none; }
.wizard .smtp-own { display: grid; gap: .75rem; }
.wizard .hint, .wizard .countdown, .wizard-status { color: var(--_muted); font-size: .95rem; }
.wizard .countdown { font-variant-numeric: tabular-nums; }
.wizard .countdown[data-expired] { color: var(--_problem); font-weight: 600; }
.wizard .password-row { display: flex; gap: .5rem; min-width: 0; }
.wizard .password-row input { flex: 1 1 auto; min-width: 0; }
.wizard .password-row button { flex: none; }
.wizard .phone-row { display: flex; flex-wrap: wrap; gap: .75rem; }
.wizard .phone-row .country { flex: 0 1 8rem; }
.wizard .phone-row .field:not(.country) { flex: 1 1 12rem; }
.wizard ol.instructions { margin: 0; padding-left: 1.4rem; display: grid; gap: .25rem; }
.wizard .qr { justify-self: start; max-width: 100%; }
.wizard .qr img {
  display: block; width: min(240px, 100%); height: auto; aspect-ratio: 1;
  image-rendering: pixelated; border: 1px solid var(--_border); border-radius: 4px; background: #ffffff;
}
.wizard .qr.expired img { opacity: .2; }
.wizard .pairing-code {
  font: 600 1.8rem ui-monospace, "SFMono-Regular", Menlo, monospace;
  letter-spacing: .15em; overflow-wrap: anywhere;
}
.wizard .waiting { font-weight: 600; }
.wizard .waiting::before {
  content: ""; display: inline-block; width: .6rem; height: .6rem; margin-right: .5rem;
  border-radius: 50%; background: var(--_pending);
}
.wizard .step-actions, .wizard-foot { display: flex; flex-wrap: wrap; gap: .5rem; }
.wizard-status:empty { margin: 0; }
.wizard[aria-busy="true"] { cursor: progress; }

input[type="text"], input[type="email"], input[type="password"], input[type="tel"], input[type="number"] {
  font: inherit;
  min-height: 44px;
  width: 100%;
  border-radius: var(--_radius);
  border: 1px solid var(--_muted);
  padding: .5rem .75rem;
  color: var(--_text);
  background: var(--_background);
  min-width: 0;
}
input:focus-visible, input[type="checkbox"]:focus-visible, input[type="radio"]:focus-visible {
  outline: 3px solid var(--_focus);
  outline-offset: 2px;
}

@media (prefers-reduced-motion: no-preference) {
  button { transition: filter .15s; }
  .wizard .waiting::before { animation: unipile-pulse 1.6s ease-in-out infinite; }
  @keyframes unipile-pulse { 50% { opacity: .25; } }
}
button:hover:not(:disabled) { filter: brightness(.95); }
`;
