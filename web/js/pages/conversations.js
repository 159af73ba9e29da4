// Conversation log: filter by bot, dates, text, feedback, unanswered and resolved; newest first, page by
// page; export. Each row says what was asked first, how it was rated and whether the bot had
// knowledge for its answers.

import { apiUrl, get } from "../api.js";
import { badge, button, emptyState, field, pageHeader, table } from "../components.js";
import { formatDate, h, replace } from "../dom.js";
import { setQuery } from "../router.js";
import { contactLink } from "./contacts.js";

// Resolved: an answer, none of them weak, no handoff (the server's rule, core/answer_quality.py).
const RESOLVED = [["", "Resolved or not"], ["true", "Resolved"], ["false", "Not resolved"]];
const FEEDBACK = [["", "Any feedback"], ["up", "Rated helpful"], ["down", "Rated not helpful"], ["none", "Not rated"]];

function filtersForm(bots, query) {
  return h("form", { class: "filters", role: "search", "aria-label": "Filter conversations" },
    field({ label: "Chatbot", name: "chatbot_id", type: "select", value: query.chatbot_id || "",
      options: [["", "All chatbots"], ...bots.map((b) => [b.id, b.name])] }),
    field({ label: "From", name: "from", type: "date", value: query.from || "" }),
    field({ label: "To", name: "to", type: "date", value: query.to || "" }),
    field({ label: "Search", name: "q", type: "search", value: query.q || "", attrs: { placeholder: "Words in messages" } }),
    field({ label: "Feedback", name: "feedback", type: "select", value: query.feedback || "", options: FEEDBACK }),
    field({ label: "Resolution", name: "resolved", type: "select", value: query.resolved || "", options: RESOLVED }),
    field({ label: "Only unanswered", name: "unanswered", type: "checkbox", value: query.unanswered === "true",
      attrs: { title: "Conversations with an answer that had no source over the threshold, failed, was rated down, "
        + "was followed by a request for a person or by the same question again" } }),
    h("button", { class: "btn btn-primary", type: "submit" }, "Apply"));
}

export function formFilters(form) {
  const values = Object.fromEntries(new FormData(form));
  values.unanswered = form.elements.unanswered.checked ? "true" : "";
  return values;
}

// Date inputs give days; the API compares timestamps, so "to" means the end of that day.
export function apiFilters(values) {
  const out = {};
  for (const key of ["chatbot_id", "q", "feedback", "resolved"]) if (values[key]) out[key] = values[key];
  if (values.unanswered === "true") out.unanswered = "true";
  if (values.from) out.from = values.from + "T00:00:00Z";
  if (values.to) out.to = values.to + "T23:59:59Z";
  return out;
}

function feedbackBadge(c) {
  if (c.feedback === "down") return badge(`not helpful${c.feedback_down > 1 ? ` ×${c.feedback_down}` : ""}`, "error");
  if (c.feedback === "up") return badge(`helpful${c.feedback_up > 1 ? ` ×${c.feedback_up}` : ""}`, "ok");
  return h("span", { class: "muted", text: "—" });
}

function columns(ctx, names) {
  return [
    { label: "First question", render: (c) => h("a", { href: `#${ctx.base}/conversations/${c.id}`, class: "first-question",
      text: c.first_question || "(no question)" }) },
    { label: "Chatbot", render: (c) => c.chatbot_name || names[c.chatbot_id] || "(deleted)" },
    { label: "Contact", render: (c) => contactLink(ctx, c.contact) || h("span", { class: "muted", text: "anonymous" }) },
    { label: "Channel", render: (c) => badge(c.channel) },
    { label: "Messages", num: true, render: (c) => String(c.message_count ?? "") },
    { label: "Feedback", render: feedbackBadge },
    { label: "Answered", render: (c) => (c.unanswered ? badge("unanswered", "warn") : h("span", { class: "muted", text: "yes" })) },
    { label: "Last message", render: (c) => formatDate(c.last_message_at) },
  ];
}

function nothingFound(filters, clear) {
  const filtered = Object.keys(filters).length > 0;
  return filtered
    ? emptyState("No conversations match these filters", "Try other words, a longer period or fewer filters.", button("Clear filters", clear))
    : emptyState("No conversations yet", "Conversations appear here once someone chats with a bot.");
}

export async function render(ctx) {
  const bots = await get(`/workspaces/${ctx.ws}/chatbots`);
  const names = Object.fromEntries(bots.map((b) => [b.id, b.name]));
  const form = filtersForm(bots, ctx.query);
  const results = h("div", { "aria-live": "polite" });
  const more = h("div", { class: "actions" });
  const exports = h("div", { class: "actions" });
  let rows = [];
  const load = async (cursor) => {
    const values = formFilters(form);
    const filters = apiFilters(values);
    const page = await get(`/workspaces/${ctx.ws}/conversations`, { ...filters, cursor });
    rows = cursor ? rows.concat(page.items) : page.items;
    const clear = () => { form.reset(); [...form.elements].forEach((el) => { if (el.type === "checkbox") el.checked = false; else if (el.name) el.value = ""; }); load(); };
    replace(results, table(columns(ctx, names), rows, { caption: "Conversations", empty: nothingFound(filters, clear) }));
    replace(more, page.next_cursor ? button("Load more", () => load(page.next_cursor)) : null);
    replace(exports, ...["csv", "jsonl"].map((format) => h("a", { class: "btn btn-small",
      href: apiUrl(`/workspaces/${ctx.ws}/conversations/export`, { ...filters, format }), download: "" }, `Export ${format.toUpperCase()}`)));
    if (!cursor) setQuery(values);
  };
  form.addEventListener("submit", (e) => { e.preventDefault(); load(); });
  replace(ctx.main, pageHeader("Conversations", exports), form, results, more);
  await load();
}
