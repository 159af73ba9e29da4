// One conversation: every message with its sources, tokens, cost, latency and feedback.

import { get } from "../api.js";
import { badge, card, pageHeader } from "../components.js";
import { formatCost, formatDate, formatMs, h, replace } from "../dom.js";
import { contactLink } from "./contacts.js";
import { improveButton } from "./improve.js";
import { reasonBadges } from "./insights.js";

function sources(message) {
  const list = message.sources || [];
  if (!list.length) return null;
  return h("div", { class: "sources" }, h("strong", { text: "Sources" }), h("ol", {}, list.map((s) => h("li", { class: "citation" },
    s.url && /^https?:/i.test(s.url) ? h("a", { href: s.url, target: "_blank", rel: "noopener noreferrer", text: s.title || s.url }) : (s.title || "Document"),
    s.score !== undefined ? ` · score ${Number(s.score).toFixed(2)}` : ""))));
}

function feedback(value) {
  if (value === 1) return badge("rated helpful", "ok");
  if (value === -1) return badge("rated not helpful", "error");
  return null;
}

// Operator replies carry the person's name; system lines record state changes ("Anna took over").
// With `improve` ({ctx, conversationId, question}), an assistant answer shows why it may be weak
// and, for editors, an "Improve" button.
export function messageView(m, improve = null) {
  if (m.role === "system") {
    return h("p", { class: "msg system", dataset: { message: m.id }, "aria-label": `${m.content} at ${formatDate(m.created_at)}` }, m.content);
  }
  if (m.role === "operator") {
    return h("article", { class: "msg operator", dataset: { message: m.id }, "aria-label": `${m.author_name || "operator"} at ${formatDate(m.created_at)}` },
      h("div", { class: "msg-author", text: m.author_name || "Operator" }), h("div", { class: "msg-text", text: m.content }));
  }
  return botOrVisitorView(m, improve);
}

const CALL_STATUS = { done: "ok", error: "error", refused: "error", unavailable: "warn", declined: "warn", pending: "warn" };

function argumentsText(args) {
  const entries = Object.entries(args || {});
  return entries.length ? entries.map(([k, v]) => `${k}: ${typeof v === "string" ? v : JSON.stringify(v)}`).join("\n") : "no arguments";
}

// Each tool the model called for this answer: what, with which arguments, how it went. All of it
// is text: a response excerpt is whatever the remote server sent.
export function toolCallsView(calls) {
  if (!calls || !calls.length) return null;
  return h("div", { class: "tool-calls" }, h("strong", { text: "Tools used" }), h("ol", {}, calls.map((c) => h("li", { class: "tool-call", dataset: { call: c.call_id } },
    h("div", { class: "msg-meta" }, h("code", { class: "tool-name", text: c.name }), h("span", { text: c.type }),
      badge(c.status, CALL_STATUS[c.status] || ""), c.latency_ms == null ? null : h("span", { class: "tool-latency", text: formatMs(c.latency_ms) })),
    h("pre", { class: "snippet tool-arguments", text: argumentsText(c.arguments) }),
    c.error ? h("div", { class: "error tool-error", text: c.error }) : null,
    c.response_excerpt ? h("details", {}, h("summary", { text: "Response" }), h("pre", { class: "snippet response-excerpt", text: c.response_excerpt })) : null))));
}

function qualityView(m, improve) {
  if (m.role !== "assistant" || !improve) return null;
  const button = improve.question ? improveButton(improve.ctx, { conversationId: improve.conversationId, messageId: m.id, question: improve.question }) : null;
  const reasons = m.reasons || [];
  if (!reasons.length && !button) return null;
  return h("div", { class: "msg-meta msg-quality" }, reasons.length ? h("span", { text: "May be weak:" }) : null, ...reasonBadges(reasons), button);
}

function botOrVisitorView(m, improve) {
  const meta = m.role === "assistant" ? h("div", { class: "msg-meta" },
    m.model ? h("span", { text: m.model }) : null,
    h("span", { text: `${m.tokens_in ?? 0} in / ${m.tokens_out ?? 0} out tokens` }),
    h("span", { text: formatCost(m.cost) }),
    h("span", { text: `first token ${formatMs(m.latency_first_ms)}, total ${formatMs(m.latency_total_ms)}` }),
    m.status && m.status !== "complete" ? badge(m.status, "error") : null, feedback(m.feedback)) : null;
  return h("article", { class: `msg ${m.role}`, dataset: { message: m.id }, "aria-label": `${m.role === "user" ? "visitor" : m.role} at ${formatDate(m.created_at)}` },
    h("div", { text: m.content }), m.error ? h("div", { class: "error", text: m.error }) : null, toolCallsView(m.tool_calls), sources(m), meta,
    qualityView(m, improve));
}

export async function render(ctx) {
  const c = await get(`/workspaces/${ctx.ws}/conversations/${ctx.params.conversation}`);
  const messages = c.messages || [];
  const totals = messages.reduce((acc, m) => ({ cost: acc.cost + Number(m.cost || 0), tokens: acc.tokens + (m.tokens_in || 0) + (m.tokens_out || 0) }), { cost: 0, tokens: 0 });
  // Agents and up can take any conversation from here, not only the ones that wait.
  const inbox = ctx.can("agent") ? h("a", { class: "btn", href: `#${ctx.base}/inbox/${c.id}` }, c.status === "closed" ? "Open in the inbox" : "Take it in the inbox") : null;
  replace(ctx.main, pageHeader(`Conversation with ${c.chatbot_name || "a deleted bot"}`, inbox, h("a", { class: "btn", href: `#${ctx.base}/conversations` }, "Back to the log")),
    h("div", { class: "stats" },
      h("div", { class: "stat" }, h("div", { class: "label", text: "Started" }), h("div", { text: formatDate(c.started_at) })),
      h("div", { class: "stat" }, h("div", { class: "label", text: "Channel" }), h("div", { text: c.channel })),
      h("div", { class: "stat" }, h("div", { class: "label", text: "Contact" }), h("div", {}, contactLink(ctx, c.contact) || "anonymous")),
      h("div", { class: "stat" }, h("div", { class: "label", text: "Messages" }), h("div", { class: "value", text: String(messages.length) })),
      h("div", { class: "stat" }, h("div", { class: "label", text: "Tokens / cost" }), h("div", { text: `${totals.tokens} · ${formatCost(totals.cost)}` }))),
    card("Messages", h("div", { class: "chat-log conversation" }, withQuestions(messages).map(([m, question]) =>
      messageView(m, { ctx, conversationId: c.id, question })))));
}

// Each message with the visitor's question it answers (the last one before it), for "Improve".
function withQuestions(messages) {
  let question = null;
  return messages.map((m) => {
    if (m.role === "user") question = m.content;
    return [m, m.role === "assistant" ? question : null];
  });
}
