// Editing one knowledge document: any document's title (what citations show visitors), a
// pasted text's text and an FAQ set's pairs. Content changes are re-indexed by the server.

import { get, patch } from "../api.js";
import { field, onSubmit, toast, toastError } from "../components.js";
import { h } from "../dom.js";
import { faqPairs } from "./knowledge_forms.js";

function editForm(full, pairs, cancel) {
  return h("form", { class: "form", novalidate: true },
    field({ label: "Title", name: "title", value: full.title, required: true,
      help: "Visitors see this title when an answer cites this document." }),
    full.source_type === "text" ? field({ label: "Text", name: "text", type: "textarea", value: full.text, attrs: { rows: 10 } }) : null,
    pairs ? pairs.rows : null,
    h("div", { class: "actions" }, pairs ? pairs.addButton : null, cancel,
      h("button", { class: "btn btn-primary", type: "submit" }, "Save")));
}

export async function editDocument(docsPath, doc, saved) {
  const opener = document.activeElement;
  let full;
  try { full = await get(`${docsPath}/${doc.id}`); } catch (error) { toastError(error); return; }
  const pairs = full.source_type === "faq" ? faqPairs(full.items || []) : null;
  const cancel = h("button", { class: "btn", type: "button", text: "Cancel" });
  const form = editForm(full, pairs, cancel);
  const dialog = h("dialog", { "aria-labelledby": "edit-doc-title", class: "edit-doc" },
    h("h2", { id: "edit-doc-title", text: `Edit “${full.title}”` }), form);
  const close = () => { dialog.close(); dialog.remove(); if (opener && opener.focus) opener.focus(); };
  cancel.addEventListener("click", close);
  dialog.addEventListener("cancel", (e) => { e.preventDefault(); close(); });
  onSubmit(form, async (values) => {
    const body = { title: values.title };
    if (full.source_type === "text") body.text = values.text;
    if (pairs) body.items = pairs.read();
    await patch(`${docsPath}/${doc.id}`, body);
    close();
    toast(body.text !== undefined || body.items ? "Saved. Re-indexing…" : "Title saved.");
    saved();
  });
  document.body.append(dialog);
  dialog.showModal();
  form.querySelector("[name=title]").focus();
}
