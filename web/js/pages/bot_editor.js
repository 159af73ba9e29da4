// A chatbot's settings, with a live preview chat beside them.

import { del, get, patch, post } from "../api.js";
import { badge, button, card, confirmDialog, field, onSubmit, pageHeader, toast, toastError } from "../components.js";
import { h, replace } from "../dom.js";
import { navigate } from "../router.js";
import { previewChat } from "../preview.js";
import { botTabs } from "./bots.js";

const NEW_BOT = { name: "", model: "", system_prompt: "You are a helpful assistant. Answer briefly and truthfully.",
  temperature: 0.3, max_tokens: 800, top_k: 5, score_threshold: 0, greeting: "Hi! How can I help?", starter_questions: [] };

export function lines(text) {
  return String(text || "").split("\n").map((s) => s.trim()).filter(Boolean);
}

function botFields(bot, readOnly) {
  const ro = readOnly ? { disabled: true } : {};
  return [
    field({ label: "Name", name: "name", value: bot.name, required: true, attrs: ro }),
    field({ label: "Model", name: "model", value: bot.model, attrs: { placeholder: "openai/gpt-4o-mini", ...ro },
      help: "A LiteLLM model name: openai/gpt-4o-mini, anthropic/claude-3-5-haiku-latest, ollama_chat/llama3.2, openai_compatible/<name>. Empty picks the workspace default." }),
    field({ label: "System prompt", name: "system_prompt", type: "textarea", value: bot.system_prompt, attrs: { rows: 5, ...ro } }),
    h("div", { class: "form-row" },
      field({ label: "Temperature", name: "temperature", type: "number", value: bot.temperature, attrs: { min: 0, max: 2, step: 0.1, ...ro } }),
      field({ label: "Max answer tokens", name: "max_tokens", type: "number", value: bot.max_tokens, attrs: { min: 1, max: 32000, ...ro } })),
    h("div", { class: "form-row" },
      field({ label: "Chunks retrieved (top k)", name: "top_k", type: "number", value: bot.top_k, attrs: { min: 1, max: 50, ...ro } }),
      field({ label: "Score threshold", name: "score_threshold", type: "number", value: bot.score_threshold,
        help: "Chunks scoring below this are not used (0–1).", attrs: { min: 0, max: 1, step: 0.01, ...ro } })),
    field({ label: "Greeting", name: "greeting", value: bot.greeting, attrs: ro }),
    field({ label: "Starter questions", name: "starter_questions", type: "textarea", value: (bot.starter_questions || []).join("\n"),
      help: "One per line, up to six.", attrs: { rows: 3, ...ro } }),
  ];
}

function bodyFrom(values) {
  const body = { ...values, starter_questions: lines(values.starter_questions) };
  if (!body.model) delete body.model;
  return body;
}

export async function render(ctx) {
  const isNew = !ctx.params.bot;
  const bot = isNew ? { ...NEW_BOT } : await get(`/workspaces/${ctx.ws}/chatbots/${ctx.params.bot}`);
  const canEdit = ctx.can("editor");
  const form = h("form", { class: "form", novalidate: true }, ...botFields(bot, !canEdit),
    canEdit ? h("div", { class: "actions" }, h("button", { class: "btn btn-primary", type: "submit" }, isNew ? "Create chatbot" : "Save changes")) : null);
  onSubmit(form, async (values) => {
    if (isNew) {
      const created = await post(`/workspaces/${ctx.ws}/chatbots`, bodyFrom(values));
      toast("Chatbot created.");
      navigate(`${ctx.base}/bots/${created.id}`);
      return;
    }
    Object.assign(bot, await patch(`/workspaces/${ctx.ws}/chatbots/${bot.id}`, bodyFrom(values)));
    toast("Saved. The preview uses the new settings.");
  });
  if (isNew) {
    replace(ctx.main, pageHeader("New chatbot"), card("Settings", form));
    return;
  }
  const remove = canEdit ? button("Delete chatbot", async () => {
    if (!(await confirmDialog({ title: `Delete “${bot.name}”?`, message: "Its knowledge, vectors and conversations are deleted too." }))) return;
    try { await del(`/workspaces/${ctx.ws}/chatbots/${bot.id}`); toast("Chatbot deleted."); navigate(`${ctx.base}/bots`); } catch (error) { toastError(error); }
  }, { kind: "danger" }) : null;
  replace(ctx.main, pageHeader(bot.name, bot.published ? badge("published") : badge("draft"), remove), botTabs(ctx, bot, "settings"),
    h("div", { class: "grid-2" }, card("Settings", form), card("Preview", canEdit ? previewChat(ctx, bot)
      // Chat spends tokens and the message quota, so the server refuses it below the editor role.
      : h("p", { class: "muted", "data-testid": "preview-refused", text: "Previewing the chat needs the editor role or above: each message spends tokens and the workspace's message quota. Ask an admin for a higher role." }))));
}
