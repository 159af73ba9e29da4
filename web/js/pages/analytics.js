// Analytics: usage by day, model and chatbot over a chosen period, and answer quality: resolved
// conversations (an answer, none weak, no handoff: the server's rule, core/answer_quality.py),
// the resolution rate and unanswered answers, each figure linking to the conversations behind it.

import { get } from "../api.js";
import { card, field, pageHeader, table } from "../components.js";
import { daysAgo, formatCost, formatMs, formatNumber, h, isoDay, replace } from "../dom.js";
import { barChart, lineChart } from "../charts.js";
import { setQuery } from "../router.js";

export function usageQuery(from, to, groupBy) {
  return { group_by: groupBy, from: from + "T00:00:00Z", to: to + "T23:59:59Z" };
}

// Every day of the period, zero-filled, so gaps show as zero instead of being skipped.
export function fillDays(groups, from, to) {
  const byDay = Object.fromEntries(groups.map((g) => [String(g.key).slice(0, 10), g]));
  const out = [];
  for (let d = new Date(from + "T00:00:00Z"); isoDay(d) <= to; d.setUTCDate(d.getUTCDate() + 1)) {
    out.push(byDay[isoDay(d)] || { key: isoDay(d), messages: 0, conversations: 0, cost: 0, tokens_in: 0, tokens_out: 0, handoffs: 0, human_handled: 0, resolved: 0, unanswered: 0 });
  }
  return out;
}

// The conversation log filtered to the conversations behind a figure (dates as the log's form takes them).
export function logLink(base, filters, text) {
  const qs = new URLSearchParams(Object.entries(filters).filter(([, v]) => v)).toString();
  return h("a", { href: `#${base}/conversations${qs ? "?" + qs : ""}`, class: "figure-link", text });
}

export function formatRate(rate) {
  return rate === null || rate === undefined ? "—" : `${Math.round(rate * 1000) / 10} %`;
}

export function summaryStats(totals, links = null) {
  const stat = (label, value) => h("div", { class: "stat" }, h("div", { class: "label", text: label }), h("div", { class: "value" }, value));
  const linked = (text, filters) => (links ? logLink(links.base, { ...links.period, ...filters }, text) : text);
  return h("div", { class: "stats" },
    stat("Messages", formatNumber(totals.messages)), stat("Conversations", linked(formatNumber(totals.conversations), {})),
    stat("Resolved", linked(`${formatNumber(totals.resolved)} · ${formatRate(totals.resolution_rate)}`, { resolved: "true" })),
    stat("Not resolved", linked(formatNumber((totals.conversations || 0) - (totals.resolved || 0)), { resolved: "false" })),
    stat("Unanswered answers", linked(formatNumber(totals.unanswered), { unanswered: "true" })),
    stat("Cost", formatCost(totals.cost)), stat("Latency p50 / p95", `${formatMs(totals.latency_p50_ms)} / ${formatMs(totals.latency_p95_ms)}`),
    stat("Feedback", `${totals.feedback_up || 0} up · ${totals.feedback_down || 0} down`),
    stat("Handoffs", formatNumber(totals.handoffs)), stat("Answered by people", formatNumber(totals.human_handled)),
    stat("First human reply (median)", formatSeconds(totals.first_human_reply_seconds_p50)));
}

// Seconds to a person's first answer: "45 s", "3 min 20 s", "2 h 05 min"; "—" when none.
export function formatSeconds(value) {
  if (value === null || value === undefined) return "—";
  const s = Math.round(Number(value));
  if (s < 60) return `${s} s`;
  if (s < 3600) return `${Math.floor(s / 60)} min ${String(s % 60).padStart(2, "0")} s`;
  return `${Math.floor(s / 3600)} h ${String(Math.floor((s % 3600) / 60)).padStart(2, "0")} min`;
}

export function dailyCharts(days) {
  const labels = days.map((d) => d.key.slice(5));
  return h("div", { class: "grid-2" },
    card(null, lineChart({ title: "Messages and conversations per day", labels, format: (v) => formatNumber(v), integer: true,
      series: [{ name: "Messages", values: days.map((d) => d.messages) }, { name: "Conversations", values: days.map((d) => d.conversations) }] })),
    card(null, barChart({ title: "Cost per day", format: formatCost, data: days.map((d) => ({ label: d.key.slice(5), value: d.cost })) })),
    card(null, lineChart({ title: "Resolved conversations per day", labels, format: (v) => formatNumber(v), integer: true,
      series: [{ name: "Conversations", values: days.map((d) => d.conversations) }, { name: "Resolved", values: days.map((d) => d.resolved || 0) },
        { name: "Unanswered answers", values: days.map((d) => d.unanswered || 0) }] })),
    card(null, lineChart({ title: "Handoffs per day", labels, format: (v) => formatNumber(v), integer: true,
      series: [{ name: "Asked for a person", values: days.map((d) => d.handoffs || 0) }, { name: "Answered by people", values: days.map((d) => d.human_handled || 0) }] })));
}

// links(g) gives the log filters of a group's conversations (its bot, or only the period).
function groupTable(groups, label, name, links) {
  const linked = (g, text, filters) => logLink(links.base, { ...links.period, ...links.of(g), ...filters }, text);
  return table([
    { label, render: name },
    { label: "Messages", num: true, render: (g) => formatNumber(g.messages) },
    { label: "Tokens in / out", num: true, render: (g) => `${formatNumber(g.tokens_in)} / ${formatNumber(g.tokens_out)}` },
    { label: "Cost", num: true, render: (g) => formatCost(g.cost) },
    { label: "p95 latency", num: true, render: (g) => formatMs(g.latency_p95_ms) },
    { label: "Handoffs", num: true, render: (g) => formatNumber(g.handoffs) },
    { label: "Resolved", num: true, render: (g) => linked(g, formatNumber(g.resolved), { resolved: "true" }) },
    { label: "Resolution rate", num: true, render: (g) => formatRate(g.resolution_rate) },
    { label: "Unanswered", num: true, render: (g) => linked(g, formatNumber(g.unanswered), { unanswered: "true" }) },
  ], groups, { empty: "No usage in this period.", caption: label });
}

// Calls and failures per tool over the period; a failure is any call that did not finish well.
export function toolsTable(items) {
  return table([
    { label: "Tool", render: (t) => h("code", { text: t.name }) },
    { label: "Kind", render: (t) => ({ action: "HTTP action", mcp: "MCP tool", builtin: "built in" })[t.type] || t.type },
    { label: "Calls", num: true, render: (t) => formatNumber(t.calls) },
    { label: "Failures", num: true, render: (t) => formatNumber(t.failures) },
    { label: "Failure rate", num: true, render: (t) => (t.calls ? `${Math.round((100 * t.failures) / t.calls)} %` : "—") },
    { label: "p50 latency", num: true, render: (t) => formatMs(t.p50_latency_ms) },
  ], items, { empty: "No tool calls in this period.", caption: "Tool calls" });
}

async function toolsCard(ctx, from, to) {
  try {
    const body = await get(`/workspaces/${ctx.ws}/analytics/tools`, { from: from + "T00:00:00Z", to: to + "T23:59:59Z" });
    return card("Tool calls", toolsTable(body.items || []));
  } catch (error) {
    return card("Tool calls", h("p", { class: "error", text: `Could not load tool calls: ${error.message}` }));
  }
}

export async function render(ctx) {
  const from = ctx.query.from || isoDay(daysAgo(29));
  const to = ctx.query.to || isoDay(new Date());
  const path = `/workspaces/${ctx.ws}/analytics/usage`;
  const [byDay, byModel, byBot, tools] = await Promise.all([...["day", "model", "chatbot"].map((g) => get(path, usageQuery(from, to, g))), toolsCard(ctx, from, to)]);
  const form = h("form", { class: "filters", "aria-label": "Period" },
    field({ label: "From", name: "from", type: "date", value: from }), field({ label: "To", name: "to", type: "date", value: to }),
    h("button", { class: "btn btn-primary", type: "submit" }, "Show"));
  form.addEventListener("submit", (e) => {
    e.preventDefault();
    const values = Object.fromEntries(new FormData(form));
    setQuery(values);
    render({ ...ctx, query: values });
  });
  const botName = (g) => g.chatbot_name || (g.key ? "(deleted bot)" : "—");
  // The log filters by a conversation's last message, these figures by the day of each answer:
  // over a period they are the same conversations unless one spans its edge.
  const period = { base: ctx.base, period: { from, to } };
  const perBot = { ...period, of: (g) => ({ chatbot_id: g.key }) };
  const perModel = { ...period, of: () => ({}) };  // the log has no model filter: the period's conversations
  replace(ctx.main, pageHeader("Analytics", h("a", { class: "btn", href: `#${ctx.base}/insights?from=${from}&to=${to}` }, "Unanswered questions")),
    form, summaryStats(byDay.totals, period), dailyCharts(fillDays(byDay.groups, from, to)),
    h("div", { class: "grid-2" },
      card(null, barChart({ title: "Cost by model", format: formatCost, data: byModel.groups.map((g) => ({ label: g.key || "unknown", value: g.cost })) })),
      card(null, barChart({ title: "Messages by chatbot", format: (v) => formatNumber(v), integer: true, data: byBot.groups.map((g) => ({ label: botName(g), value: g.messages })) }))),
    h("div", { class: "grid-2" }, card("By model", groupTable(byModel.groups, "Model", (g) => g.key || "unknown", perModel)),
      card("By chatbot", groupTable(byBot.groups, "Chatbot", botName, perBot))), tools);
}
