// One conversation in the inbox: the whole log (bot answers with sources, operator replies with
// names, system lines for state changes), where the visitor is, and the controls to take it,
// answer, hand it back to the bot or close it. New messages arrive through the shared workspace
// stream (live.js); after each event the page re-reads the conversation and adds what is new.

import { ApiError, get, post } from "../api.js";
import { button, card, clearFormErrors, field, pageHeader, showFormErrors, toast, toastError } from "../components.js";
import { formatDate, h, replace } from "../dom.js";
import { subscribe } from "../live.js";
import { session } from "../state.js";
import { messageView } from "./conversation.js";
import { statusBadge } from "./inbox.js";
import { contactLink } from "./contacts.js";

const MAX_REPLY = 4000;

function messageKey(m) {
  return m.id ? String(m.id) : `${m.role}|${m.created_at}|${m.content}`;
}

// Inserts text at the caret (or over the selection) of a textarea, as typing would.
export function insertAtCaret(textarea, text) {
  const start = textarea.selectionStart ?? textarea.value.length;
  const end = textarea.selectionEnd ?? start;
  const before = textarea.value.slice(0, start);
  const glue = before && !/\s$/.test(before) ? " " : "";
  textarea.value = before + glue + text + textarea.value.slice(end);
  const caret = start + glue.length + text.length;
  textarea.setSelectionRange(caret, caret);
  textarea.dispatchEvent(new Event("input", { bubbles: true }));
  textarea.focus();
}

function safeLink(url) {
  return /^https?:\/\//i.test(url || "") ? h("a", { href: url, target: "_blank", rel: "noopener noreferrer", text: url }) : h("span", { text: url });
}

function contactText(contact) {
  if (!contact) return null;
  return [contact.name, contact.email, contact.phone].filter(Boolean).join(" · ") || null;
}

export async function render(ctx) {
  const id = ctx.params.conversation;
  const url = `/workspaces/${ctx.ws}/conversations/${id}`;
  const [first, replies] = await Promise.all([
    get(url),
    get(`/workspaces/${ctx.ws}/saved-replies`).catch(() => []),
  ]);
  if (ctx.stale()) return;
  let c = first;
  const me = session.user && session.user.id;
  const shown = new Set();

  const log = h("div", { class: "chat-log conversation inbox-log", role: "log", "aria-live": "polite", "aria-label": "Messages", tabindex: "0" });
  const addMessages = (messages) => {
    let added = false;
    for (const m of messages || []) {
      const key = messageKey(m);
      if (shown.has(key)) continue;
      shown.add(key);
      log.append(messageView(m));
      added = true;
    }
    if (added) log.scrollTop = log.scrollHeight;
  };

  const statusEl = h("span", { class: "inbox-status" });
  const details = h("dl", { class: "inbox-details" });
  const notice = h("div", { class: "inbox-notice", role: "alert" });
  const actions = h("div", { class: "actions inbox-actions" });

  const drawDetails = () => {
    replace(statusEl, statusBadge(c));
    const rows = [
      ["Chatbot", c.chatbot_name || "(deleted bot)"],
      ["Status", c.status === "human" && c.assignee ? `with ${c.assignee.name}` : c.status],
      c.waiting_since && c.status === "waiting" ? ["Waiting since", formatDate(c.waiting_since)] : null,
      ["Visitor's page", c.page_url ? safeLink(c.page_url) : "not known"],
      ["Contact", contactLink(ctx, c.contact) || contactText(c.contact) || "not known"],
      ["Started", formatDate(c.started_at)],
    ].filter(Boolean);
    replace(details, rows.map(([term, value]) => [h("dt", { text: term }), h("dd", {}, value)]));
    const mineNow = c.status === "human" && c.assignee && c.assignee.id === me;
    replace(actions,
      !mineNow && c.status !== "closed" ? button(c.assignee && c.status === "human" ? "Take over" : "Take", () => take(Boolean(c.assignee && c.status === "human")), { kind: "primary" }) : null,
      c.status === "human" || c.status === "waiting" ? button("Release to bot", release) : null,
      c.status !== "closed" ? button("Close", closeIt, { kind: "danger" }) : null);
  };

  const apply = (conversation) => {
    c = conversation;
    addMessages(c.messages);
    drawDetails();
  };

  const sync = async () => {
    try { apply(await get(url)); } catch (error) { if (!(error instanceof ApiError && error.status === 401)) toastError(error); }
  };

  const assignedElsewhere = (error) => {
    const who = (error.details && error.details.assignee && error.details.assignee.name) || "another member";
    replace(notice, h("div", { class: "callout warn" },
      h("p", { text: `${who} has this conversation.` }),
      button("Take over", async () => { replace(notice); await take(true); }, { kind: "primary", small: true })));
    notice.querySelector("button").focus();
  };

  async function take(takeover = false) {
    replace(notice);
    try {
      apply(await post(`${url}/assign`, takeover ? { takeover: true } : {}));
      toast("You have this conversation now.");
      input.focus();  // the button that was pressed is gone: the next thing to do is to answer
      await sync();
    } catch (error) {
      if (error instanceof ApiError && error.code === "conversation_assigned") { assignedElsewhere(error); await sync(); return; }
      toastError(error);
    }
  }

  async function release() {
    replace(notice);
    try { apply(await post(`${url}/release`, {})); toast("Handed back to the bot."); refocus(); await sync(); } catch (error) { toastError(error); }
  }

  async function closeIt() {
    replace(notice);
    try { apply(await post(`${url}/close`, {})); toast("Conversation closed."); refocus(); await sync(); } catch (error) { toastError(error); }
  }

  // The pressed button was redrawn away: keep keyboard users in the same place.
  function refocus() {
    (actions.querySelector("button") || ctx.main).focus();
  }

  const textField = field({ label: "Reply", name: "text", type: "textarea", required: true,
    help: "Enter sends, Shift+Enter starts a new line. The visitor sees it in the chat at once.",
    attrs: { rows: 3, maxlength: String(MAX_REPLY) } });
  const input = textField.querySelector("textarea");
  const sendBtn = h("button", { class: "btn btn-primary", type: "submit" }, "Send reply");
  const form = h("form", { class: "form inbox-reply", novalidate: true }, textField, h("div", { class: "actions" }, sendBtn));
  let sending = false;
  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    const text = input.value.trim();
    clearFormErrors(form);
    if (!text) { showFormErrors(form, new ApiError(400, "validation_error", "Write a reply first.", [{ field: "text", message: "Write a reply first." }])); return; }
    if (sending) return;
    sending = true;
    sendBtn.disabled = true;
    try {
      const message = await post(`${url}/messages`, { text });
      input.value = "";
      addMessages([message]);
      await sync();
    } catch (error) {
      if (error instanceof ApiError && error.status === 409) assignedElsewhere(error);
      else if (error instanceof ApiError && error.status === 400) showFormErrors(form, error);
      else toastError(error);
    } finally {
      sending = false;
      sendBtn.disabled = false;
    }
  });
  input.addEventListener("keydown", (event) => {
    if (event.key === "Enter" && !event.shiftKey && !event.isComposing) {
      event.preventDefault();
      form.requestSubmit();
    }
  });

  const savedList = replies.length
    ? h("ul", { class: "saved-replies" }, replies.map((r) => h("li", {}, button(r.title, () => insertAtCaret(input, r.text),
      { small: true, attrs: { "aria-label": `Insert saved reply: ${r.title}`, title: r.text } }))))
    : h("p", { class: "muted" }, "No saved replies yet. ", h("a", { href: `#${ctx.base}/inbox/replies`, text: "Add some" }), ".");

  apply(c);
  replace(ctx.main,
    pageHeader(`Conversation with ${c.chatbot_name || "a deleted bot"}`, statusEl, h("a", { class: "btn", href: `#${ctx.base}/inbox` }, "Back to the inbox")),
    h("div", { class: "inbox-conversation" },
      h("div", { class: "stack" }, notice, card("Messages", log), card("Your reply", form, h("h3", { text: "Saved replies" }), savedList)),
      h("div", { class: "stack" }, card("Conversation", details, actions))));
  log.scrollTop = log.scrollHeight;

  // Live: a visitor's message is shown from the event itself at once; the re-read that follows
  // brings state changes and anything the stream missed while it reconnected.
  let pending = null;
  const later = () => {
    if (pending) return;
    pending = setTimeout(() => { pending = null; if (!ctx.stale() && log.isConnected) sync(); }, 100);
  };
  const unsubscribe = subscribe((event) => {
    if (ctx.stale() || !log.isConnected) { unsubscribe(); clearTimeout(pending); return; }
    if (event.type === "reconnected") { later(); return; }
    if (String(event.conversation_id) !== String(id)) return;
    if (event.message) addMessages([event.message]);
    later();
  });
}
