// Saved replies: texts an operator inserts into a reply with one click. Agents read them;
// editors and admins write them.

import { del, get, patch, post } from "../api.js";
import { button, card, confirmDialog, field, linkButton, onSubmit, pageHeader, table, toast, toastError } from "../components.js";
import { h, replace } from "../dom.js";

export async function render(ctx) {
  const canEdit = ctx.can("editor");
  const listBox = h("div");
  let editing = null;
  const form = h("form", { class: "form", novalidate: true },
    field({ label: "Title", name: "title", required: true, help: "What the button in the inbox says.", attrs: { maxlength: "100" } }),
    field({ label: "Text", name: "text", type: "textarea", required: true, help: "Inserted into the reply box as it is.", attrs: { rows: 4, maxlength: "4000" } }),
    h("div", { class: "actions" }, h("button", { class: "btn btn-primary", type: "submit" }, "Save reply"),
      button("Cancel editing", () => startEditing(null), { attrs: { hidden: true, "data-cancel": "" } })));
  const formCard = canEdit ? card("Add a saved reply", form) : null;

  function startEditing(reply) {
    editing = reply;
    form.elements.title.value = reply ? reply.title : "";
    form.elements.text.value = reply ? reply.text : "";
    form.querySelector("[data-cancel]").hidden = !reply;
    replace(formCard, h("h2", { text: reply ? `Edit “${reply.title}”` : "Add a saved reply" }), form);
    if (reply) form.elements.title.focus();
  }

  const load = async () => {
    const replies = await get(`/workspaces/${ctx.ws}/saved-replies`);
    const remove = async (r) => {
      if (!(await confirmDialog({ title: `Delete “${r.title}”?`, message: "Operators can no longer insert it." }))) return;
      try { await del(`/workspaces/${ctx.ws}/saved-replies/${r.id}`); toast("Saved reply deleted."); if (editing && editing.id === r.id) startEditing(null); await load(); } catch (error) { toastError(error); }
    };
    replace(listBox, table([
      { label: "Title", key: "title" },
      { label: "Text", render: (r) => h("span", { class: "saved-text", text: r.text }) },
      canEdit ? { label: "", render: (r) => h("div", { class: "actions" },
        button("Edit", () => startEditing(r), { small: true, attrs: { "aria-label": `Edit ${r.title}` } }),
        button("Delete", () => remove(r), { small: true, kind: "danger", attrs: { "aria-label": `Delete ${r.title}` } })) } : null,
    ].filter(Boolean), replies, { caption: "Saved replies", empty: canEdit ? "No saved replies yet: add the first one below." : "No saved replies yet. Editors and admins can add them." }));
  };

  onSubmit(form, async (values) => {
    const body = { title: values.title.trim(), text: values.text };
    if (editing) await patch(`/workspaces/${ctx.ws}/saved-replies/${editing.id}`, body);
    else await post(`/workspaces/${ctx.ws}/saved-replies`, body);
    toast(editing ? "Saved reply updated." : "Saved reply added.");
    startEditing(null);
    await load();
  });

  await load();
  replace(ctx.main, pageHeader("Saved replies", linkButton("Back to the inbox", `#${ctx.base}/inbox`)),
    h("div", { class: "stack" }, card("Saved replies", listBox), formCard));
}
