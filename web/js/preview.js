// Preview chat on the bot page: talks to POST /chatbots/{bot}/chat as the logged-in user, so
// it works for drafts too, and shows the answer as it streams with its numbered sources.

import { streamEvents } from "./api.js";
import { h, replace } from "./dom.js";
import { button } from "./components.js";

function newSessionId() {
  return "preview-" + (crypto.randomUUID ? crypto.randomUUID() : String(Date.now()) + Math.random().toString(16).slice(2));
}

// The same words as the widget's source list (widget/chat.js sourceList): a page is a link,
// a document is its title and page, so the preview shows what visitors will see.
export function sourceLabel(source) {
  const label = source.title || source.url || "Document";
  return source.page ? `${label}, page ${source.page}` : label;
}

function sourcesList(sources) {
  if (!sources || !sources.length) return null;
  return h("div", { class: "sources" }, h("strong", { text: "Sources" }), h("ol", {}, sources.map((s) =>
    h("li", { class: "citation" }, s.url && /^https?:\/\//i.test(s.url)
      ? h("a", { href: s.url, target: "_blank", rel: "noopener noreferrer", text: sourceLabel(s) })
      : sourceLabel(s)))));
}

function toolLine(answer, running, tool) {
  const id = String(tool.call_id);
  if (running[id]) { running[id].remove(); delete running[id]; }
  const label = tool.label || tool.name;
  if (tool.status === "running") running[id] = answer.appendChild(h("div", { class: "tool-line", role: "status", text: label }));
  if (tool.status === "error") answer.append(h("div", { class: "tool-line", text: `Failed: ${label}` }));
}

// What the action will do and with what, as text; the visitor's Approve / Decline, here the editor's.
function confirmCard(request, onAnswer) {
  const args = Object.entries(request.arguments || {});
  const answered = (approve) => { replace(buttons, h("em", { text: approve ? "Approved" : "Declined" })); onAnswer(approve); };
  const buttons = h("div", { class: "actions" }, button("Approve", () => answered(true), { kind: "primary", small: true }),
    button("Decline", () => answered(false), { small: true }));
  const card = h("div", { class: "confirm-card", role: "group", "aria-label": "Please confirm", tabindex: "-1" },
    h("strong", { text: "Please confirm: " }), request.label || request.name,
    args.length ? h("dl", {}, args.map(([k, v]) => [h("dt", { text: k }), h("dd", { text: typeof v === "string" ? v : JSON.stringify(v) })])) : null, buttons);
  setTimeout(() => card.focus(), 0);
  return card;
}

export function previewChat(ctx, bot) {
  let sessionId = newSessionId();
  let controller = null;
  const log = h("div", { class: "chat-log", role: "log", "aria-live": "polite", "aria-label": "Preview conversation" });
  const input = h("textarea", { name: "message", rows: 1, "aria-label": "Message to the bot", placeholder: "Ask something…", required: true });
  const send = h("button", { class: "btn btn-primary", type: "submit" }, "Send");
  const form = h("form", {}, input, send);
  const greet = () => replace(log, bot.greeting ? h("div", { class: "msg assistant", text: bot.greeting }) : null);
  greet();

  input.addEventListener("keydown", (e) => { if (e.key === "Enter" && !e.shiftKey) { e.preventDefault(); form.requestSubmit(); } });

  // One streamed answer, to a message or to a confirm card: tool status lines while tools run,
  // and a card with Approve / Decline when an action asks first.
  const answerTo = async (body) => {
    const answer = h("div", { class: "msg assistant", "aria-busy": "true" });
    const text = h("div", { class: "answer-text" });
    const running = {};
    answer.append(text);
    log.append(answer);
    controller = new AbortController();
    send.disabled = true;
    try {
      await streamEvents(`/workspaces/${ctx.ws}/chatbots/${bot.id}/chat`, body, (event) => {
        if (event.text) text.textContent += event.text;
        if (event.tool) toolLine(answer, running, event.tool);
        if (event.done) { answer.append(sourcesList(event.sources) || ""); answer.dataset.done = "true"; }
        if (event.done && event.needs_confirmation) log.append(confirmCard(event.needs_confirmation, (approve) =>
          answerTo({ session_id: sessionId, confirm: { call_id: event.needs_confirmation.call_id, approve } })));
        if (event.error) { answer.classList.add("error"); answer.append(h("div", { text: event.error.message || "The model failed." })); }
        log.scrollTop = log.scrollHeight;
      }, controller.signal);
    } catch (error) {
      answer.classList.add("error");
      text.textContent = text.textContent || error.message;
    } finally {
      Object.values(running).forEach((line) => line.remove());
      answer.removeAttribute("aria-busy");
      controller = null;
      send.disabled = false;
      input.focus();
    }
  };

  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    const message = input.value.trim();
    if (!message || controller) return;
    input.value = "";
    log.append(h("div", { class: "msg user", text: message }));
    await answerTo({ session_id: sessionId, message });
  });

  const reset = button("New conversation", () => { if (controller) controller.abort(); sessionId = newSessionId(); greet(); }, { small: true });
  return h("div", { class: "stack" }, h("div", { class: "actions" }, reset), h("div", { class: "chat", "data-testid": "preview" }, log, form));
}
