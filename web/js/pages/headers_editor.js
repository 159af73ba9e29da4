// Sealed headers (an action's or an MCP server's): the server never sends a stored value back,
// only `{name, set: true}`. A stored header shows "set" and an empty box that replaces its value
// when filled; left empty it keeps the old one (sent as null); Remove drops it (the name is left
// out). New headers need a name and a value. The server names a bad one `headers.<Name>` or
// `headers`; both land under this editor.

import { h } from "../dom.js";

const NAME = /^[A-Za-z0-9!#$%&'*+.^_`|~-]{1,128}$/;

let counter = 0;

function headerRow(list, { name = "", stored = false, readOnly = false }) {
  const nameInput = stored
    ? h("code", { class: "header-name", text: name })
    : h("input", { type: "text", class: "header-name", value: name, "aria-label": "Header name", placeholder: "Authorization", autocomplete: "off", disabled: readOnly });
  const value = h("input", { type: "password", class: "header-value", autocomplete: "new-password", disabled: readOnly,
    "aria-label": stored ? `New value for ${name} (leave empty to keep the stored one)` : "Header value",
    placeholder: stored ? "stored — type to replace" : "value" });
  const remove = readOnly ? null : h("button", { class: "btn btn-small btn-danger", type: "button", "aria-label": stored ? `Remove header ${name}` : "Remove this header", text: "Remove" });
  const row = h("li", { class: "header-row", dataset: { stored: stored ? name : "" } }, nameInput, stored ? h("span", { class: "badge ok", text: "set" }) : null, value, remove);
  if (remove) remove.addEventListener("click", () => { row.remove(); list.dispatchEvent(new Event("input", { bubbles: true })); });
  return row;
}

// stored: [{name, set}] as the server reads it back. Returns { node, read }; read() gives
// { headers, error } where headers is the object to send.
export function headersEditor({ stored = [], readOnly = false, help } = {}) {
  const id = "headers-" + ++counter;
  const list = h("ul", { class: "header-list", "aria-label": "Headers" });
  for (const item of stored) list.append(headerRow(list, { name: item.name, stored: true, readOnly }));
  const add = readOnly ? null : h("button", { class: "btn btn-small", type: "button", text: "Add header" });
  if (add) add.addEventListener("click", () => { const row = headerRow(list, {}); list.append(row); row.querySelector("input").focus(); });
  const errorEl = h("div", { class: "error", id: id + "-error", hidden: true });
  const node = h("div", { class: "field", dataset: { field: "headers" } },
    h("fieldset", { class: "headers-editor", "aria-describedby": `${id}-help ${id}-error` }, h("legend", { text: "Headers" }),
      list, add, h("div", { class: "help", id: id + "-help", text: help || "Values are stored encrypted and never shown again." }), errorEl));
  return { node, read: () => readHeaders(list) };
}

function readHeaders(list) {
  const headers = {};
  for (const row of list.querySelectorAll(".header-row")) {
    const storedName = row.dataset.stored;
    const value = row.querySelector(".header-value").value;
    if (storedName) { headers[storedName] = value === "" ? null : value; continue; }
    const name = row.querySelector("input.header-name").value.trim();
    if (!name && !value) continue;
    if (!NAME.test(name)) return { error: `“${name}” is not a header name: use letters, digits and dashes, like X-Api-Key.` };
    if (!value) return { error: `Header ${name} needs a value.` };
    if (Object.keys(headers).some((k) => k.toLowerCase() === name.toLowerCase())) return { error: `Header ${name} is listed twice.` };
    headers[name] = value;
  }
  return { headers };
}
