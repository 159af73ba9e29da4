// A chatbot's handoff settings: whether visitors can ask for a person, the widget button's label,
// the words that ask for one, business hours per weekday in a time zone, and what the widget
// says outside them. The server names a bad field by its path (handoff.hours.weekly.mon); each
// input carries that path as its name, so the message lands right under it.

import { patch } from "../api.js";
import { field, onSubmit, showFieldErrors, toast } from "../components.js";
import { h } from "../dom.js";
import { lines } from "./bot_editor.js";

export const DAYS = [["mon", "Monday"], ["tue", "Tuesday"], ["wed", "Wednesday"], ["thu", "Thursday"], ["fri", "Friday"], ["sat", "Saturday"], ["sun", "Sunday"]];
const DEFAULTS = { enabled: false, button_label: "Talk to a person", keywords: ["human", "agent", "talk to someone", "real person"], hours: null,
  offline_message: "" };
const TIME = /^([01]\d|2[0-3]):[0-5]\d$|^24:00$/;

// "09:00-12:00, 13:00-17:00" → [["09:00","12:00"],["13:00","17:00"]]; "" → [] (closed that day);
// anything else → null.
export function parseRanges(text) {
  const value = String(text || "").trim();
  if (!value) return [];
  const out = [];
  for (const part of value.split(/\s*[,;]\s*/)) {
    const m = /^(\d{1,2}:\d{2})\s*(?:-|–|—|to)\s*(\d{1,2}:\d{2})$/.exec(part.trim());
    if (!m) return null;
    const [from, to] = [m[1], m[2]].map((t) => t.padStart(5, "0"));
    if (!TIME.test(from) || !TIME.test(to) || from >= to) return null;
    out.push([from, to]);
  }
  return out;
}

export function formatRanges(ranges) {
  return (ranges || []).map((r) => `${r[0]}-${r[1]}`).join(", ");
}

function timeZones() {
  try { return Intl.supportedValuesOf("timeZone"); } catch { return ["UTC"]; }
}

function localZone() {
  try { return Intl.DateTimeFormat().resolvedOptions().timeZone || "UTC"; } catch { return "UTC"; }
}

export function handoffForm(ctx, bot, canEdit) {
  const current = { ...DEFAULTS, ...(bot.handoff || {}) };
  const ro = canEdit ? {} : { disabled: true };
  const hours = current.hours;
  const zoneList = h("datalist", { id: "handoff-zones" }, timeZones().map((z) => h("option", { value: z })));
  const dayFields = DAYS.map(([key, label]) => field({ label, name: `handoff.hours.weekly.${key}`,
    value: hours ? formatRanges(hours.weekly && hours.weekly[key]) : (["sat", "sun"].includes(key) ? "" : "09:00-17:00"),
    attrs: { placeholder: "closed", autocomplete: "off", ...ro } }));
  const alwaysOpen = field({ label: "Always open (no business hours)", name: "handoff.always_open", type: "checkbox", value: !hours, attrs: ro });
  const zone = field({ label: "Time zone", name: "handoff.hours.timezone", value: hours ? hours.timezone : localZone(),
    help: "The business hours below are in this time zone, e.g. Europe/Berlin.", attrs: { list: "handoff-zones", autocomplete: "off", ...ro } });
  const hoursBox = h("fieldset", { class: "hours-grid" }, h("legend", { text: "Business hours" }),
    h("p", { class: "help", text: "Per day, like 09:00-17:00; several ranges separated by commas; empty when closed." }),
    zone, zoneList, h("div", { class: "form-row" }, dayFields));
  const form = h("form", { class: "form handoff-form", novalidate: true, "aria-label": "Human handoff" },
    field({ label: "Visitors can ask for a person", name: "handoff.enabled", type: "checkbox", value: current.enabled, attrs: ro,
      help: "Shows a button in the widget's header; a message with one of the keywords asks too." }),
    field({ label: "Button label", name: "handoff.button_label", value: current.button_label, attrs: { maxlength: "60", ...ro } }),
    field({ label: "Keywords", name: "handoff.keywords", type: "textarea", value: (current.keywords || []).join("\n"),
      help: "One per line, in any language; a visitor's message containing one as a whole word or phrase asks for a person. The model is not asked.", attrs: { rows: 4, ...ro } }),
    alwaysOpen, hoursBox,
    field({ label: "Offline message", name: "handoff.offline_message", type: "textarea", value: current.offline_message,
      help: "Shown when someone asks outside business hours.", attrs: { rows: 2, ...ro } }),
    canEdit ? h("div", { class: "actions" }, h("button", { class: "btn btn-primary", type: "submit" }, "Save handoff settings")) : null);
  const openBox = alwaysOpen.querySelector("input");
  const syncHours = () => {
    for (const el of hoursBox.querySelectorAll("input")) el.disabled = !canEdit || openBox.checked;
    hoursBox.hidden = openBox.checked;
  };
  openBox.addEventListener("change", syncHours);
  syncHours();
  if (!canEdit) return form;
  onSubmit(form, async (values) => {
    const errors = {};
    let body = { enabled: values["handoff.enabled"], button_label: values["handoff.button_label"].trim(),
      keywords: lines(values["handoff.keywords"]), offline_message: values["handoff.offline_message"], hours: null };
    if (!values["handoff.always_open"]) {
      const weekly = {};
      for (const [key, label] of DAYS) {
        const ranges = parseRanges(values[`handoff.hours.weekly.${key}`]);
        if (ranges === null) errors[`handoff.hours.weekly.${key}`] = `${label}: write hours like 09:00-17:00, several separated by commas, or leave it empty when closed.`;
        else weekly[key] = ranges;
      }
      const timezone = String(values["handoff.hours.timezone"] || "").trim();
      if (!timezone) errors["handoff.hours.timezone"] = "Time zone is required when there are business hours.";
      body.hours = { timezone, weekly };
    }
    if (Object.keys(errors).length) { showFieldErrors(form, errors); return false; }
    const saved = await patch(`/workspaces/${ctx.ws}/chatbots/${bot.id}`, { handoff: body });
    if (saved && saved.handoff) bot.handoff = saved.handoff;
    toast(body.enabled ? "Handoff settings saved: visitors can ask for a person." : "Handoff settings saved.");
  }, { guard: true });
  return form;
}
