// The bot's tools: which of its HTTP actions, which tools of the workspace's MCP servers (listed
// live; a server that does not answer says so and keeps the tools already picked from it) and
// which built-ins it may use, and how many tool rounds one message may take. When the bot's model
// cannot call tools, the note says why (the server's tool_support).

import { patch } from "../api.js";
import { field, isDirty, loading, markSaved, onSubmit, toast } from "../components.js";
import { h, replace } from "../dom.js";
import { unavailableNotice } from "./mcp_servers.js";
import { actionsPath, listAll, serversPath, serverTools } from "./tool_sources.js";

const BUILTINS = [
  ["handoff", "Hand over to a person", "The model may move the conversation to the inbox when the visitor needs a person (Human handoff must be on)."],
  ["collect_lead", "Ask for contact details", "The model may show the lead form to the visitor."],
];

export function pickKey(pick) {
  if (pick.type === "action") return `action:${pick.id}`;
  if (pick.type === "mcp") return `mcp:${pick.server_id}:${pick.tool}`;
  return `builtin:${pick.name}`;
}

let counter = 0;

function pickBox(pick, picked, label, help, extra = {}) {
  const id = "tool-" + ++counter;
  const input = h("input", { type: "checkbox", id, name: "tool:" + pickKey(pick), class: "tool-pick", checked: picked.has(pickKey(pick)),
    dataset: { pick: JSON.stringify(pick) }, disabled: extra.disabled });
  return h("div", { class: "field check" }, input, h("label", { for: id }, label), help ? h("div", { class: "help", text: help }) : null);
}

export function supportNote(bot) {
  const support = bot.tool_support;
  if (!support || support.supported !== false) return null;
  return h("div", { class: "callout warn tool-support-note", role: "note" },
    h("strong", { text: "This model cannot use tools. " }), support.reason || "The bot answers without them; pick another model under Settings to use them.");
}

function actionBoxes(ctx, bot, actions, picked, ro) {
  if (!actions.length) {
    return h("p", { class: "help" }, "No actions yet. ", h("a", { href: `#${ctx.base}/bots/${bot.id}/actions`, text: "Add one under Actions" }), ".");
  }
  return actions.map((a) => pickBox({ type: "action", id: a.id }, picked, h("span", {}, h("code", { text: a.name }), a.enabled ? "" : " (disabled)"),
    a.description, ro));
}

// One server's tools, or its unavailable state; tools already picked stay picked either way.
function serverBoxes(server, result, bot, picked, ro) {
  const mine = (bot.tools || []).filter((t) => t.type === "mcp" && t.server_id === server.id);
  if (result.unavailable) {
    return [unavailableNotice(result.unavailable, null),
      ...mine.map((t) => pickBox(t, picked, h("span", {}, h("code", { text: t.tool }), " (not listed right now)"), null, ro))];
  }
  const listed = new Set(result.tools.map((t) => t.name));
  return [
    ...result.tools.map((t) => pickBox({ type: "mcp", server_id: server.id, tool: t.name }, picked, h("code", { text: t.name }), t.description, ro)),
    ...mine.filter((t) => !listed.has(t.tool)).map((t) => pickBox(t, picked, h("span", {}, h("code", { text: t.tool }), " (no longer offered by the server)"), null, ro)),
    result.tools.length ? null : h("p", { class: "help", text: "This server offers no tools." }),
  ];
}

async function fillServers(ctx, bot, form, box, picked, ro) {
  const servers = await listAll(serversPath(ctx.ws));
  if (!servers.length) {
    replace(box, h("p", { class: "help" }, "No MCP servers in this workspace. ", h("a", { href: `#${ctx.base}/mcp-servers`, text: "Add one" }), "."));
    return;
  }
  const groups = servers.map((server) => {
    const group = h("fieldset", { class: "tool-server", dataset: { server: server.id } }, h("legend", { text: server.name }), loading("Listing its tools…"));
    const fill = async () => {
      const result = await serverTools(ctx.ws, server.id).catch((error) => ({ unavailable: error.message }));
      const untouched = !isDirty(form);
      replace(group, h("legend", { text: server.name }), serverBoxes(server, result, bot, picked, ro));
      if (untouched) markSaved(form); // drawn by the page, not picked: not an unsaved edit
    };
    return { group, fill };
  });
  replace(box, groups.map((g) => g.group));
  await Promise.all(groups.map((g) => g.fill()));
}

export function toolsCard(ctx, bot, canEdit) {
  const ro = canEdit ? {} : { disabled: true };
  const picked = new Set((bot.tools || []).map(pickKey));
  const note = h("div", {}, supportNote(bot));
  const actionsBox = h("div", {}, loading("Loading actions…"));
  const serversBox = h("div", {}, loading("Loading MCP servers…"));
  const form = h("form", { class: "form tools-form", novalidate: true, "aria-label": "Tools" }, note,
    h("div", { class: "field", dataset: { field: "tools" } },
      h("fieldset", {}, h("legend", { text: "HTTP actions" }), actionsBox),
      h("fieldset", {}, h("legend", { text: "MCP tools" }), serversBox),
      h("fieldset", {}, h("legend", { text: "Built in" }), BUILTINS.map(([name, label, help]) => pickBox({ type: "builtin", name }, picked, label, help, ro))),
      h("div", { class: "error", hidden: true })),
    field({ label: "Tool rounds per message", name: "max_tool_rounds", type: "number", value: bot.max_tool_rounds ?? 3,
      help: "How many times the model may call tools before it must answer (1–8).", attrs: { min: 1, max: 8, ...ro } }),
    canEdit ? h("div", { class: "actions" }, h("button", { class: "btn btn-primary", type: "submit", text: "Save tools" })) : null);
  if (canEdit) {
    onSubmit(form, async (values) => {
      const tools = [...form.querySelectorAll("input.tool-pick:checked")].map((el) => JSON.parse(el.dataset.pick));
      const saved = await patch(`/workspaces/${ctx.ws}/chatbots/${bot.id}`, { tools, max_tool_rounds: values.max_tool_rounds });
      Object.assign(bot, saved);
      replace(note, supportNote(bot));
      toast(tools.length ? `Tools saved: the bot may use ${tools.length} tool${tools.length === 1 ? "" : "s"}.` : "Tools saved: the bot uses none.");
    }, { guard: true });
  }
  listAll(actionsPath(ctx.ws, bot.id)).then((actions) => {
    const untouched = !isDirty(form);
    replace(actionsBox, actionBoxes(ctx, bot, actions, picked, ro));
    if (untouched) markSaved(form);
  }, (error) => replace(actionsBox, h("p", { class: "error", text: `Could not load the actions: ${error.message}` })));
  fillServers(ctx, bot, form, serversBox, picked, ro).catch((error) => replace(serversBox, h("p", { class: "error", text: `Could not load the MCP servers: ${error.message}` })));
  // The settings form changes the model: the note follows what the server says of the new one.
  return { node: form, sync: (next) => replace(note, supportNote(next)) };
}
