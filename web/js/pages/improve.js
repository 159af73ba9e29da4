// "Improve" an answer: the right answer to a visitor's question becomes a correction in the bot's
// knowledge (POST .../conversations/{id}/messages/{message}/improve), which answers that question
// and its paraphrases from then on. Used by the conversation view and the insights page.

import { post } from "../api.js";
import { field, onSubmit, toast } from "../components.js";
import { h } from "../dom.js";

// Editors and above change knowledge; agents and viewers do not see the button.
export const IMPROVE_ROLE = "editor";

export function improveButton(ctx, { conversationId, messageId, question, label = "Improve", onDone }) {
  if (!ctx.can(IMPROVE_ROLE)) return null;
  const btn = h("button", { class: "btn btn-small improve", type: "button", dataset: { improve: messageId },
    title: "Write the right answer: it becomes a correction in the bot's knowledge" }, label);
  btn.addEventListener("click", () => improveDialog(ctx, { conversationId, messageId, question, onDone }));
  return btn;
}

export function improveDialog(ctx, { conversationId, messageId, question, onDone }) {
  const opener = document.activeElement;
  const cancel = h("button", { class: "btn", type: "button", text: "Cancel" });
  const form = h("form", { class: "improve-form", "aria-label": "Improve the answer", novalidate: true },
    question ? h("p", {}, h("strong", { text: "Visitor asked: " }), h("span", { class: "improve-question", text: question })) : null,
    field({ label: "The right answer", name: "answer", type: "textarea", required: true,
      help: "Saved as a correction (an FAQ entry) in the bot's knowledge: this question and ones like it are answered from it." }),
    h("div", { class: "actions" }, cancel, h("button", { class: "btn btn-primary", type: "submit" }, "Save correction")));
  const dialog = h("dialog", { class: "edit-doc", "aria-label": "Improve the answer" }, h("h2", { text: "Improve the answer" }), form);
  const close = () => { dialog.close(); dialog.remove(); if (opener && opener.focus) opener.focus(); };
  cancel.addEventListener("click", close);
  dialog.addEventListener("cancel", (e) => { e.preventDefault(); close(); });
  onSubmit(form, async (values) => {
    const path = `/workspaces/${ctx.ws}/conversations/${conversationId}/messages/${messageId}/improve`;
    const reply = await post(path, { answer: values.answer });
    close();
    toast("Correction saved: it is being added to the bot's knowledge.");
    if (onDone) onDone(reply);
  });
  document.body.append(dialog);
  dialog.showModal();
  form.elements.answer.focus();
  return dialog;
}
