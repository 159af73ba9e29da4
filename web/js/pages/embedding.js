// Embeddings card of the Providers page: the built-in model (default) or a connected provider's
// embedding model for this workspace, and the re-embedding that follows a change.

import { get, put } from "../api.js";
import { badge, card, field, onSubmit, toast, toastError } from "../components.js";
import { h, replace } from "../dom.js";

// Providers whose servers speak OpenAI's /embeddings (the server refuses any other).
const EMBEDDING_PROVIDERS = ["openai", "openai_compatible", "ollama"];
const POLL_MS = 1500;

export function embeddingCard(ctx, providers, admin) {
  const box = h("div", { class: "stack embedding-settings" });
  const state = { ctx, box, providers, admin, timer: null };
  get(`/workspaces/${ctx.ws}/embedding`).then((setting) => draw(state, setting), toastError);
  return card("Embeddings", h("p", { class: "muted", text: "How knowledge and questions become vectors for search. "
    + "The built-in model runs on this server; a provider's model (OpenAI, Ollama, any OpenAI-compatible server) "
    + "suits large knowledge bases. Vectors have 384 numbers either way, and every document is re-embedded "
    + "in the background after a change: search keeps working meanwhile." }), box);
}

function draw(state, setting) {
  state.status = h("div", { class: "embedding-status" }, ...statusParts(setting));
  replace(state.box, state.status, state.admin ? form(state, setting) : null);
  poll(state, setting);
}

// While re-embedding runs, its progress is read again every POLL_MS; only the status is redrawn,
// so a form being edited is left alone.
function poll(state, setting) {
  clearTimeout(state.timer);
  if ((setting.reembedding || {}).state !== "running") return;
  state.timer = setTimeout(async () => {
    if (state.ctx.stale() || !state.box.isConnected) return;
    try {
      const fresh = await get(`/workspaces/${state.ctx.ws}/embedding`);
      replace(state.status, ...statusParts(fresh));
      poll(state, fresh);
    } catch (error) { toastError(error); }
  }, POLL_MS);
}

function describe(setting) {
  return setting.mode === "provider" ? `${setting.model} from ${setting.provider}` : "Built-in model (all-MiniLM-L6-v2)";
}

function statusParts(setting) {
  const progress = setting.reembedding;
  const parts = [h("p", {}, "In use: ", h("strong", { text: describe(setting) }))];
  if (progress) {
    const label = { running: "Re-embedding", done: "Re-embedded", failed: "Re-embedding stopped" }[progress.state] || progress.state;
    parts.push(h("div", { class: "embedding-progress", role: "status", "aria-live": "polite" },
      badge(`${label}: ${progress.done} of ${progress.total} chunks`, progress.state === "failed" ? "error" : progress.state === "done" ? "ok" : ""),
      progress.state === "running" ? h("progress", { max: String(Math.max(progress.total, 1)), value: String(progress.done), "aria-label": "Re-embedding progress" }) : null,
      progress.error ? h("p", { class: "callout danger", text: progress.error }) : null));
  }
  return parts;
}

function form(state, setting) {
  const connected = state.providers.map((p) => p.provider).filter((p) => EMBEDDING_PROVIDERS.includes(p));
  const providerOptions = connected.length ? connected : [["", "No OpenAI, Ollama or compatible provider connected"]];
  const el = h("form", { class: "form", novalidate: true },
    field({ label: "Embedding", name: "mode", type: "select", value: setting.mode,
      options: [["builtin", "Built-in model (on this server)"], ["provider", "A connected provider's model"]] }),
    h("div", { class: "form-row provider-embedding" },
      field({ label: "Embedding provider", name: "provider", type: "select", value: setting.provider || connected[0] || "", options: providerOptions,
        help: "Add a key for OpenAI, Ollama or an OpenAI-compatible server above first." }),
      field({ label: "Embedding model", name: "model", value: setting.model || "", attrs: { placeholder: "text-embedding-3-small" },
        help: "It must return 384 numbers: text-embedding-3-small or -large (asked for 384), or all-minilm on Ollama." })),
    h("div", { class: "actions" }, h("button", { class: "btn btn-primary", type: "submit" }, "Save embedding")));
  const mode = el.elements.mode;
  const providerPart = el.querySelector(".provider-embedding");
  const sync = () => {
    const byProvider = mode.value === "provider";
    providerPart.hidden = !byProvider;
    for (const input of providerPart.querySelectorAll("input, select")) input.disabled = !byProvider;
  };
  mode.addEventListener("change", sync);
  sync();
  onSubmit(el, async (values) => {
    const body = values.mode === "provider" ? { mode: "provider", provider: values.provider, model: values.model.trim() } : { mode: "builtin" };
    const saved = await put(`/workspaces/${state.ctx.ws}/embedding`, body);
    toast(saved.reembedding && saved.reembedding.state === "running" ? "Embedding saved; re-embedding the knowledge." : "Embedding saved.");
    draw(state, saved);
  });
  return el;
}
