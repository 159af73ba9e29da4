// Providers: LLM keys per workspace. Keys go in once and come back only masked.

import { del, get, post, put } from "../api.js";
import { badge, button, card, confirmDialog, field, onSubmit, pageHeader, table, toast, toastError } from "../components.js";
import { formatDate, h, replace } from "../dom.js";

const PROVIDERS = [
  ["openai", "OpenAI"], ["anthropic", "Anthropic"], ["gemini", "Google Gemini"], ["mistral", "Mistral"],
  ["groq", "Groq"], ["openrouter", "OpenRouter"], ["deepseek", "DeepSeek"], ["ollama", "Ollama (local)"],
  ["openai_compatible", "OpenAI-compatible server (vLLM, LM Studio, …)"],
];

export async function render(ctx) {
  const providers = await get(`/workspaces/${ctx.ws}/providers`);
  const admin = ctx.can("admin");
  const list = h("div");
  const refresh = async () => replace(list, providersTable(ctx, await get(`/workspaces/${ctx.ws}/providers`), admin, refresh));
  replace(list, providersTable(ctx, providers, admin, refresh));
  replace(ctx.main, pageHeader("Providers"),
    h("p", { text: "Connect the LLM services your bots use. Keys are encrypted on the server and never shown again." }),
    h("div", { class: "stack" }, card("Connected providers", list), admin ? card("Add or replace a key", providerForm(ctx, refresh)) : null));
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
    form.querySelector("input[name=api_key]").value = "";
    toast(`${values.provider} saved.`);
    await refresh();
  });
  return form;
}

async function testConnection(ctx, provider, cell) {
  replace(cell, h("span", { class: "spinner", "aria-hidden": "true" }), "Testing…");
  try {
    const result = await post(`/workspaces/${ctx.ws}/providers/${encodeURIComponent(provider.provider)}/test`, {});
    replace(cell, result.ok ? badge(`OK · ${result.model} · ${result.latency_ms} ms`, "ok")
      : badge(`Failed: ${(result.error && result.error.message) || "no answer"}`, "error"));
  } catch (error) {
    replace(cell, badge("Failed", "error"));
    toastError(error);
  }
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
