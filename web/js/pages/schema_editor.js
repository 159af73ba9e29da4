// An action's parameters: a JSON Schema object in a textarea, checked as it is typed, with a
// small helper that adds one parameter (name, type, description, required) and a list of the
// parameters it has, each removable. The server checks the schema again and names `parameters`.

import { field } from "../components.js";
import { h, replace } from "../dom.js";

export const EMPTY_SCHEMA = { type: "object", properties: {}, required: [] };
const PARAM_NAME = /^[A-Za-z_][A-Za-z0-9_]{0,63}$/;
const TYPES = ["string", "integer", "number", "boolean"];

// { schema } or { error } for the textarea's text.
export function parseSchema(text) {
  let schema;
  try {
    schema = JSON.parse(String(text || "").trim() || "{}");
  } catch (error) {
    return { error: `Parameters are not valid JSON: ${error.message}` };
  }
  if (!schema || typeof schema !== "object" || Array.isArray(schema)) return { error: "Parameters must be a JSON object (a JSON Schema)." };
  if (schema.type !== "object") return { error: "Parameters must be a schema of \"type\": \"object\"." };
  if (schema.properties !== undefined && (typeof schema.properties !== "object" || Array.isArray(schema.properties) || schema.properties === null)) {
    return { error: "\"properties\" must be an object of parameter name → schema." };
  }
  if (schema.required !== undefined && !Array.isArray(schema.required)) return { error: "\"required\" must be a list of parameter names." };
  return { schema };
}

export function addParameter(schema, { name, type, description, required }) {
  const next = { ...schema, properties: { ...(schema.properties || {}) } };
  next.properties[name] = description ? { type, description } : { type };
  const others = (schema.required || []).filter((n) => n !== name);
  next.required = required ? [...others, name] : others;
  return next;
}

export function removeParameter(schema, name) {
  const properties = { ...(schema.properties || {}) };
  delete properties[name];
  return { ...schema, properties, required: (schema.required || []).filter((n) => n !== name) };
}

// Sample arguments for the Test panel: an example value of each parameter's type.
export function sampleArguments(schema) {
  const out = {};
  for (const [name, prop] of Object.entries((schema && schema.properties) || {})) {
    const type = Array.isArray(prop.type) ? prop.type[0] : prop.type;
    if (prop.enum && prop.enum.length) out[name] = prop.enum[0];
    else if (prop.example !== undefined) out[name] = prop.example;
    else out[name] = { integer: 1, number: 1, boolean: true, array: [], object: {} }[type] ?? "";
  }
  return out;
}

function paramSummary(schema, onRemove, readOnly) {
  const required = new Set(schema.required || []);
  const names = Object.keys(schema.properties || {});
  if (!names.length) return h("p", { class: "help", text: "No parameters yet: the model calls this action without arguments." });
  return h("ul", { class: "param-list", "aria-label": "Parameters" }, names.map((name) => {
    const prop = schema.properties[name] || {};
    return h("li", {}, h("code", { text: name }), ` ${prop.type || "any"}${required.has(name) ? ", required" : ""}`,
      prop.description ? h("span", { class: "help", text: ` — ${prop.description}` }) : null,
      readOnly ? null : h("button", { class: "link-btn", type: "button", "aria-label": `Remove parameter ${name}`, text: "remove", on: { click: () => onRemove(name) } }));
  }));
}

function adder(onAdd) {
  const name = h("input", { type: "text", "aria-label": "Parameter name", placeholder: "order_id", autocomplete: "off" });
  const type = h("select", { "aria-label": "Parameter type" }, TYPES.map((t) => h("option", { value: t }, t)));
  const description = h("input", { type: "text", "aria-label": "Parameter description", placeholder: "What the model should put here" });
  const required = h("input", { type: "checkbox", id: "param-required-" + Math.random().toString(36).slice(2, 7), checked: true });
  const add = h("button", { class: "btn btn-small", type: "button", text: "Add parameter" });
  add.addEventListener("click", () => {
    if (onAdd({ name: name.value.trim(), type: type.value, description: description.value.trim(), required: required.checked }) !== false) {
      name.value = ""; description.value = ""; name.focus();
    }
  });
  return h("div", { class: "param-adder" }, name, type, description,
    h("span", { class: "check-inline" }, required, h("label", { for: required.id, text: "required" })), add);
}

export function schemaEditor(schema, readOnly) {
  const wrapper = field({ label: "Parameters (JSON Schema)", name: "parameters", type: "textarea", value: JSON.stringify(schema || EMPTY_SCHEMA, null, 2),
    help: "What the model fills in. Use a parameter in the URL, headers or body as {name}; {visitor.sub} and other claims of a verified visitor fill in themselves.",
    attrs: { rows: 8, spellcheck: "false", class: "code", disabled: readOnly } });
  const area = wrapper.querySelector("textarea");
  const errorEl = wrapper.querySelector(".error");
  const summary = h("div", { class: "param-summary", "aria-live": "polite" });
  const write = (next) => { area.value = JSON.stringify(next, null, 2); area.dispatchEvent(new Event("input", { bubbles: true })); };
  const check = () => {
    const parsed = parseSchema(area.value);
    errorEl.hidden = !parsed.error;
    errorEl.textContent = parsed.error || "";
    if (parsed.error) area.setAttribute("aria-invalid", "true"); else area.removeAttribute("aria-invalid");
    if (parsed.schema) replace(summary, paramSummary(parsed.schema, (name) => write(removeParameter(parsed.schema, name)), readOnly));
    return parsed;
  };
  area.addEventListener("input", check);
  check();
  const onAdd = (param) => {
    const parsed = check();
    if (parsed.error) { area.focus(); return false; }
    if (!PARAM_NAME.test(param.name)) {
      errorEl.hidden = false;
      errorEl.textContent = "A parameter name is letters, digits and _, starting with a letter, like order_id.";
      return false;
    }
    write(addParameter(parsed.schema, param));
    return true;
  };
  if (!readOnly) wrapper.append(adder(onAdd));
  wrapper.append(summary);
  return { node: wrapper, read: () => check() };
}
