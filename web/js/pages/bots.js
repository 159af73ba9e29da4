// Chatbots: the list, with links to each bot's settings, knowledge and widget.

import { get } from "../api.js";
import { badge, emptyState, linkButton, pageHeader, table } from "../components.js";
import { formatDate, h, replace } from "../dom.js";

export async function render(ctx) {
  const bots = await get(`/workspaces/${ctx.ws}/chatbots`);
  const create = ctx.can("editor") ? linkButton("New chatbot", `#${ctx.base}/bots/new`, "primary") : null;
  const body = bots.length ? table([
    { label: "Name", render: (b) => h("a", { href: `#${ctx.base}/bots/${b.id}`, text: b.name }) },
    { label: "Model", render: (b) => h("code", { text: b.model }) },
    { label: "Status", render: (b) => (b.published ? badge("published") : badge("draft")) },
    { label: "Updated", render: (b) => formatDate(b.updated_at) },
    { label: "", render: (b) => h("div", { class: "actions" },
      h("a", { href: `#${ctx.base}/bots/${b.id}/knowledge`, text: "Knowledge" }),
      h("a", { href: `#${ctx.base}/bots/${b.id}/widget`, text: "Widget" }),
      h("a", { href: `#${ctx.base}/conversations?chatbot_id=${encodeURIComponent(b.id)}`, text: "Conversations" })) },
  ], bots, { caption: "Chatbots" }) : emptyState("No chatbots yet", "A chatbot answers from its knowledge with the model you pick.", create);
  replace(ctx.main, pageHeader("Chatbots", create), body);
}

// Tabs shared by a bot's pages.
export function botTabs(ctx, bot, active) {
  const tab = (id, label, path) => h("a", { href: `#${ctx.base}/bots/${bot.id}${path}`, "aria-current": id === active ? "page" : null, text: label });
  return h("nav", { class: "tabs", "aria-label": "Chatbot sections" },
    tab("settings", "Settings & preview", ""), tab("knowledge", "Knowledge", "/knowledge"), tab("actions", "Actions", "/actions"),
    tab("widget", "Widget", "/widget"), tab("evals", "Test sets", "/evals"));
}
