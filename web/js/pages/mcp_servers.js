// The workspace's remote MCP servers (Streamable HTTP): add, edit, delete, and each one's tools
// listed live. Header values are sealed: a stored one reads "set" and is replaced by typing a new
// value. A server that cannot be reached is shown as unavailable; bots using its tools answer
// without them meanwhile.

import { del, patch, post } from "../api.js";
import { badge, button, card, confirmDialog, field, loading, onSubmit, pageHeader, showFieldErrors, table, toast, toastError } from "../components.js";
import { formatDate, h, replace } from "../dom.js";
import { headersEditor } from "./headers_editor.js";
import { listAll, serversPath, serverTools } from "./tool_sources.js";

function serverForm(server, { onSave, onCancel, submitLabel }) {
  const headersBox = headersEditor({ stored: server.headers || [], help: "Sent with every request to the server, e.g. Authorization: Bearer …. Stored encrypted, never shown again." });
  const form = h("form", { class: "form", novalidate: true, "aria-label": server.id ? `Edit MCP server ${server.name}` : "New MCP server" },
    field({ label: "Name", name: "name", value: server.name || "", required: true, attrs: { maxlength: 100 } }),
    field({ label: "Server URL", name: "url", type: "url", value: server.url || "", required: true,
      help: "The server's Streamable HTTP endpoint, e.g. https://mcp.example.com/mcp.", attrs: { placeholder: "https://mcp.example.com/mcp", spellcheck: "false" } }),
    headersBox.node,
    h("div", { class: "actions" }, h("button", { class: "btn btn-primary", type: "submit", text: submitLabel }), onCancel ? button("Cancel", onCancel) : null));
  onSubmit(form, async (values) => {
    const headers = headersBox.read();
    if (headers.error) { showFieldErrors(form, { headers: headers.error }); return false; }
    await onSave({ name: values.name.trim(), url: values.url.trim(), headers: headers.headers });
    return true;
  }, { guard: true });
  return form;
}

function toolsTable(tools) {
  return table([
    { label: "Tool", render: (t) => h("code", { text: t.name }) },
    { label: "Description", render: (t) => t.description || "—" },
    { label: "Read only", render: (t) => (t.read_only === true ? badge("read only", "ok") : t.read_only === false ? badge("changes things", "warn") : "unknown") },
    { label: "Parameters", render: (t) => h("details", {}, h("summary", { text: Object.keys((t.input_schema && t.input_schema.properties) || {}).join(", ") || "none" }),
      h("pre", { class: "snippet", text: JSON.stringify(t.input_schema || {}, null, 2) })) },
  ], tools, { empty: "This server offers no tools.", caption: "Tools" });
}

export function unavailableNotice(message, retry) {
  return h("div", { class: "callout warn mcp-unavailable", role: "alert" },
    h("p", {}, h("strong", { text: "Server unavailable. " }), message || "It did not answer."),
    h("p", { class: "help", text: "Bots that use its tools answer without them until it is back." }),
    retry ? button("Try again", retry, { small: true }) : null);
}

async function showTools(state, server) {
  const body = h("div", { "aria-live": "polite" }, loading("Asking the server for its tools…"));
  replace(state.detailBox, card(`Tools of ${server.name}`, body));
  const load = async () => {
    replace(body, loading("Asking the server for its tools…"));
    try {
      const result = await serverTools(state.ctx.ws, server.id);
      replace(body, result.unavailable ? unavailableNotice(result.unavailable, load) : toolsTable(result.tools));
    } catch (error) { replace(body); toastError(error); }
  };
  await load();
}

function showEditor(state, server) {
  const { ctx } = state;
  const form = serverForm(server, { submitLabel: "Save server", onCancel: () => replace(state.detailBox), onSave: async (body) => {
    await patch(`${serversPath(ctx.ws)}/${server.id}`, body);
    toast("MCP server saved.");
    replace(state.detailBox);
    await state.refresh();
  } });
  replace(state.detailBox, card(`Edit ${server.name}`, form));
  form.querySelector("input").focus();
}

async function removeServer(state, server) {
  if (!(await confirmDialog({ title: `Delete “${server.name}”?`, message: "Bots that use its tools lose them." }))) return;
  try {
    await del(`${serversPath(state.ctx.ws)}/${server.id}`);
    toast("MCP server deleted.");
    replace(state.detailBox);
    await state.refresh();
  } catch (error) { toastError(error); }
}

function serversTable(state, items) {
  const canEdit = state.ctx.can("editor");
  return table([
    { label: "Name", render: (s) => s.name },
    { label: "URL", render: (s) => h("code", { text: s.url }) },
    { label: "Headers", render: (s) => ((s.headers || []).length ? h("span", {}, s.headers.map((x) => h("span", { class: "badge ok", text: `${x.name} set` }))) : "none") },
    { label: "Added", render: (s) => formatDate(s.created_at) },
    { label: "", render: (s) => h("div", { class: "actions" },
      button("Tools", () => showTools(state, s), { small: true, attrs: { "aria-label": `Tools of ${s.name}` } }),
      canEdit ? button("Edit", () => showEditor(state, s), { small: true, attrs: { "aria-label": `Edit ${s.name}` } }) : null,
      canEdit ? button("Delete", () => removeServer(state, s), { kind: "danger", small: true, attrs: { "aria-label": `Delete ${s.name}` } }) : null) },
  ], items, { empty: "No MCP servers yet.", caption: "MCP servers" });
}

export async function render(ctx) {
  const listBox = h("div");
  const detailBox = h("div");
  const state = { ctx, listBox, detailBox };
  state.refresh = async () => replace(listBox, serversTable(state, await listAll(serversPath(ctx.ws))));
  await state.refresh();
  let create = null;
  if (ctx.can("editor")) {
    const holder = h("div");
    const fresh = () => replace(holder, serverForm({}, { submitLabel: "Add server", onSave: async (body) => {
      const created = await post(serversPath(ctx.ws), body);
      toast("MCP server added. Its tools can now be picked in each bot's settings.");
      fresh();
      await state.refresh();
      await showTools(state, created);
    } }));
    fresh();
    create = card("Add an MCP server", holder);
  }
  replace(ctx.main, pageHeader("MCP servers"),
    h("p", { text: "Remote tool servers that speak the Model Context Protocol. Their tools are listed live and picked per bot in its settings; every call is logged with the conversation." }),
    h("div", { class: "stack" }, create, card("Servers", listBox), detailBox));
}
