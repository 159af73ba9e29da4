// A chatbot's lead form: which details the widget asks for (fields in order, each with its type,
// whether it is required, and the choices of a select), the consent line with its privacy link,
// and when the form shows. Every input is named by the server's path for it
// (lead_form.fields[1].options), so a 400 lands under the right input. Each edit is handed to
// `onDraft` in the widget config's shape, which the Widget page sends to its live preview.

import { patch } from "../api.js";
import { button, field, onSubmit, showFieldErrors, toast } from "../components.js";
import { h, replace } from "../dom.js";
import { lines } from "./bot_editor.js";

export const DEFAULT_LEAD_FORM = { enabled: false, when: "before_chat", after_messages: 3,
  fields: [{ name: "email", label: "Email", type: "email", required: true, options: [] }], consent_text: "", privacy_url: null };
const WHEN = [["before_chat", "Before the chat starts"], ["after_messages", "After a number of visitor messages"],
  ["on_handoff", "When a visitor asks for a person outside business hours"], ["when_unanswered", "When the bot could not answer"]];
const TYPES = [["text", "Text"], ["email", "Email"], ["phone", "Phone"], ["select", "Choice (select)"]];
const STANDARD = { name: ["Name", "text"], email: ["Email", "email"], phone: ["Phone", "phone"], company: ["Company", "text"] };
const MAX_FIELDS = 12;

const path = (i, key) => `lead_form.fields[${i}].${key}`;

// The draft as the widget config carries it (GET /widget/{bot}/config → leadForm).
export function widgetShape(draft) {
  return { when: draft.when, afterMessages: draft.after_messages, consentText: draft.consent_text, privacyUrl: draft.privacy_url,
    fields: draft.fields.map((f) => ({ name: f.name, label: f.label, type: f.type, required: f.required, options: f.type === "select" ? f.options : [] })) };
}

function readDraft(form, count) {
  const v = (name) => form.elements[name];
  const fields = [];
  for (let i = 0; i < count; i++) {
    fields.push({ name: v(path(i, "name")).value.trim(), label: v(path(i, "label")).value.trim(), type: v(path(i, "type")).value,
      required: v(path(i, "required")).checked, options: lines(v(path(i, "options")).value) });
  }
  const after = Number(v("lead_form.after_messages").value);
  return { enabled: v("lead_form.enabled").checked, when: v("lead_form.when").value, after_messages: Number.isFinite(after) && after > 0 ? after : 3,
    fields, consent_text: v("lead_form.consent_text").value.trim(), privacy_url: v("lead_form.privacy_url").value.trim() || null };
}

function fieldRow(f, i, count, ro, move) {
  const title = f.label || f.name || `Field ${i + 1}`;
  const options = field({ label: "Choices", name: path(i, "options"), type: "textarea", value: (f.options || []).join("\n"),
    help: "One per line; the visitor picks one.", attrs: { rows: 3, ...ro } });
  options.hidden = f.type !== "select";
  const typeField = field({ label: "Type", name: path(i, "type"), type: "select", value: f.type, options: TYPES, attrs: ro });
  typeField.querySelector("select").addEventListener("change", (e) => { options.hidden = e.target.value !== "select"; });
  const keyField = field({ label: "Stored as", name: path(i, "name"), value: f.name, attrs: { list: "lead-field-keys", autocomplete: "off", maxlength: "40", ...ro },
    help: "name, email, phone or company go on the contact; any other key (lowercase letters, digits, _) is a custom field." });
  const mover = (label, delta, disabled) => button(label, () => move(i, delta), { small: true,
    attrs: { "aria-label": `${label}: ${title}`, disabled: disabled || Boolean(ro.disabled), dataset: { move: String(delta) } } });
  const legend = h("legend", { text: `Field ${i + 1}: ${title}` });
  const labelField = field({ label: "Label", name: path(i, "label"), value: f.label, required: true, attrs: { maxlength: "80", ...ro } });
  const movers = [mover("Move up", -1, i === 0), mover("Move down", 1, i === count - 1), mover("Remove", 0, false)];
  // The row's name follows its label as it is typed: the legend and what the buttons say.
  labelField.querySelector("input").addEventListener("input", (event) => {
    const now = event.target.value.trim() || f.name || `Field ${i + 1}`;
    legend.textContent = `Field ${i + 1}: ${now}`;
    movers.forEach((b) => b.setAttribute("aria-label", `${b.textContent}: ${now}`));
  });
  return h("li", { class: "lead-field-row", dataset: { index: String(i) } },
    h("fieldset", {}, legend, h("div", { class: "form-row" }, labelField, keyField, typeField),
      field({ label: "Required", name: path(i, "required"), type: "checkbox", value: f.required, attrs: ro }),
      options, h("div", { class: "actions" }, movers)));
}

export function leadFormEditor(ctx, bot, canEdit, onDraft = () => {}) {
  const saved = { ...DEFAULT_LEAD_FORM, ...(bot.lead_form || {}) };
  const ro = canEdit ? {} : { disabled: true };
  let fields = (saved.fields || []).map((f) => ({ options: [], ...f }));
  const list = h("ol", { class: "lead-fields" });
  const keys = h("datalist", { id: "lead-field-keys" }, Object.keys(STANDARD).map((k) => h("option", { value: k })));
  const addBtn = button("Add field", () => change(() => {
    const used = new Set(fields.map((f) => f.name));
    const next = Object.keys(STANDARD).find((k) => !used.has(k));
    fields.push(next ? { name: next, label: STANDARD[next][0], type: STANDARD[next][1], required: false, options: [] }
      : { name: `field_${fields.length + 1}`, label: "", type: "text", required: false, options: [] });
  }, () => rowControl(fields.length - 1, "input")), { small: true, attrs: ro });
  const afterField = field({ label: "After how many visitor messages", name: "lead_form.after_messages", type: "number", value: saved.after_messages,
    attrs: { min: 1, max: 50, ...ro } });
  const whenField = field({ label: "When to ask", name: "lead_form.when", type: "select", value: saved.when, options: WHEN, attrs: ro,
    help: "Never asked again once the visitor is a known contact (they sent the form, or the site signed them in)." });
  const form = h("form", { class: "form lead-form-editor", novalidate: true, "aria-label": "Lead form" },
    field({ label: "Ask visitors for their contact details", name: "lead_form.enabled", type: "checkbox", value: saved.enabled, attrs: ro,
      help: "Details go to Contacts, linked to the visitor's conversations." }),
    whenField, afterField,
    h("fieldset", { class: "lead-fields-box", dataset: { field: "lead_form.fields" } }, h("legend", { text: "Fields" }), keys, list,
      h("div", { class: "error", id: "lead-fields-error", hidden: true }), h("div", { class: "actions" }, addBtn)),
    field({ label: "Consent text", name: "lead_form.consent_text", type: "textarea", value: saved.consent_text, attrs: { rows: 2, ...ro },
      help: "Optional. When set, the visitor must tick it to send, e.g. “I agree that you may contact me about my question.”" }),
    field({ label: "Privacy policy URL", name: "lead_form.privacy_url", type: "url", value: saved.privacy_url || "",
      attrs: { placeholder: "https://www.example.com/privacy", ...ro }, help: "Linked under the form; opens in a new tab." }),
    canEdit ? h("div", { class: "actions" }, h("button", { class: "btn btn-primary", type: "submit" }, "Save lead form")) : null);

  const syncWhen = () => { afterField.hidden = form.elements["lead_form.when"].value !== "after_messages"; };
  const draw = () => {
    replace(list, fields.map((f, i) => fieldRow(f, i, fields.length, ro, move)));
    addBtn.disabled = !canEdit || fields.length >= MAX_FIELDS;
  };
  const emit = () => onDraft(readDraft(form, fields.length));
  // Re-reads what was typed, applies the change, redraws, and puts focus back where it belongs
  // (`focus` picks the element after the redraw; the Add button when it finds none).
  function change(mutate, focus) {
    fields = readDraft(form, fields.length).fields;
    mutate();
    draw();
    emit();
    (focus() || addBtn).focus();
  }
  const rowControl = (i, selector) => (list.children[i] ? list.children[i].querySelector(selector) : null);
  function move(i, delta) {
    if (delta === 0) {
      change(() => fields.splice(i, 1), () => rowControl(Math.min(i, fields.length - 1), "input"));
      return;
    }
    const j = i + delta;
    // Keyboard users keep moving the same field: focus stays on its button of that direction,
    // or the other one when it reached the end of the list.
    change(() => { [fields[i], fields[j]] = [fields[j], fields[i]]; },
      () => rowControl(j, `[data-move="${delta}"]:not([disabled])`) || rowControl(j, "[data-move]:not([disabled])"));
  }
  form.elements["lead_form.when"].addEventListener("change", syncWhen);
  form.addEventListener("input", emit);
  form.addEventListener("change", emit);
  draw();
  syncWhen();
  if (canEdit) {
    onSubmit(form, async () => {
      const draft = readDraft(form, fields.length);
      const errors = {};
      draft.fields.forEach((f, i) => {
        if (f.type === "select" && !f.options.length) errors[path(i, "options")] = "A choice field needs at least one choice, one per line.";
      });
      if (!draft.fields.length) errors["lead_form.fields"] = "Add at least one field.";
      if (Object.keys(errors).length) { showFieldErrors(form, errors); return false; }
      const body = { ...draft, fields: draft.fields.map((f) => ({ ...f, options: f.type === "select" ? f.options : [] })) };
      const result = await patch(`/workspaces/${ctx.ws}/chatbots/${bot.id}`, { lead_form: body });
      if (result && result.lead_form) bot.lead_form = result.lead_form;
      toast(body.enabled ? "Lead form saved: visitors are asked for their details." : "Lead form saved (off).");
      return undefined;
    }, { guard: true });
  }
  return { form, draft: () => readDraft(form, fields.length) };
}
