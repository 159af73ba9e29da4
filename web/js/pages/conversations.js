// Conversation log: filter by bot, dates and text; newest first, page by page; export.

import { apiUrl, get } from "../api.js";
import { badge, button, emptyState, field, pageHeader, table } from "../components.js";
import { formatDate, h, replace } from "../dom.js";
import { setQuery } from "../router.js";

function filtersForm(bots, query) {
  return h("form", { class: "filters", role: "search", "aria-label": "Filter conversations" },
    field({ label: "Chatbot", name: "chatbot_id", type: "select", value: query.chatbot_id || "",
      options: [["", "All chatbots"], ...bots.map((b) => [b.id, b.name])] }),
    field({ label: "From", name: "from", type: "date", value: query.from || "" }),
    field({ label: "To", name: "to", type: "date", value: query.to || "" }),
    field({ label: "Search", name: "q", type: "search", value: query.q || "", attrs: { placeholder: "Words in messages" } }),
    h("button", { class: "btn btn-primary", type: "submit" }, "Apply"));
}

// Date inputs give days; the API compares timestamps, so "to" means the end of that day.
export function apiFilters(values) {
  const out = {};
  if (values.chatbot_id) out.chatbot_id = values.chatbot_id;
  if (values.q) out.q = values.q;
  if (values.from) out.from = values.from + "T00:00:00Z";
  if (values.to) out.to = values.to + "T23:59:59Z";
  return out;
}

export async function render(ctx) {
  const bots = await get(`/workspaces/${ctx.ws}/chatbots`);
  const names = Object.fromEntries(bots.map((b) => [b.id, b.name]));
  const form = filtersForm(bots, ctx.query);
  const results = h("div", { "aria-live": "polite" });
  const more = h("div", { class: "actions" });
  const exports = h("div", { class: "actions" });
  let rows = [];
  const columns = [
    { label: "Started", render: (c) => h("a", { href: `#${ctx.base}/conversations/${c.id}`, text: formatDate(c.started_at) }) },
    { label: "Chatbot", render: (c) => c.chatbot_name || names[c.chatbot_id] || "(deleted)" },
    { label: "Channel", render: (c) => badge(c.channel) },
    { label: "Messages", num: true, render: (c) => String(c.message_count ?? "") },
    { label: "Last message", render: (c) => formatDate(c.last_message_at) },
  ];
  const load = async (cursor) => {
    const values = Object.fromEntries(new FormData(form));
    const filters = apiFilters(values);
    const page = await get(`/workspaces/${ctx.ws}/conversations`, { ...filters, cursor });
    rows = cursor ? rows.concat(page.items) : page.items;
    replace(results, rows.length ? table(columns, rows, { caption: "Conversations" })
      : emptyState("No conversations", "Conversations appear here once someone chats with a bot."));
    replace(more, page.next_cursor ? button("Load more", () => load(page.next_cursor)) : null);
    replace(exports, ...["csv", "jsonl"].map((format) => h("a", { class: "btn btn-small",
      href: apiUrl(`/workspaces/${ctx.ws}/conversations/export`, { ...filters, format }), download: "" }, `Export ${format.toUpperCase()}`)));
    if (!cursor) setQuery(values);
  };
  form.addEventListener("submit", (e) => { e.preventDefault(); load(); });
  replace(ctx.main, pageHeader("Conversations", exports), form, results, more);
  await load();
}
