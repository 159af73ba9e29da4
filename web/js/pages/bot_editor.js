// A chatbot's settings, with a live preview chat beside them.

import { del, get, patch, post } from "../api.js";
import { badge, button, card, confirmDialog, field, isDirty, markSaved, onSubmit, pageHeader, toast, toastError } from "../components.js";
import { h, replace } from "../dom.js";
import { navigate } from "../router.js";
import { previewChat } from "../preview.js";
import { botTabs } from "./bots.js";
import { handoffForm } from "./bot_handoff.js";
import { toolsCard } from "./bot_tools.js";

const NEW_BOT = { name: "", slug: "", model: "", system_prompt: "You are a helpful assistant. Answer briefly and truthfully.",
  temperature: 0.3, max_tokens: 800, top_k: 5, score_threshold: 0, greeting: "Hi! How can I help?", starter_questions: [] };

export function lines(text) {
  return String(text || "").split("\n").map((s) => s.trim()).filter(Boolean);
}

const OTHER = "__other";
const PROVIDER_LABELS = { openai_compatible: "OpenAI-compatible server", ollama: "Ollama", openai: "OpenAI", anthropic: "Anthropic",
  gemini: "Google Gemini", mistral: "Mistral", groq: "Groq", openrouter: "OpenRouter", deepseek: "DeepSeek" };

// The model: picked from the connected providers' models, or typed by hand ("Other model…").
function modelField(bot, ro) {
  const wrapper = field({ label: "Model", name: "model", type: "select", value: bot.model || "", options: [[bot.model || "", bot.model || "Loading models…"]], attrs: ro,
    help: "The models of the providers connected under Providers. The built-in model answers from the knowledge alone, without an LLM." });
  const custom = h("input", { type: "text", name: "model_custom", value: "", "aria-label": "Model name", hidden: true,
    placeholder: "provider/model, e.g. openai/gpt-4o-mini", autocomplete: "off", ...ro });
  wrapper.querySelector("select").after(custom);
  return wrapper;
}

function modelOptions(select, catalog, current) {
  const known = new Set([catalog.builtin]);
  const groups = catalog.providers.map((p) => {
    p.models.forEach((m) => known.add(m));
    const label = (PROVIDER_LABELS[p.provider] || p.provider) + (p.error ? " (list unavailable)" : "");
    return h("optgroup", { label }, p.models.length ? p.models.map((m) => h("option", { value: m }, m))
      : h("option", { value: "", disabled: true }, p.error || "No models found; type one under “Other model…”"));
  });
  replace(select, groups, h("optgroup", { label: "Built in" }, h("option", { value: catalog.builtin }, "Built-in (answers from the knowledge, no LLM)")),
    h("option", { value: OTHER }, "Other model… (type its name)"));
  const wanted = current || catalog.default;
  select.value = known.has(wanted) ? wanted : OTHER;
  return known.has(wanted) ? "" : wanted;
}

// Fills the model list once the server has it; an unreachable list leaves a text box.
export async function loadModels(ctx, form, bot) {
  const select = form.elements.model;
  const custom = form.elements.model_custom;
  const sync = () => { custom.hidden = select.value !== OTHER; };
  select.addEventListener("change", () => { sync(); if (!custom.hidden) custom.focus(); });
  let untouched = true;
  try {
    const catalog = await get(`/workspaces/${ctx.ws}/models`);
    untouched = !isDirty(form);  // typed into while the list loaded: those edits stay unsaved
    custom.value = modelOptions(select, catalog, bot.model);
  } catch {
    untouched = !isDirty(form);
    replace(select, h("option", { value: OTHER }, "Type a model name"));
    select.value = OTHER;
    custom.value = bot.model || "";
  }
  sync();
  if (untouched) markSaved(form);  // filled in by the page, not typed: not an unsaved edit
}

function botFields(bot, readOnly) {
  const ro = readOnly ? { disabled: true } : {};
  return [
    field({ label: "Name", name: "name", value: bot.name, required: true, attrs: ro }),
    field({ label: "Slug", name: "slug", value: bot.slug || "", attrs: { maxlength: 64, spellcheck: "false", ...ro },
      help: bot.id ? "What the OpenAI-compatible API (model) and the MCP tools call this bot. Changing it breaks integrations that use the old one."
        : "What the OpenAI-compatible API (model) and the MCP tools call this bot: lower-case letters, digits and “-”. Empty: made from the name." }),
    modelField(bot, ro),
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
  const { model_custom: custom, ...body } = values;
  body.starter_questions = lines(values.starter_questions);
  if (body.model === OTHER) body.model = String(custom || "").trim();
  if (!body.model) delete body.model;
  body.slug = String(body.slug || "").trim();
  if (!body.slug) delete body.slug;
  return body;
}

export async function render(ctx) {
  const isNew = !ctx.params.bot;
  const bot = isNew ? { ...NEW_BOT } : await get(`/workspaces/${ctx.ws}/chatbots/${ctx.params.bot}`);
  const canEdit = ctx.can("editor");
  const form = h("form", { class: "form", novalidate: true }, ...botFields(bot, !canEdit),
    canEdit ? h("div", { class: "actions" }, h("button", { class: "btn btn-primary", type: "submit" }, isNew ? "Create chatbot" : "Save changes")) : null);
  const tools = isNew ? null : toolsCard(ctx, bot, canEdit);
  onSubmit(form, async (values) => {
    if (isNew) {
      const created = await post(`/workspaces/${ctx.ws}/chatbots`, bodyFrom(values));
      toast("Chatbot created.");
      navigate(`${ctx.base}/bots/${created.id}`);
      return;
    }
    Object.assign(bot, await patch(`/workspaces/${ctx.ws}/chatbots/${bot.id}`, bodyFrom(values)));
    if (tools) tools.sync(bot);
    toast("Saved. The preview uses the new settings.");
  }, { guard: true });
  loadModels(ctx, form, bot);
  if (isNew) {
    replace(ctx.main, pageHeader("New chatbot"), card("Settings", form));
    return;
  }
  const remove = canEdit ? button("Delete chatbot", async () => {
    if (!(await confirmDialog({ title: `Delete “${bot.name}”?`, message: "Its knowledge, vectors and conversations are deleted too." }))) return;
    try { await del(`/workspaces/${ctx.ws}/chatbots/${bot.id}`); toast("Chatbot deleted."); navigate(`${ctx.base}/bots`); } catch (error) { toastError(error); }
  }, { kind: "danger" }) : null;
  replace(ctx.main, pageHeader(bot.name, bot.published ? badge("published") : badge("draft"), remove), botTabs(ctx, bot, "settings"),
    h("div", { class: "grid-2" }, h("div", { class: "stack" }, card("Settings", form), card("Tools", tools.node),
      card("Human handoff", handoffForm(ctx, bot, canEdit))),
      card("Preview", canEdit ? previewChat(ctx, bot)
      // Chat spends tokens and the message quota, so the server refuses it below the editor role.
      : h("p", { class: "muted", "data-testid": "preview-refused", text: "Previewing the chat needs the editor role or above: each message spends tokens and the workspace's message quota. Ask an admin for a higher role." }))));
}
