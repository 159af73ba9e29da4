// Ways to add knowledge to a bot: file upload with per-file progress, URL / sitemap / site
// crawl, plain text and an FAQ editor. Each calls `added()` so the table refreshes.

import { post, upload } from "../api.js";
import { button, field, onSubmit, toast } from "../components.js";
import { h } from "../dom.js";

const ACCEPT = ".pdf,.txt,.md,.markdown,.html,.htm,.docx,.csv";

export function uploadBox(docsPath, added) {
  const list = h("ul", { class: "upload-list", "aria-label": "Uploads" });
  const input = h("input", { type: "file", multiple: true, accept: ACCEPT, id: "upload-input", class: "visually-hidden" });
  const pick = h("label", { for: "upload-input", class: "btn" }, "Choose files");
  const zone = h("div", { class: "dropzone", "data-testid": "dropzone" },
    h("p", {}, "Drag PDF, DOCX, TXT, MD, HTML or CSV files here, or "), input, pick, list);
  const send = (files) => { for (const file of files) uploadOne(docsPath, file, list, added); };
  input.addEventListener("change", () => { send([...input.files]); input.value = ""; });
  for (const name of ["dragenter", "dragover"]) zone.addEventListener(name, (e) => { e.preventDefault(); zone.classList.add("over"); });
  for (const name of ["dragleave", "drop"]) zone.addEventListener(name, () => zone.classList.remove("over"));
  zone.addEventListener("drop", (e) => { e.preventDefault(); send([...e.dataTransfer.files]); });
  // The page calls this with every refresh of the documents, so an upload's row follows its
  // document through indexing and ends showing either "indexed" or the reason it failed.
  zone.followDocuments = (docs) => {
    for (const row of list.querySelectorAll("li[data-doc]")) {
      const doc = docs.find((d) => d.id === row.dataset.doc);
      if (doc) showUploadState(row, doc);
    }
  };
  return zone;
}

function showUploadState(row, doc) {
  const status = row.querySelector(".upload-status");
  const failed = doc.status === "error";
  row.classList.toggle("failed", failed);
  status.className = "upload-status" + (failed ? " error" : "");
  status.setAttribute("role", failed ? "alert" : "status");
  if (failed) status.textContent = `Uploaded, but could not be indexed: ${doc.error || "unknown error"}`;
  else if (doc.status === "indexed") status.textContent = "uploaded · indexed";
  else status.textContent = `uploaded · indexing ${Math.round(Number(doc.progress || 0) * 100)}%`;
}

async function uploadOne(docsPath, file, list, added) {
  const bar = h("progress", { max: 1, value: 0, "aria-label": `Upload progress of ${file.name}` });
  const status = h("span", { class: "upload-status", text: "uploading" });
  const row = h("li", {}, h("span", { text: file.name }), bar, status);
  list.append(row);
  const form = new FormData();
  form.append("file", file, file.name);
  try {
    const doc = await upload(docsPath, form, (fraction) => { bar.value = fraction; });
    bar.remove(); // the bytes are there; the status text follows the indexing from here
    row.dataset.doc = doc.id;
    showUploadState(row, doc);
    added();
  } catch (error) {
    // A refused upload must not look finished: no full bar, the server's reason instead.
    bar.remove();
    status.textContent = error.message;
    status.className = "upload-status error";
    status.setAttribute("role", "alert");
    row.classList.add("failed");
  }
}

export function urlForm(docsPath, added) {
  const form = h("form", { class: "form", novalidate: true },
    field({ label: "URL", name: "url", type: "url", required: true, attrs: { placeholder: "https://example.com/help" } }),
    h("div", { class: "form-row" },
      field({ label: "What to fetch", name: "mode", type: "select", value: "page",
        options: [["page", "This page"], ["sitemap", "Pages in this sitemap"], ["site", "Crawl the site from here"]] }),
      field({ label: "Max pages", name: "max_pages", type: "number", value: 50, attrs: { min: 1, max: 5000 } }),
      field({ label: "Refresh every (hours)", name: "refresh_hours", type: "number", help: "Empty: fetch once.", attrs: { min: 1 } })),
    h("div", { class: "actions" }, h("button", { class: "btn btn-primary", type: "submit" }, "Add URL")));
  onSubmit(form, async (values) => {
    const body = { url: values.url, mode: values.mode, max_pages: values.max_pages };
    if (values.refresh_hours) body.refresh_hours = values.refresh_hours;
    await post(`${docsPath}/url`, body);
    form.reset();
    form.elements.max_pages.value = 50; // reset() empties fields whose value was set as a property
    toast("Queued for fetching.");
    added();
  });
  return form;
}

export function textForm(docsPath, added) {
  const form = h("form", { class: "form", novalidate: true },
    field({ label: "Title", name: "title", required: true }),
    field({ label: "Text", name: "text", type: "textarea", required: true, attrs: { rows: 6 } }),
    h("div", { class: "actions" }, h("button", { class: "btn btn-primary", type: "submit" }, "Add text")));
  onSubmit(form, async (values) => {
    await post(`${docsPath}/text`, values);
    form.reset();
    toast("Text added.");
    added();
  });
  return form;
}

function faqRow(index, item = {}) {
  const row = h("div", { class: "faq-row" },
    field({ label: `Question ${index}`, name: `question`, type: "textarea", value: item.question, attrs: { rows: 2 } }),
    field({ label: `Answer ${index}`, name: `answer`, type: "textarea", value: item.answer, attrs: { rows: 2 } }));
  row.append(button("Remove", () => row.remove(), { small: true, attrs: { "aria-label": `Remove pair ${index}` } }));
  return row;
}

// The question/answer rows of an FAQ set, for adding one and for editing one.
export function faqPairs(items = []) {
  let count = 0;
  const rows = h("div", { class: "stack faq-rows" });
  const addRow = (item) => { rows.append(faqRow(++count, item)); };
  for (const item of items) addRow(item);
  if (!items.length) addRow();
  const read = () => [...rows.querySelectorAll(".faq-row")].map((row) => ({
    question: row.querySelector("[name=question]").value.trim(), answer: row.querySelector("[name=answer]").value.trim(),
  })).filter((item) => item.question || item.answer);
  const reset = () => { rows.replaceChildren(); count = 0; addRow(); };
  return { rows, addButton: button("Add another pair", () => addRow()), read, reset };
}

export function faqEditor(docsPath, added) {
  const pairs = faqPairs();
  const form = h("form", { class: "form", novalidate: true },
    field({ label: "Name of this FAQ", name: "title", help: "Visitors see it when an answer cites these pairs.",
      attrs: { placeholder: "Frequently asked questions" } }),
    pairs.rows,
    h("div", { class: "actions" }, pairs.addButton, h("button", { class: "btn btn-primary", type: "submit" }, "Save FAQ")));
  onSubmit(form, async (values) => {
    const items = pairs.read();
    await post(`${docsPath}/faq`, { items, ...(values.title.trim() ? { title: values.title.trim() } : {}) });
    form.reset();
    pairs.reset();
    toast(`FAQ with ${items.length} pair${items.length === 1 ? "" : "s"} added.`);
    added();
  });
  return form;
}
