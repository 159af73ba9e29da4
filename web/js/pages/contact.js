// One contact: their details, custom fields from the lead form, whether the customer's site
// verified them, and every conversation they had (linked to the conversation view). Agents edit
// the details; admins delete the contact, which erases their conversations too (a GDPR request).

import { ApiError, del, get, patch } from "../api.js";
import { badge, button, card, confirmDialog, field, onSubmit, pageHeader, showFieldErrors, table, toast, toastError } from "../components.js";
import { formatDate, h, replace } from "../dom.js";
import { navigate } from "../router.js";
import { contactLabel } from "./contacts.js";

const STANDARD = [["name", "Name", "text"], ["email", "Email", "email"], ["phone", "Phone", "tel"], ["company", "Company", "text"]];

function details(c) {
  const rows = [
    ["Email", c.email], ["Name", c.name], ["Phone", c.phone], ["Company", c.company],
    ...Object.entries(c.fields || {}).map(([key, value]) => [key, String(value)]),
    ["Verified", c.verified ? h("span", {}, badge("verified", "ok"), " ", h("code", { text: c.external_id || "" })) : "no (from a lead form)"],
    ["Created", formatDate(c.created_at)], ["Last seen", formatDate(c.last_seen_at)],
  ];
  return h("dl", { class: "contact-details" }, rows.map(([term, value]) => [h("dt", { text: term }), h("dd", {}, value || "—")]));
}

function conversations(ctx, c) {
  return table([
    { label: "Started", render: (v) => h("a", { href: `#${ctx.base}/conversations/${encodeURIComponent(v.id)}`, text: formatDate(v.started_at) }) },
    { label: "Chatbot", render: (v) => v.chatbot_name || "(deleted)" },
    { label: "Channel", render: (v) => badge(v.channel) },
    { label: "Status", render: (v) => v.status || "—" },
    { label: "Messages", num: true, render: (v) => String(v.message_count ?? 0) },
    { label: "Last message", render: (v) => formatDate(v.last_message_at) },
  ], c.conversations || [], { caption: "Conversations of this contact", empty: "No conversations yet." });
}

function editForm(ctx, c, onSaved) {
  const custom = Object.entries(c.fields || {});
  const form = h("form", { class: "form", novalidate: true, "aria-label": "Edit contact" },
    STANDARD.map(([name, label, type]) => field({ label, name, type, value: c[name] || "", attrs: { maxlength: "200" } })),
    custom.map(([key, value]) => field({ label: key, name: `fields.${key}`, value: String(value ?? ""), attrs: { maxlength: "200" } })),
    h("div", { class: "actions" }, h("button", { class: "btn btn-primary", type: "submit" }, "Save contact")));
  onSubmit(form, async (values) => {
    // Only what changed goes to the server: an untouched field is never rewritten.
    const body = {};
    for (const [name] of STANDARD) if (values[name].trim() !== (c[name] || "")) body[name] = values[name].trim();
    const fields = Object.fromEntries(custom.map(([key]) => [key, values[`fields.${key}`].trim()]));
    if (custom.some(([key, value]) => fields[key] !== String(value ?? ""))) body.fields = fields;
    if (!values.email.trim() && !values.name.trim()) { showFieldErrors(form, { email: "A contact needs an email or a name." }); return false; }
    if (!Object.keys(body).length) { toast("Nothing changed."); return undefined; }
    try {
      onSaved(await patch(`/workspaces/${ctx.ws}/contacts/${c.id}`, body));
    } catch (error) {
      if (error instanceof ApiError && error.code === "contact_exists") {
        showFieldErrors(form, { email: error.message || "Another contact has this email address." });
        return false;
      }
      throw error;
    }
    toast("Contact saved.");
    return undefined;
  }, { guard: true });
  return form;
}

async function remove(ctx, c) {
  const count = (c.conversations || []).length;
  const erased = count === 1 ? "its 1 conversation" : `its ${count} conversations`;
  const ok = await confirmDialog({ title: `Delete ${contactLabel(c)}?`, confirmLabel: "Delete contact and conversations",
    message: `This erases the contact and ${erased}, with every message in them. It cannot be undone; the deletion is recorded in the audit log.` });
  if (!ok) return;
  try {
    await del(`/workspaces/${ctx.ws}/contacts/${c.id}`);
    toast("Contact and conversations deleted.");
    navigate(`${ctx.base}/contacts`);
  } catch (error) { toastError(error); }
}

export async function render(ctx) {
  let c = await get(`/workspaces/${ctx.ws}/contacts/${ctx.params.contact}`);
  const detailBox = h("div");
  const draw = () => replace(detailBox, details(c));
  draw();
  const onSaved = (saved) => { c = { ...c, ...saved, conversations: c.conversations }; draw(); };
  const actions = [
    ctx.can("admin") ? button("Delete contact", () => remove(ctx, c), { kind: "danger" }) : null,
    h("a", { class: "btn", href: `#${ctx.base}/contacts` }, "Back to contacts"),
  ];
  replace(ctx.main, pageHeader(contactLabel(c), ...actions),
    h("div", { class: "stack" },
      h("div", { class: "grid-2" }, card("Details", detailBox), ctx.can("agent") ? card("Edit", editForm(ctx, c, onSaved)) : null),
      card("Conversations", conversations(ctx, c))));
}
