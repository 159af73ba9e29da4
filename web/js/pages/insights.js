// Insights: the visitor questions the bots answered weakly (no source over the threshold, a
// fallback, thumbs down, a handoff right after, the same question asked again), grouped by
// similarity, largest groups first. Each group shows its reasons and examples linking to their
// conversations, and "Improve" writes the right answer as a correction in the bot's knowledge.

import { get } from "../api.js";
import { badge, card, emptyState, field, pageHeader } from "../components.js";
import { daysAgo, formatDate, formatNumber, h, isoDay, replace } from "../dom.js";
import { setQuery } from "../router.js";
import { improveButton } from "./improve.js";

export const REASON_LABELS = {
  no_source: "no source over the threshold", fallback: "fallback answer", thumbs_down: "rated not helpful",
  handoff: "asked for a person", repeat: "asked again",
};

export function reasonBadges(reasons) {
  const entries = Array.isArray(reasons) ? reasons.map((r) => [r, null]) : Object.entries(reasons || {});
  return entries.map(([reason, count]) => badge(`${REASON_LABELS[reason] || reason}${count > 1 ? ` ×${count}` : ""}`,
    reason === "fallback" || reason === "thumbs_down" ? "error" : "warn"));
}

function groupCard(ctx, group) {
  const [first] = group.examples;
  const improve = first ? improveButton(ctx, { conversationId: first.conversation_id, messageId: first.message_id,
    question: group.label, label: "Improve the answer" }) : null;
  return h("section", { class: "card insight-group", dataset: { group: group.label } },
    h("div", { class: "insight-head" },
      h("h2", { text: group.label }),
      h("span", { class: "insight-count", "aria-label": `${group.count} questions`, text: `${formatNumber(group.count)}×` })),
    h("div", { class: "msg-meta" }, h("span", { text: group.chatbot_name || "(deleted bot)" }), ...reasonBadges(group.reasons),
      h("span", { class: "muted", text: `latest ${formatDate(group.latest_at)}` })),
    h("ul", { class: "insight-examples" }, group.examples.map((e) => h("li", {},
      h("a", { href: `#${ctx.base}/conversations/${e.conversation_id}`, text: e.question }),
      " ", h("span", { class: "muted", text: formatDate(e.created_at) })))),
    improve ? h("div", { class: "actions" }, improve) : null);
}

export async function render(ctx) {
  const from = ctx.query.from || isoDay(daysAgo(29));
  const to = ctx.query.to || isoDay(new Date());
  const chatbotId = ctx.query.chatbot_id || "";
  const [bots, report] = await Promise.all([get(`/workspaces/${ctx.ws}/chatbots`), get(`/workspaces/${ctx.ws}/insights/unanswered`,
    { from: from + "T00:00:00Z", to: to + "T23:59:59Z", ...(chatbotId ? { chatbot_id: chatbotId } : {}) })]);
  const form = h("form", { class: "filters", "aria-label": "Filter questions" },
    field({ label: "Chatbot", name: "chatbot_id", type: "select", value: chatbotId, options: [["", "All chatbots"], ...bots.map((b) => [b.id, b.name])] }),
    field({ label: "From", name: "from", type: "date", value: from }), field({ label: "To", name: "to", type: "date", value: to }),
    h("button", { class: "btn btn-primary", type: "submit" }, "Show"));
  form.addEventListener("submit", (e) => {
    e.preventDefault();
    const values = Object.fromEntries(new FormData(form));
    setQuery(values);
    render({ ...ctx, query: values });
  });
  const groups = report.groups || [];
  const list = groups.length ? h("div", { class: "insight-groups" }, groups.map((g) => groupCard(ctx, g)))
    : emptyState("No unanswered questions", "Every answer in this period had knowledge behind it, and nobody rated one down or asked for a person.");
  replace(ctx.main, pageHeader("Unanswered questions"),
    h("p", { class: "muted", text: "Questions whose answers were weak, grouped by meaning. Improve an answer to add the right one to the bot's knowledge." }),
    form, card(null, h("p", {}, `${formatNumber(groups.reduce((n, g) => n + g.count, 0))} questions in ${formatNumber(groups.length)} groups`)), list);
}
