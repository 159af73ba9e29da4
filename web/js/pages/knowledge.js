// Knowledge of one bot: add sources, watch them index live, read their chunks, and test
// what retrieval finds for a question against the bot's score threshold.

import { del, get, post } from "../api.js";
import { badge, button, card, confirmDialog, emptyState, field, onSubmit, pageHeader, showDialog, table, toast, toastError } from "../components.js";
import { formatDate, h, replace } from "../dom.js";
import { botTabs } from "./bots.js";
import { editDocument } from "./knowledge_edit.js";
import { faqEditor, textForm, uploadBox, urlForm } from "./knowledge_forms.js";

const POLL_MS = 1500;
const BUSY = new Set(["queued", "processing"]);

export function percent(progress) {
  const p = Number(progress || 0);
  return Math.round(p > 1 ? p : p * 100);
}

export async function render(ctx) {
  const bot = await get(`/workspaces/${ctx.ws}/chatbots/${ctx.params.bot}`);
  const docsPath = `/workspaces/${ctx.ws}/chatbots/${bot.id}/documents`;
  const tableBox = h("div", { "aria-live": "polite" });
  const uploads = uploadBox(docsPath, () => refresh());
  let timer = null;
  const refresh = async () => {
    clearTimeout(timer);
    if (ctx.stale()) return;
    let docs;
    try { docs = await get(docsPath); } catch (error) { if (!ctx.stale()) toastError(error); return; }
    if (ctx.stale()) return;
    replace(tableBox, documentsTable(ctx, docsPath, docs, refresh));
    uploads.followDocuments(docs);
    // Poll only while something is still being indexed; stop when the user leaves the page.
    if (docs.some((d) => BUSY.has(d.status))) timer = setTimeout(refresh, POLL_MS);
  };
  const editor = ctx.can("editor");
  replace(ctx.main, pageHeader(bot.name), botTabs(ctx, bot, "knowledge"),
    h("div", { class: "stack" },
      editor ? h("div", { class: "grid-2" },
        card("Upload files", uploads), card("Add a web page, sitemap or site", urlForm(docsPath, refresh))) : null,
      editor ? h("div", { class: "grid-2" }, card("FAQ", faqEditor(docsPath, refresh)), card("Paste text", textForm(docsPath, refresh))) : null,
      card("Documents", tableBox),
      card("Test a question", testPanel(ctx, bot))));
  await refresh();
}

function statusCell(doc) {
  if (BUSY.has(doc.status)) {
    // A queued document with an error is waiting to retry: say why instead of a silent bar.
    return h("div", { class: "progress-cell" }, badge(doc.status),
      h("progress", { max: 100, value: percent(doc.progress), "aria-label": `Indexing ${doc.title}: ${percent(doc.progress)}%` }),
      doc.error ? h("div", { class: "help", text: doc.error }) : null);
  }
  return h("div", {}, badge(doc.status), doc.error ? h("div", { class: "field" }, h("span", { class: "error", text: doc.error })) : null);
}

function documentsTable(ctx, docsPath, docs, refresh) {
  if (!docs.length) return emptyState("No knowledge yet", "Upload files, add pages or write FAQ pairs: the bot answers from them.");
  const editor = ctx.can("editor");
  const reindex = async (doc) => {
    try { await post(`${docsPath}/${doc.id}/reindex`, {}); toast("Queued again."); refresh(); } catch (error) { toastError(error); }
  };
  const remove = async (doc) => {
    if (!(await confirmDialog({ title: `Delete “${doc.title}”?`, message: "Its chunks and vectors are removed; the bot stops using it." }))) return;
    try { await del(`${docsPath}/${doc.id}`); toast("Document deleted."); refresh(); } catch (error) { toastError(error); }
  };
  return table([
    { label: "Title", render: (d) => h("div", {}, h("strong", { text: d.title }), d.source && d.source !== d.title ? h("div", { class: "help", text: d.source }) : null) },
    { label: "Type", render: (d) => d.source_type + (d.content_type && d.content_type !== d.source_type ? ` · ${d.content_type}` : "") },
    { label: "Status", render: statusCell },
    { label: "Chunks", num: true, render: (d) => String(d.chunk_count ?? 0) },
    { label: "Added", render: (d) => formatDate(d.created_at) },
    { label: "", render: (d) => h("div", { class: "actions" },
      button("Chunks", () => showChunks(docsPath, d), { small: true, attrs: { "aria-label": `Chunks of ${d.title}` } }),
      editor ? button("Edit", () => editDocument(docsPath, d, refresh), { small: true, attrs: { "aria-label": `Edit ${d.title}` } }) : null,
      editor ? button("Reindex", () => reindex(d), { small: true, attrs: { "aria-label": `Reindex ${d.title}` } }) : null,
      editor ? button("Delete", () => remove(d), { small: true, kind: "danger", attrs: { "aria-label": `Delete ${d.title}` } }) : null) },
  ], docs, { caption: "Documents" });
}

async function showChunks(docsPath, doc) {
  try {
    const full = await get(`${docsPath}/${doc.id}`, { chunks: 1 });
    const chunks = full.chunks || [];
    showDialog(`Chunks of ${doc.title}`, chunks.length
      ? h("div", { class: "chunk-list" }, chunks.map((c, i) => h("div", { class: "chunk" },
        h("div", { class: "meta" }, h("span", { text: `#${(c.ordinal ?? c.position ?? i) + 1}` }), c.page ? h("span", { text: `page ${c.page}` }) : null,
          c.url ? h("span", { text: c.url }) : null, c.token_count ? h("span", { text: `${c.token_count} tokens` }) : null),
        h("p", { text: c.text ?? c.content ?? "" }))))
      : emptyState("No chunks", doc.status === "indexed" ? "This document had no text." : "Chunks appear once it is indexed."));
  } catch (error) { toastError(error); }
}

function rankText(rank) { return rank ? `#${rank}` : "—"; }

// How a hit got its place (explain=1): vector similarity and rank, keyword rank, fused score.
function explainLine(hit) {
  return h("dl", { class: "explain", "aria-label": "How it ranked" },
    h("dt", { text: "vector" }), h("dd", { class: "explain-vector", text: `${Number(hit.vector_score ?? hit.score ?? 0).toFixed(3)} (${rankText(hit.vector_rank)})` }),
    h("dt", { text: "keyword" }), h("dd", { class: "explain-keyword", text: rankText(hit.keyword_rank) }),
    h("dt", { text: "fused" }), h("dd", { class: "explain-fused", text: Number(hit.fused_score ?? 0).toFixed(4) }));
}

function searchHit(hit, rank, threshold) {
  const score = Number(hit.score ?? 0);
  const used = hit.passed_threshold ?? score >= threshold;
  const url = hit.url && /^https?:/i.test(hit.url) ? h("a", { href: hit.url, target: "_blank", rel: "noopener noreferrer", text: hit.url }) : null;
  return h("li", { class: "chunk search-hit" + (used ? "" : " below") },
    h("div", { class: "meta" }, h("strong", { class: "rank", text: `#${rank}` }), badge(score.toFixed(3), used ? "ok" : "warn"),
      h("span", { class: "hit-passed", text: used ? "used" : "below threshold" }), h("span", { class: "hit-title", text: hit.title || "" }),
      hit.page ? h("span", { class: "hit-page", text: `page ${hit.page}` }) : null, url),
    explainLine(hit),
    h("p", { text: hit.text ?? "" }));
}

function testPanel(ctx, bot) {
  const results = h("div", { "aria-live": "polite" });
  const form = h("form", { class: "form", novalidate: true },
    field({ label: "Question", name: "q", required: true, attrs: { placeholder: "What a visitor might ask…" } }),
    h("div", { class: "actions" }, h("button", { class: "btn btn-primary", type: "submit" }, "Search knowledge")), results);
  onSubmit(form, async (values) => {
    const found = await get(`/workspaces/${ctx.ws}/chatbots/${bot.id}/search`, { q: values.q, k: bot.top_k, explain: 1 });
    const hits = found.results || [];
    const threshold = Number(found.score_threshold ?? bot.score_threshold ?? 0);
    // The server's order is the bot's: the rank the model sees, not sorted by the score shown.
    replace(results, hits.length ? h("div", {},
      h("p", { class: "help", text: `Best first, as the bot ranks them (at most ${found.per_page || "any number of"} chunks of one page). Threshold ${threshold.toFixed(2)}: chunks below it are shown dimmed and are not given to the model. Each shows its vector similarity and rank, keyword rank and fused score.` }),
      h("ol", { class: "search-hits", "aria-label": "Results in rank order" }, hits.map((hit, i) => searchHit(hit, i + 1, threshold))))
      : emptyState("Nothing found", "No chunk matches; add knowledge that answers this."));
  });
  return form;
}
