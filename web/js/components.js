// Small components the pages share: toasts, confirmation, tables, form fields with inline
// server errors, empty and loading states, copy buttons.

import { ApiError } from "./api.js";
import { h, replace } from "./dom.js";
import { guardLeaving } from "./router.js";

export function toast(message, kind = "ok") {
  const region = document.getElementById("toasts");
  const item = h("div", { class: "toast " + kind, role: kind === "error" ? "alert" : null, text: message, dataset: { at: String(Date.now()) } });
  // Newest on top of at most three, so toasts never pile up over the page.
  while (region.children.length >= 3) region.firstElementChild.remove();
  region.append(item);
  setTimeout(() => item.remove(), kind === "error" ? 7000 : 4000);
}

// On navigation: results of the previous page's actions go, a toast raised just now stays.
export function clearOldToasts(ageMs = 1000) {
  const region = document.getElementById("toasts");
  for (const item of [...region.children]) if (Date.now() - Number(item.dataset.at || 0) > ageMs) item.remove();
}

export function toastError(error) {
  toast(error instanceof ApiError ? error.message : "Something went wrong: " + (error && error.message), "error");
}

// Focus goes back to what opened a dialog; if that is gone (its row was re-drawn), to the page.
function returnFocus(opener) {
  if (opener && opener.isConnected && opener !== document.body && opener.focus) opener.focus();
  else { const main = document.getElementById("main"); if (main) main.focus({ preventScroll: true }); }
}

// Resolves true when the user confirms. Esc or Cancel resolves false; focus returns to the opener.
export function confirmDialog({ title, message, confirmLabel = "Delete", danger = true }) {
  const opener = document.activeElement;
  return new Promise((resolve) => {
    const cancel = h("button", { class: "btn", type: "button", value: "cancel", text: "Cancel" });
    const ok = h("button", { class: danger ? "btn btn-danger solid" : "btn btn-primary", type: "button", value: "ok", text: confirmLabel });
    const dialog = h("dialog", { "aria-labelledby": "confirm-title", class: "confirm" },
      h("h2", { id: "confirm-title", text: title }), h("p", { text: message }), h("div", { class: "actions" }, cancel, ok));
    const finish = (answer) => { dialog.close(); dialog.remove(); returnFocus(opener); resolve(answer); };
    cancel.addEventListener("click", () => finish(false));
    ok.addEventListener("click", () => finish(true));
    dialog.addEventListener("cancel", (e) => { e.preventDefault(); finish(false); });
    document.body.append(dialog);
    dialog.showModal();
    cancel.focus();
  });
}

// A modal showing arbitrary content, closed by its button or Esc.
export function showDialog(title, ...content) {
  const opener = document.activeElement;
  const close = h("button", { class: "btn", type: "button", text: "Close" });
  const dialog = h("dialog", { "aria-label": title }, h("h2", { text: title }), ...content, h("div", { class: "actions" }, close));
  const done = () => { dialog.close(); dialog.remove(); returnFocus(opener); };
  close.addEventListener("click", done);
  dialog.addEventListener("cancel", (e) => { e.preventDefault(); done(); });
  document.body.append(dialog);
  dialog.showModal();
  return dialog;
}

export function loading(text = "Loading…") {
  return h("div", { class: "loading", role: "status" }, h("span", { class: "spinner", "aria-hidden": "true" }), text);
}

export function emptyState(title, text, action) {
  return h("div", { class: "empty" }, h("h3", { text: title }), text ? h("p", { text }) : null, action || null);
}

export function errorState(error, retry) {
  const message = error instanceof ApiError ? error.message : String(error && error.message);
  return h("div", { class: "empty", role: "alert" }, h("h3", { text: "Could not load this" }), h("p", { text: message }),
    retry ? h("button", { class: "btn", type: "button", text: "Try again", on: { click: retry } }) : null);
}

export function pageHeader(title, ...actions) {
  return h("div", { class: "page-header" }, h("h1", { text: title }), h("div", { class: "actions" }, ...actions));
}

export function card(title, ...children) {
  return h("section", { class: "card", "aria-label": title }, title ? h("h2", { text: title }) : null, ...children);
}

export function badge(text, kind) {
  return h("span", { class: "badge " + (kind || text || ""), text });
}

export function button(label, onClick, { kind = "", type = "button", small = false, attrs = {} } = {}) {
  const cls = ["btn", kind ? "btn-" + kind : "", small ? "btn-small" : ""].filter(Boolean).join(" ");
  return h("button", { class: cls, type, on: onClick ? { click: onClick } : undefined, ...attrs }, label);
}

export function linkButton(label, href, kind = "") {
  return h("a", { class: "btn" + (kind ? " btn-" + kind : ""), href }, label);
}

// columns: [{label, render: row => node|text, num: bool}]
export function table(columns, rows, { empty = "Nothing here yet.", caption } = {}) {
  if (!rows.length) return typeof empty === "string" ? emptyState(empty) : empty;
  const head = h("tr", {}, columns.map((c) => h("th", { scope: "col", class: c.num ? "num" : null, text: c.label })));
  const body = rows.map((row) => h("tr", {}, columns.map((c) => {
    const value = c.render ? c.render(row) : row[c.key];
    return h("td", { class: c.num ? "num" : null, "data-label": c.label }, value === null || value === undefined ? "—" : value);
  })));
  return h("div", { class: "table-wrap responsive" }, h("table", {}, caption ? h("caption", { class: "visually-hidden", text: caption }) : null,
    h("thead", {}, head), h("tbody", {}, body)));
}

let fieldCounter = 0;

// One labelled input. type: text, email, password, number, url, textarea, select, checkbox, color, date.
export function field({ label, name, type = "text", value, help, options, required, attrs = {} }) {
  const id = "f-" + name + "-" + ++fieldCounter;
  const describedBy = [];
  const helpEl = help ? h("div", { class: "help", id: id + "-help", text: help }) : null;
  if (helpEl) describedBy.push(id + "-help");
  const errorEl = h("div", { class: "error", id: id + "-error", hidden: true });
  describedBy.push(id + "-error");
  const common = { id, name, required, "aria-describedby": describedBy.join(" "), ...attrs };
  let input;
  if (type === "textarea") input = h("textarea", { ...common, text: value ?? "" });
  else if (type === "select") {
    input = h("select", common, options.map((o) => {
      const [optValue, optLabel] = Array.isArray(o) ? o : [o, o];
      return h("option", { value: optValue, selected: String(optValue) === String(value ?? "") }, optLabel);
    }));
  } else if (type === "checkbox") input = h("input", { ...common, type, checked: Boolean(value) });
  else input = h("input", { ...common, type, value: value ?? "" });
  const labelEl = h("label", { for: id, text: label });
  const wrapper = type === "checkbox"
    ? h("div", { class: "field check", dataset: { field: name } }, input, labelEl, helpEl, errorEl)
    : h("div", { class: "field", dataset: { field: name } }, labelEl, input, helpEl, errorEl);
  return wrapper;
}

export function formValues(form) {
  const out = {};
  for (const el of form.elements) {
    if (!el.name || el.disabled) continue;
    if (el.type === "checkbox") out[el.name] = el.checked;
    else if (el.type === "number") out[el.name] = el.value === "" ? null : Number(el.value);
    else out[el.name] = el.value;
  }
  return out;
}

export function clearFormErrors(form) {
  form.querySelectorAll(".field .error").forEach((el) => { el.hidden = true; el.textContent = ""; });
  form.querySelectorAll("[aria-invalid]").forEach((el) => el.removeAttribute("aria-invalid"));
  const banner = form.querySelector(".form-error");
  if (banner) banner.remove();
}

// The field a server error names, or the nearest one above it: "handoff.hours.weekly.mon[0]"
// lands on "handoff.hours.weekly.mon" when no input has the full name.
function fieldWrapper(form, name) {
  const parts = name.split(/(?=[.[])/);
  for (let n = parts.length; n > 0; n--) {
    const found = form.querySelector(`.field[data-field="${CSS.escape(parts.slice(0, n).join(""))}"]`);
    if (found) return found;
  }
  return null;
}

// Marks every bad field at once: the message under the field, aria-invalid on its input, and
// focus on the first one in reading order. Messages with no field of their own go in a banner.
export function showFieldErrors(form, fields, fallback) {
  clearFormErrors(form);
  const unplaced = [];
  for (const [name, message] of Object.entries(fields)) {
    const wrapper = fieldWrapper(form, name);
    const errorEl = wrapper && wrapper.querySelector(".error");
    if (!errorEl) { unplaced.push(message); continue; }
    errorEl.textContent = errorEl.hidden ? message : `${errorEl.textContent} ${message}`;
    errorEl.hidden = false;
    const input = wrapper.querySelector("input:not([type=hidden]):not([hidden]), select, textarea");
    if (input) input.setAttribute("aria-invalid", "true");
  }
  const first = form.querySelector("[aria-invalid=true]");
  if (!first || unplaced.length) {
    form.prepend(h("div", { class: "form-error", role: "alert", text: unplaced.length ? unplaced.join(" ") : fallback || "Something went wrong." }));
  }
  if (first) first.focus();
}

export function showFormErrors(form, error) {
  showFieldErrors(form, error instanceof ApiError ? error.fieldErrors() : {}, error && error.message);
}

function labelText(form, el) {
  const label = el.id ? form.querySelector(`label[for="${CSS.escape(el.id)}"]`) : null;
  return label ? label.textContent.trim() : el.name;
}

// Required fields left empty, all at once, before anything is sent.
function missingFields(form) {
  const out = {};
  for (const el of form.elements) {
    if (!el.name || !el.required || el.disabled || el.type === "checkbox") continue;
    if (!String(el.value || "").trim()) out[el.name] = `${labelText(form, el)} is required.`;
  }
  return out;
}

// Unsaved edits: a form remembers what it last saved, and leaving the page (or the tab) while it
// differs asks first. Pages that fill a form in after drawing it call markSaved(form) then.
const savedValues = new WeakMap();
const snapshot = (form) => JSON.stringify(formValues(form));

export function markSaved(form) {
  savedValues.set(form, snapshot(form));
}

export function isDirty(form) {
  return form.isConnected && savedValues.has(form) && snapshot(form) !== savedValues.get(form);
}

export function guardUnsaved(form) {
  markSaved(form);
  guardLeaving(() => isDirty(form));
  return form;
}

// Wires a form: on submit, collect values, call handler, show field errors or a toast.
// A handler returning false has found (and shown) problems of its own.
// With { guard: true }, leaving the page with unsaved edits asks first.
export function onSubmit(form, handler, { guard = false } = {}) {
  if (guard) guardUnsaved(form);
  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    const missing = missingFields(form);
    if (Object.keys(missing).length) { showFieldErrors(form, missing); return; }
    const submit = form.querySelector("[type=submit]");
    if (submit) { submit.disabled = true; submit.setAttribute("aria-busy", "true"); }
    clearFormErrors(form);
    try {
      const values = formValues(form);
      // A handler that returns false showed its own errors: the form is not saved.
      const result = await handler(values, form);
      if (guard && result !== false) markSaved(form);
    } catch (error) {
      if (error instanceof ApiError && error.status !== 0) showFormErrors(form, error);
      else toastError(error);
    } finally {
      if (submit) { submit.disabled = false; submit.removeAttribute("aria-busy"); }
    }
  });
  return form;
}

// For viewers and agents: what their role allows, above a page whose controls they cannot use.
export function roleNotice(role, allowed = "read everything in this workspace") {
  const agent = role === "agent";
  return h("div", { class: "callout role-notice", role: "note" },
    h("strong", { text: agent ? "Inbox only. " : "View only. " }),
    `Your role here is ${role}: you can ${allowed}, but not change ${agent ? "bots, knowledge or settings" : "anything"}. `,
    "Ask an admin of this workspace if you need the editor role.");
}

export function copyButton(getText, label = "Copy") {
  const btn = button(label, async () => {
    try {
      await navigator.clipboard.writeText(typeof getText === "function" ? getText() : getText);
      btn.textContent = "Copied";
      toast("Copied to the clipboard.");
      setTimeout(() => { btn.textContent = label; }, 2000);
    } catch {
      toast("Copy failed: select the text and copy it by hand.", "error");
    }
  }, { small: true });
  return btn;
}

export function setContent(el, ...children) {
  return replace(el, ...children);
}
