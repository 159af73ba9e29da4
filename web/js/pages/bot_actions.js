// A bot's HTTP actions: the list, the editor (create and edit) and the Test panel of a saved one.
// `?action=<id>` opens one in the editor, `?action=new` a new one, so a reload keeps the place.

import { del, get, patch, post } from "../api.js";
import { badge, button, card, confirmDialog, emptyState, pageHeader, table, toast, toastError } from "../components.js";
import { h, replace } from "../dom.js";
import { setQuery } from "../router.js";
import { actionForm, NEW_ACTION, testPanel } from "./action_form.js";
import { botTabs } from "./bots.js";
import { actionsPath, listAll } from "./tool_sources.js";

function flags(a) {
  return h("span", { class: "flags" }, a.enabled ? null : badge("disabled", "warn"), a.confirm ? badge("confirm first") : null,
    a.verified_only ? badge("verified only") : null);
}

function actionsTable(state, items) {
  const { ctx } = state;
  const canEdit = ctx.can("editor");
  return table([
    { label: "Name", render: (a) => h("code", { text: a.name }) },
    { label: "Label", render: (a) => a.label || "—" },
    { label: "Request", render: (a) => h("code", { class: "request", text: `${a.method} ${a.url}` }) },
    { label: "Options", render: flags },
    { label: "", render: (a) => h("div", { class: "actions" },
      button(canEdit ? "Edit" : "View", () => state.open(a.id), { small: true, attrs: { "aria-label": `${canEdit ? "Edit" : "View"} ${a.name}` } }),
      canEdit ? button("Delete", () => removeAction(state, a), { kind: "danger", small: true, attrs: { "aria-label": `Delete ${a.name}` } }) : null) },
  ], items, { empty: emptyState("No actions yet", "An action lets the bot look something up or do something through your API, like checking an order."),
    caption: "Actions" });
}

async function removeAction(state, action) {
  if (!(await confirmDialog({ title: `Delete “${action.name}”?`, message: "The bot can no longer use it; the conversation log keeps its past calls." }))) return;
  try {
    await del(`${actionsPath(state.ctx.ws, state.bot.id)}/${action.id}`);
    toast("Action deleted.");
    if (state.openId === action.id) state.close();
    await state.refresh();
  } catch (error) { toastError(error); }
}

function showEditor(state, action) {
  const { ctx, bot } = state;
  const isNew = !action.id;
  const canEdit = ctx.can("editor");
  const form = actionForm(action, {
    readOnly: !canEdit, submitLabel: isNew ? "Create action" : "Save action", onCancel: () => state.close(),
    onSave: async (body) => {
      const saved = isNew ? await post(actionsPath(ctx.ws, bot.id), body) : await patch(`${actionsPath(ctx.ws, bot.id)}/${action.id}`, body);
      toast(isNew ? "Action created. Pick it under the bot's tools to let the bot use it." : "Action saved.");
      await state.refresh();
      // Reopened from the server's copy: stored headers now read "set", the Test panel appears.
      state.open(saved.id);
    },
  });
  replace(state.detailBox, h("div", { class: "stack" }, card(isNew ? "New action" : `Action ${action.name}`, form),
    isNew || !canEdit ? null : testPanel(ctx, bot.id, action)));  // the server lets editors test, as it lets them write
  const first = form.querySelector("input:not([disabled])");
  if (first) first.focus();
}

export async function render(ctx) {
  const bot = await get(`/workspaces/${ctx.ws}/chatbots/${ctx.params.bot}`);
  const listBox = h("div");
  const detailBox = h("div", { class: "action-editor" });
  const state = { ctx, bot, listBox, detailBox, openId: null, items: [] };
  state.refresh = async () => { state.items = await listAll(actionsPath(ctx.ws, bot.id)); replace(listBox, actionsTable(state, state.items)); };
  state.close = () => { state.openId = null; replace(detailBox); setQuery({}); };
  state.open = async (id) => {
    try {
      const action = id === "new" ? { ...NEW_ACTION } : await get(`${actionsPath(ctx.ws, bot.id)}/${id}`);
      state.openId = id;
      setQuery({ action: id });
      showEditor(state, action);
    } catch (error) { toastError(error); }
  };
  await state.refresh();
  const create = ctx.can("editor") ? button("New action", () => state.open("new"), { kind: "primary" }) : null;
  replace(ctx.main, pageHeader(bot.name, create), botTabs(ctx, bot, "actions"),
    h("p", { class: "help", text: "HTTP actions this bot may call while it answers. Each one still has to be picked under the bot's tools (Settings & preview)." }),
    h("div", { class: "stack" }, card("Actions", listBox), detailBox));
  if (ctx.query.action) await state.open(ctx.query.action);
}
