// The API reference at /api/docs: reads the server's own OpenAPI schema (/schema/openapi.json)
// and lists every operation with its parameters, request body and responses. Written here
// rather than bundling Swagger UI or ReDoc: those load from a CDN, and this page must work on
// an instance with no internet (and under a CSP that allows this origin only).

import { h, replace } from "./dom.js";

const METHODS = ["get", "post", "put", "patch", "delete"];
const MAX_DEPTH = 5;

function applyTheme() {
  const theme = localStorage.getItem("modelpilot.theme") || "auto";
  if (theme !== "auto") document.documentElement.dataset.theme = theme;
}

// "#/components/schemas/Foo" → the schema object it names (or null when it names nothing).
function resolve(spec, schema) {
  let seen = 0;
  while (schema && schema.$ref && seen++ < 20) {
    const path = schema.$ref.replace(/^#\//, "").split("/").map((p) => p.replace(/~1/g, "/").replace(/~0/g, "~"));
    schema = path.reduce((node, key) => (node ? node[key] : null), spec);
  }
  return schema || null;
}

function refName(schema) {
  return schema && schema.$ref ? schema.$ref.split("/").pop() : null;
}

// One short line for a type: "string (max 200)", "integer 1–500", "one of: a, b", "array of Bot".
function typeText(spec, raw) {
  const schema = resolve(spec, raw) || {};
  const alternatives = schema.oneOf || schema.anyOf;
  if (alternatives) {
    const parts = alternatives.map((alt) => typeText(spec, alt)).filter((t, i, all) => all.indexOf(t) === i);
    return parts.join(" or ");
  }
  if (schema.enum) return "one of: " + schema.enum.map((v) => JSON.stringify(v)).join(", ");
  if (schema.const !== undefined) return JSON.stringify(schema.const);
  if (schema.type === "array") return "array of " + typeText(spec, schema.items || {});
  const name = refName(raw);
  if (name && (schema.type === "object" || schema.properties)) return name;
  const type = Array.isArray(schema.type) ? schema.type.join(" or ") : schema.type || (schema.properties ? "object" : "any");
  return type + limits(schema);
}

function limits(schema) {
  const out = [];
  if (schema.format) out.push(schema.format);
  if (schema.minLength !== undefined) out.push(`min ${schema.minLength} chars`);
  if (schema.maxLength !== undefined) out.push(`max ${schema.maxLength} chars`);
  if (schema.minimum !== undefined) out.push(`≥ ${schema.minimum}`);
  if (schema.exclusiveMinimum !== undefined) out.push(`> ${schema.exclusiveMinimum}`);
  if (schema.maximum !== undefined) out.push(`≤ ${schema.maximum}`);
  if (schema.exclusiveMaximum !== undefined) out.push(`< ${schema.exclusiveMaximum}`);
  if (schema.maxItems !== undefined) out.push(`at most ${schema.maxItems} items`);
  return out.length ? ` (${out.join(", ")})` : "";
}

// The object a schema describes, looking through arrays and "X or null".
function objectOf(spec, raw) {
  const schema = resolve(spec, raw);
  if (!schema) return null;
  if (schema.properties) return schema;
  if (schema.type === "array") return objectOf(spec, schema.items);
  for (const alt of schema.oneOf || schema.anyOf || []) {
    const found = objectOf(spec, alt);
    if (found) return found;
  }
  return null;
}

// A nested list of fields: name, type, required, description; objects inside open below.
function fieldList(spec, raw, depth = 0, trail = []) {
  const schema = objectOf(spec, raw);
  const name = refName(raw) || refName((resolve(spec, raw) || {}).items);
  if (!schema || depth > MAX_DEPTH || (name && trail.includes(name))) return null;
  const required = new Set(schema.required || []);
  const items = Object.entries(schema.properties).map(([key, prop]) => {
    const resolved = resolve(spec, prop) || {};
    return h("li", {},
      h("code", { class: "docs-field", text: key }), " ",
      h("span", { class: "docs-type", text: typeText(spec, prop) }), " ",
      required.has(key) ? h("span", { class: "badge warn", text: "required" }) : null,
      resolved.description ? h("div", { class: "docs-desc", text: resolved.description }) : null,
      fieldList(spec, prop, depth + 1, name ? [...trail, name] : trail));
  });
  return items.length ? h("ul", { class: "docs-fields" }, items) : null;
}

function schemaBlock(spec, content) {
  const [type, media] = Object.entries(content || {})[0] || [];
  if (!media || !media.schema) return null;
  return h("div", { class: "docs-schema" },
    h("p", {}, h("span", { class: "docs-type", text: typeText(spec, media.schema) }), " · ", h("code", { text: type })),
    fieldList(spec, media.schema));
}

function parametersTable(spec, parameters) {
  if (!parameters.length) return null;
  const rows = parameters.map((raw) => {
    const p = resolve(spec, raw);
    return h("tr", {},
      h("td", { "data-label": "Name" }, h("code", { text: p.name })),
      h("td", { "data-label": "In", text: p.in }),
      h("td", { "data-label": "Type", text: typeText(spec, p.schema || {}) }),
      h("td", { "data-label": "Required", text: p.required ? "yes" : "no" }),
      h("td", { "data-label": "Description", text: p.description || "" }));
  });
  return h("div", { class: "table-wrap responsive" }, h("table", {},
    h("caption", { class: "visually-hidden", text: "Parameters" }),
    h("thead", {}, h("tr", {}, ["Name", "In", "Type", "Required", "Description"].map((t) => h("th", { scope: "col", text: t })))),
    h("tbody", {}, rows)));
}

function responsesList(spec, responses) {
  return h("ul", { class: "docs-responses" }, Object.entries(responses || {}).map(([status, raw]) => {
    const response = resolve(spec, raw) || {};
    return h("li", {}, h("span", { class: "badge " + (status.startsWith("2") ? "ok" : "error"), text: status }), " ",
      response.description || "", schemaBlock(spec, response.content));
  }));
}

// Litestar names an operation after its handler ("ChangePassword"); read it as words.
function summaryText(summary) {
  if (!summary || !/^[A-Z][A-Za-z0-9]*$/.test(summary)) return summary || "";
  const words = summary.replace(/([a-z0-9])([A-Z])/g, "$1 $2").toLowerCase();
  return words.charAt(0).toUpperCase() + words.slice(1);
}

function operationId(method, path) {
  return "op-" + method + "-" + path.replace(/[^a-zA-Z0-9]+/g, "-").replace(/^-|-$/g, "");
}

function operationCard(spec, method, path, op, shared) {
  const parameters = [...(shared || []), ...(op.parameters || [])];
  const body = op.requestBody ? resolve(spec, op.requestBody) : null;
  const details = h("details", { class: "docs-op", id: operationId(method, path), dataset: { search: `${method} ${path} ${op.summary || ""} ${op.description || ""}`.toLowerCase() } },
    h("summary", {}, h("span", { class: `docs-method m-${method}`, text: method.toUpperCase() }), " ",
      h("code", { class: "docs-path", text: path }), " ", h("span", { class: "docs-summary", text: summaryText(op.summary) })),
    op.description ? h("p", { class: "docs-desc", text: op.description }) : null,
    parameters.length ? h("h4", { text: "Parameters" }) : null, parametersTable(spec, parameters),
    body ? h("h4", { text: "Request body" + (body.required ? "" : " (optional)") }) : null, body ? schemaBlock(spec, body.content) : null,
    h("h4", { text: "Responses" }), responsesList(spec, op.responses));
  return details;
}

// Operations grouped by their first tag, in the order the schema lists paths.
function groups(spec) {
  const out = new Map();
  for (const [path, item] of Object.entries(spec.paths || {})) {
    for (const method of METHODS) {
      const op = item[method];
      if (!op) continue;
      const tag = (op.tags && op.tags[0]) || "other";
      if (!out.has(tag)) out.set(tag, []);
      out.get(tag).push({ method, path, op, shared: item.parameters });
    }
  }
  return out;
}

function intro(spec) {
  const info = spec.info || {};
  return h("div", { class: "docs-intro" },
    h("h1", { text: (info.title || "API") + " reference" }),
    h("p", { class: "muted", text: `Version ${info.version || "?"} · the live schema of this server` }),
    h("p", {}, "Call the API with a workspace API token (create one on the dashboard's API tokens page): send ",
      h("code", { text: "Authorization: Bearer mp_…" }), ". The dashboard itself uses the session cookie."),
    h("p", {}, "Errors are JSON: ", h("code", { text: '{"error": {"code": "…", "message": "…", "details": […]}}' }),
      "; ", h("code", { text: "details" }), " names each bad field."));
}

function filterBox(main) {
  const input = h("input", { type: "search", id: "docs-filter", placeholder: "e.g. chatbots, POST, invitations", autocomplete: "off" });
  const count = h("p", { class: "muted", "aria-live": "polite" });
  const apply = () => {
    const words = input.value.toLowerCase().split(/\s+/).filter(Boolean);
    let shown = 0;
    for (const op of main.querySelectorAll(".docs-op")) {
      const hit = words.every((w) => op.dataset.search.includes(w));
      op.hidden = !hit;
      if (hit) shown += 1;
    }
    for (const section of main.querySelectorAll(".docs-tag")) section.hidden = !section.querySelector(".docs-op:not([hidden])");
    count.textContent = words.length ? `${shown} operation${shown === 1 ? "" : "s"} match.` : "";
  };
  input.addEventListener("input", apply);
  return h("div", { class: "field docs-filter" }, h("label", { for: "docs-filter", text: "Filter operations" }), input, count);
}

function render(spec) {
  const main = document.getElementById("main");
  const nav = document.getElementById("docs-nav");
  const byTag = groups(spec);
  const sections = [...byTag].map(([tag, ops]) => h("section", { class: "docs-tag", id: "tag-" + tag, "aria-label": tag },
    h("h2", { text: tag }), ops.map(({ method, path, op, shared }) => operationCard(spec, method, path, op, shared))));
  replace(nav, h("ul", {}, [...byTag].map(([tag, ops]) => h("li", {}, h("a", { href: "#tag-" + tag, text: `${tag} (${ops.length})` })))));
  replace(main, intro(spec), filterBox(main), ...sections);
  main.removeAttribute("aria-busy");
  // Opened with #op-... or #tag-...: show that operation expanded.
  const target = location.hash ? document.getElementById(location.hash.slice(1)) : null;
  if (target) { if (target.tagName === "DETAILS") target.open = true; target.scrollIntoView(); }
}

async function start() {
  applyTheme();
  const main = document.getElementById("main");
  try {
    const response = await fetch("/schema/openapi.json", { headers: { Accept: "application/json" } });
    if (!response.ok) throw new Error(`the server answered ${response.status}`);
    render(await response.json());
  } catch (error) {
    replace(main, h("div", { class: "empty", role: "alert" }, h("h1", { text: "Could not load the API schema" }),
      h("p", { text: String(error && error.message) }), h("p", {}, h("a", { href: "/schema/openapi.json", text: "Open the raw schema" }))));
    main.removeAttribute("aria-busy");
  }
}

start();
