// Providers: LLM keys per workspace. Keys go in once and come back only masked.

import { del, get, post, put } from "../api.js";
import { badge, button, card, confirmDialog, field, onSubmit, pageHeader, showDialog, table, toast, toastError } from "../components.js";
import { formatDate, h, replace } from "../dom.js";
import { embeddingCard } from "./embedding.js";

const PROVIDERS = [
  ["openai", "OpenAI"], ["anthropic", "Anthropic"], ["gemini", "Google Gemini"], ["mistral", "Mistral"],
  ["groq", "Groq"], ["openrouter", "OpenRouter"], ["deepseek", "DeepSeek"], ["ollama", "Ollama (local)"],
  ["openai_compatible", "OpenAI-compatible server (vLLM, LM Studio, …)"],
];

export async function render(ctx) {
  const providers = await get(`/workspaces/${ctx.ws}/providers`);
  const admin = ctx.can("admin");
  const list = h("div");
  const embeddings = h("div");
  const draw = (rows) => {
    replace(list, providersTable(ctx, rows, admin, refresh));
    replace(embeddings, embeddingCard(ctx, rows, admin));  // its provider choices follow this list
  };
  const refresh = async () => draw(await get(`/workspaces/${ctx.ws}/providers`));
  draw(providers);
  replace(ctx.main, pageHeader("Providers"),
    h("p", { text: "Connect the LLM services your bots use. Keys are encrypted on the server and never shown again." }),
    h("div", { class: "stack" }, card("Connected providers", list), admin ? card("Add or replace a key", providerForm(ctx, refresh)) : null,
      embeddings));
}

function providerForm(ctx, refresh) {
  const form = h("form", { class: "form", novalidate: true },
    h("div", { class: "form-row" },
      field({ label: "Provider", name: "provider", type: "select", value: "openai", options: PROVIDERS }),
      field({ label: "API key", name: "api_key", type: "password", help: "Leave empty for local servers that need none.", attrs: { autocomplete: "off" } })),
    field({ label: "API base URL", name: "api_base", type: "url", help: "Only for self-hosted or compatible servers, e.g. http://localhost:11434.", attrs: { placeholder: "https://…" } }),
    h("div", { class: "actions" }, h("button", { class: "btn btn-primary", type: "submit" }, "Save provider")));
  onSubmit(form, async (values) => {
    const body = { api_key: values.api_key, api_base: values.api_base || null };
    await put(`/workspaces/${ctx.ws}/providers/${encodeURIComponent(values.provider)}`, body);
    form.reset();
    toast(`${values.provider} saved.`);
    await refresh();
  });
  return form;
}

// Asks for the model to test with (local and compatible servers have no default), then
// shows the result in the dialog and in the provider's row.
function testConnection(ctx, provider, cell) {
  const result = h("div", { "aria-live": "polite", class: "test-dialog-result" });
  const form = h("form", { class: "form", novalidate: true },
    field({ label: "Model to test with", name: "model", attrs: { placeholder: `${provider.provider}/…` },
      help: "Empty uses the provider's cheapest model, or the first model a local or compatible server lists." }),
    h("div", { class: "actions" }, h("button", { class: "btn btn-primary", type: "submit" }, "Run test")), result);
  onSubmit(form, async (values) => {
    replace(result, h("span", { class: "spinner", "aria-hidden": "true" }), "Testing…");
    try {
      const outcome = await post(`/workspaces/${ctx.ws}/providers/${encodeURIComponent(provider.provider)}/test`, values.model ? { model: values.model } : {});
      const shown = outcome.ok ? badge(`OK · ${outcome.model} · ${outcome.latency_ms} ms`, "ok")
        : badge(`Failed: ${(outcome.error && outcome.error.message) || "no answer"}`, "error");
      replace(result, shown);
      replace(cell, shown.cloneNode(true));
    } catch (error) {
      replace(result);
      throw error;
    }
  });
  showDialog(`Test ${provider.provider}`, form);
  form.querySelector("input").focus();
}

function providersTable(ctx, providers, admin, refresh) {
  const remove = async (p) => {
    if (!(await confirmDialog({ title: `Remove ${p.provider}?`, message: "Bots using its models stop answering until a key is added again.", confirmLabel: "Remove" }))) return;
    try { await del(`/workspaces/${ctx.ws}/providers/${encodeURIComponent(p.provider)}`); toast("Provider removed."); await refresh(); } catch (error) { toastError(error); }
  };
  return table([
    { label: "Provider", render: (p) => h("strong", { text: p.provider }) },
    { label: "Key", render: (p) => h("code", { text: p.key_mask || "(none)" }) },
    { label: "API base", render: (p) => p.api_base || "default" },
    { label: "Updated", render: (p) => formatDate(p.updated_at) },
    admin ? { label: "", render: (p) => {
      const status = h("span", { class: "test-result", "aria-live": "polite" });
      return h("div", { class: "actions" }, button("Test connection", () => testConnection(ctx, p, status), { small: true }),
        button("Remove", () => remove(p), { kind: "danger", small: true }), status);
    } } : null,
  ].filter(Boolean), providers, { empty: "No provider yet. Add a key below to let bots use a hosted or local model.", caption: "Providers" });
}
