// A bot's test sets: the sets, the editor of one set's cases, "Run now", its runs with pass rate
// and Recall@k, each run's per-case results, and a small history chart in which a drop between
// two runs shows in red. `?set=<id>` opens a set (`new` a new one), `&run=<id>` one of its runs.

import { del, get, post, put } from "../api.js";
import { badge, button, card, confirmDialog, emptyState, field, pageHeader, showFieldErrors, showFormErrors, table, toast, toastError } from "../components.js";
import { formatDate, h, replace, svg } from "../dom.js";
import { guardLeaving, setQuery } from "../router.js";
import { botTabs } from "./bots.js";

const POLL_MS = 2000;
const BUSY = new Set(["queued", "running"]);
const HISTORY = 30;
const percent = (value) => (value === null || value === undefined ? "—" : `${Math.round(value * 100)}%`);
const setsPath = (ctx, bot) => `/workspaces/${ctx.ws}/chatbots/${bot.id}/evals`;

// ---- history chart: pass rate (solid) and Recall@k (dashed), oldest run on the left, 0-100 %.
const W = 320, H = 110, PAD = 18;

export function historyChart(runs) {
  const done = runs.filter((r) => r.status === "done").slice(0, HISTORY).reverse();
  if (done.length < 2) return h("p", { class: "help", text: done.length ? "The chart appears after the second run." : "" });
  const x = (i) => PAD + ((W - 2 * PAD) * i) / (done.length - 1);
  const y = (v) => H - PAD - (H - 2 * PAD) * (v ?? 0);
  const line = (key, cls) => {
    const points = done.map((r, i) => [i, r[key]]).filter(([, v]) => v !== null && v !== undefined);
    if (!points.length) return null;
    const drops = points.filter(([i, v], n) => n > 0 && v < points[n - 1][1] - 1e-9);
    return svg("g", { class: `eval-series ${cls}` },
      svg("path", { class: "line", d: points.map(([i, v], n) => `${n ? "L" : "M"}${x(i)},${y(v)}`).join(" ") }),
      points.map(([i, v]) => svg("circle", { class: drops.some(([j]) => j === i) ? "dot drop" : "dot", cx: x(i), cy: y(v), r: 3.5 },
        svg("title", { text: `${formatDate(done[i].created_at)} · ${cls === "pass" ? "pass rate" : "Recall@k"} ${percent(v)}` }))));
  };
  const grid = [0, 0.5, 1].map((v) => svg("g", {},
    svg("line", { class: "gridline", x1: PAD, x2: W - PAD, y1: y(v), y2: y(v) }),
    svg("text", { x: 0, y: y(v) + 4, text: `${v * 100}` })));
  const last = done[done.length - 1], before = done[done.length - 2];
  const fell = (key) => last[key] !== null && before[key] !== null && last[key] < before[key];
  const summary = fell("pass_rate") || fell("recall_at_k")
    ? `Regression in the last run: pass rate ${percent(before.pass_rate)} → ${percent(last.pass_rate)}, Recall@k ${percent(before.recall_at_k)} → ${percent(last.recall_at_k)}.`
    : `Last run: pass rate ${percent(last.pass_rate)}, Recall@k ${percent(last.recall_at_k)}; no drop since the run before.`;
  return h("figure", { class: "chart eval-history" },
    h("figcaption", { text: `Last ${done.length} runs` }),
    svg("svg", { viewBox: `0 0 ${W} ${H}`, role: "img", "aria-label": summary }, grid, line("pass_rate", "pass"), line("recall_at_k", "recall")),
    h("div", { class: "legend" }, h("span", { class: "series-0" }, h("span", { class: "swatch" }), "Pass rate"),
      h("span", { class: "series-1" }, h("span", { class: "swatch" }), "Recall@k")),
    h("p", { class: fell("pass_rate") || fell("recall_at_k") ? "callout warn" : "help", role: "status", text: summary }));
}

// ---- the case editor: one fieldset per case; field names are the API's (cases[2].question).
function caseRow(state, value, index) {
  const ro = state.canEdit ? {} : { disabled: true };
  const row = h("fieldset", { class: "eval-case" },
    h("legend", { text: `Case ${index + 1}` }),
    field({ label: "Question", name: `cases[${index}].question`, type: "textarea", value: value.question, required: true, attrs: { rows: 2, maxlength: 2000, ...ro } }),
    field({ label: "Expected source", name: `cases[${index}].expect_source`, value: value.expect_source || "",
      help: "A document's title, its id, or a page's URL. Passes when it is among the top k retrieved.", attrs: ro }),
    field({ label: "Page", name: `cases[${index}].expect_page`, type: "number", value: value.expect_page ?? "", attrs: { min: 1, ...ro } }),
    field({ label: "Expected words", name: `cases[${index}].expect_text`, value: (value.expect_text || []).join(", "),
      help: "Comma-separated; each must appear in the answer.", attrs: ro }),
    state.canEdit ? button("Remove case", () => redrawCases(state, (cases) => cases.splice(index, 1)), { small: true, kind: "danger" }) : null);
  return row;
}

function readCases(state) {
  return [...state.caseBox.querySelectorAll("fieldset.eval-case")].map((row, i) => {
    const value = (name) => row.querySelector(`[name="cases[${i}].${name}"]`).value.trim();
    const page = value("expect_page");
    return { question: value("question"), expect_source: value("expect_source") || null,
      expect_page: page ? Number(page) : null, expect_text: value("expect_text").split(",").map((w) => w.trim()).filter(Boolean) };
  });
}

// Adding or removing a case keeps what was typed in the others: read the rows, change, redraw.
function redrawCases(state, change) {
  state.cases = readCases(state);
  change(state.cases);
  replace(state.caseBox, state.cases.map((c, i) => caseRow(state, c, i)));
  state.dirty = true;
}

function setEditor(state, evalSet) {
  const { ctx, bot } = state;
  const isNew = !evalSet.id;
  state.cases = evalSet.cases.map((c) => ({ ...c }));
  state.caseBox = h("div", { class: "stack" });
  const form = h("form", { class: "stack", novalidate: true },
    field({ label: "Name", name: "name", value: evalSet.name, required: true, attrs: { maxlength: 200, ...(state.canEdit ? {} : { disabled: true }) } }),
    field({ label: "Run after every knowledge change", name: "auto_run", type: "checkbox", value: evalSet.auto_run,
      help: "A batch of uploads or a re-crawl starts one run, once it is all indexed.", attrs: state.canEdit ? {} : { disabled: true } }),
    state.caseBox,
    state.canEdit ? h("div", { class: "actions" },
      button("Add case", () => redrawCases(state, (cases) => cases.push({ question: "", expect_text: [] }))),
      button(isNew ? "Create test set" : "Save test set", null, { kind: "primary", type: "submit" })) : null);
  replace(state.caseBox, state.cases.map((c, i) => caseRow(state, c, i)));
  state.dirty = false;
  form.addEventListener("input", () => { state.dirty = true; });
  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    const body = { name: form.elements.name.value.trim(), auto_run: form.elements.auto_run.checked, cases: readCases(state) };
    if (!body.name) { showFieldErrors(form, { name: "Name is required." }); return; }
    try {
      const saved = isNew ? await post(setsPath(ctx, bot), body) : await put(`${setsPath(ctx, bot)}/${evalSet.id}`, body);
      state.dirty = false;
      toast(isNew ? "Test set created." : "Test set saved.");
      await state.refresh();
      await state.open(saved.id);
    } catch (error) { showFormErrors(form, error); }
  });
  return form;
}

// ---- runs and results
function runsTable(state, runs) {
  return table([
    { label: "Started", render: (r) => h("a", { href: "#", on: { click: (e) => { e.preventDefault(); state.showRun(r.id); } }, text: formatDate(r.created_at) }) },
    { label: "Why", render: (r) => (r.reason === "knowledge" ? "knowledge changed" : "run now") },
    { label: "Status", render: (r) => badge(r.status === "running" ? `running ${r.done}/${r.total}` : r.status, r.status === "done" ? "ok" : r.status === "error" ? "error" : "warn") },
    { label: "Pass rate", num: true, render: (r) => percent(r.pass_rate) },
    { label: "Recall@k", num: true, render: (r) => (r.recall_at_k === null ? "—" : `${percent(r.recall_at_k)} (k=${r.top_k})`) },
    { label: "Passed", num: true, render: (r) => `${r.passed}/${r.total}` },
  ], runs, { empty: emptyState("No runs yet", "Run the set to see how the bot answers it."), caption: "Runs" });
}

function sourcesList(result) {
  if (!result.retrieved.length) return h("span", { class: "help", text: "nothing retrieved" });
  return h("ol", { class: "eval-sources" }, result.retrieved.map((s) => h("li", { class: s.rank === result.found_rank ? "found" : null },
    `${s.title}${s.page ? `, page ${s.page}` : ""} (${s.score})`)));
}

function resultsTable(run) {
  if (run.status === "error") return h("p", { class: "callout warn", text: run.error || "The run failed." });
  if (run.status !== "done") return h("p", { class: "help", text: `Running: ${run.done} of ${run.total} cases answered…` });
  return table([
    { label: "Question", render: (r) => r.question },
    { label: "Result", render: (r) => badge(r.passed ? "pass" : "fail", r.passed ? "ok" : "error") },
    { label: "Expected source", render: (r) => (r.expect_source === null ? "—" : r.source_found ? `found at rank ${r.found_rank}` : `not in the top ${run.top_k}`) },
    { label: "Missing words", render: (r) => (r.error ? r.error : r.missing_text.length ? r.missing_text.join(", ") : "—") },
    { label: "Answer", render: (r) => h("details", {}, h("summary", { text: r.answer.slice(0, 80) || "(empty)" }), h("p", { class: "eval-answer", text: r.answer }), sourcesList(r)) },
  ], run.results, { caption: "Results per case" });
}

async function drawRuns(state, evalSet) {
  const { ctx, bot } = state;
  const path = `${setsPath(ctx, bot)}/${evalSet.id}/runs`;
  let runs;
  try { runs = (await get(path, { limit: HISTORY })).items; } catch (error) { if (!ctx.stale()) toastError(error); return; }
  if (ctx.stale() || state.openId !== evalSet.id) return;
  const busy = runs.some((r) => BUSY.has(r.status));
  const runNow = state.canEdit ? button("Run now", async () => {
    try { await post(path); state.runId = null; toast("Run queued."); await drawRuns(state, evalSet); } catch (error) { toastError(error); }
  }, { kind: "primary", attrs: { disabled: busy || !evalSet.cases.length } }) : null;
  replace(state.runBox, card("Runs", h("div", { class: "actions" }, runNow), historyChart(runs), runsTable(state, runs), state.resultBox));
  const shown = state.runId && runs.find((r) => r.id === state.runId) ? state.runId : (runs[0] || {}).id;
  if (shown) await state.showRun(shown, false);
  clearTimeout(state.timer);
  if (busy) state.timer = setTimeout(() => { if (!ctx.stale()) drawRuns(state, evalSet); }, POLL_MS);
}

function setsTable(state, sets) {
  return table([
    { label: "Name", render: (s) => h("a", { href: "#", on: { click: (e) => { e.preventDefault(); state.open(s.id); } }, text: s.name }) },
    { label: "Cases", num: true, render: (s) => String(s.case_count) },
    { label: "Runs", render: (s) => (s.auto_run ? badge("after knowledge changes") : "on demand") },
    { label: "Updated", render: (s) => formatDate(s.updated_at) },
    { label: "", render: (s) => (state.canEdit ? button("Delete", () => removeSet(state, s), { kind: "danger", small: true, attrs: { "aria-label": `Delete ${s.name}` } }) : null) },
  ], sets, { empty: emptyState("No test sets yet", "A test set is a list of questions with the source and the words a good answer has. Run it after changing knowledge to catch regressions."),
    caption: "Test sets" });
}

async function removeSet(state, evalSet) {
  if (!(await confirmDialog({ title: `Delete “${evalSet.name}”?`, message: "Its cases and every run go with it." }))) return;
  try {
    await del(`${setsPath(state.ctx, state.bot)}/${evalSet.id}`);
    toast("Test set deleted.");
    if (state.openId === evalSet.id) state.close();
    await state.refresh();
  } catch (error) { toastError(error); }
}

export async function render(ctx) {
  const bot = await get(`/workspaces/${ctx.ws}/chatbots/${ctx.params.bot}`);
  const state = { ctx, bot, canEdit: ctx.can("editor"), listBox: h("div"), detailBox: h("div", { class: "stack" }),
    runBox: h("div"), resultBox: h("div"), openId: null, runId: ctx.query.run || null, dirty: false, timer: null };
  guardLeaving(() => state.dirty);
  state.refresh = async () => { replace(state.listBox, setsTable(state, (await get(setsPath(ctx, bot), { limit: 100 })).items)); };
  state.close = () => { state.openId = null; state.dirty = false; clearTimeout(state.timer); replace(state.detailBox); setQuery({}); };
  state.open = async (id) => {
    try {
      const evalSet = id === "new" ? { name: "", cases: [{ question: "", expect_text: [] }], auto_run: false } : await get(`${setsPath(ctx, bot)}/${id}`);
      if (state.openId !== id) state.runId = null;
      state.openId = id;
      setQuery({ set: id, run: state.runId });
      replace(state.detailBox, card(evalSet.id ? `Test set ${evalSet.name}` : "New test set", setEditor(state, evalSet)), evalSet.id ? state.runBox : null);
      replace(state.runBox);
      if (evalSet.id) await drawRuns(state, evalSet);
    } catch (error) { toastError(error); }
  };
  state.showRun = async (runId, scroll = true) => {
    try {
      const run = await get(`${setsPath(ctx, bot)}/${state.openId}/runs/${runId}`);
      state.runId = runId;
      setQuery({ set: state.openId, run: runId });
      replace(state.resultBox, h("h3", { text: `Run of ${formatDate(run.created_at)}` }), resultsTable(run));
      if (scroll) state.resultBox.scrollIntoView({ block: "nearest" });
    } catch (error) { toastError(error); }
  };
  await state.refresh();
  const create = state.canEdit ? button("New test set", () => state.open("new"), { kind: "primary" }) : null;
  replace(ctx.main, pageHeader(bot.name, create), botTabs(ctx, bot, "evals"),
    h("p", { class: "help", text: "Questions the bot should answer well, with the source it should find and words the answer must contain. Each run asks the bot for real (its model and knowledge) without writing to the conversation log." }),
    h("div", { class: "stack" }, card("Test sets", state.listBox), state.detailBox));
  if (ctx.query.set) await state.open(ctx.query.set);
}
