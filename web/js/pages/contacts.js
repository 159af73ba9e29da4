// Contacts: the people who left their details in a lead form or were signed in by the customer's
// site (verified). Search by name, email or company; newest first, page by page; a CSV export
// that spreadsheets open safely (the server neutralises formula cells).

import { ApiError, apiUrl, get, post } from "../api.js";
import { badge, button, emptyState, field, onSubmit, pageHeader, showFieldErrors, table, toast } from "../components.js";
import { formatDate, h, replace } from "../dom.js";
import { navigate, setQuery } from "../router.js";

export function contactLabel(contact) {
  return (contact && (contact.name || contact.email)) || "(no name)";
}

// A link to a contact's page, for the conversation views; null when the contact is unknown.
export function contactLink(ctx, contact) {
  if (!contact || !contact.id) return null;
  const label = contact.name && contact.email ? `${contact.name} <${contact.email}>` : contactLabel(contact);
  return h("a", { href: `#${ctx.base}/contacts/${encodeURIComponent(contact.id)}`, class: "contact-link", text: label });
}

function columns(ctx) {
  return [
    { label: "Name", render: (c) => h("a", { href: `#${ctx.base}/contacts/${encodeURIComponent(c.id)}`, text: c.name || "(no name)" }) },
    { label: "Email", render: (c) => c.email || "—" },
    { label: "Company", render: (c) => c.company || "—" },
    { label: "Phone", render: (c) => c.phone || "—" },
    { label: "Verified", render: (c) => (c.verified ? badge("verified", "ok") : h("span", { class: "muted", text: "no" })) },
    { label: "Conversations", num: true, render: (c) => String(c.conversation_count ?? 0) },
    { label: "Last seen", render: (c) => formatDate(c.last_seen_at || c.updated_at) },
  ];
}

// Agents and up add people by hand (a caller, a visitor who wrote an e-mail instead).
function addForm(ctx) {
  const form = h("form", { class: "form", novalidate: true, "aria-label": "Add a contact" },
    h("div", { class: "form-row" }, field({ label: "Name", name: "name", attrs: { maxlength: "200" } }),
      field({ label: "Email", name: "email", type: "email", attrs: { maxlength: "254" } })),
    h("div", { class: "form-row" }, field({ label: "Phone", name: "phone", type: "tel", attrs: { maxlength: "200" } }),
      field({ label: "Company", name: "company", attrs: { maxlength: "200" } })),
    h("div", { class: "actions" }, h("button", { class: "btn btn-primary", type: "submit" }, "Add contact")));
  onSubmit(form, async (values) => {
    const body = Object.fromEntries(Object.entries(values).map(([k, v]) => [k, v.trim()]).filter(([, v]) => v));
    if (!body.email && !body.name) { showFieldErrors(form, { name: "Give at least a name or an email address." }); return false; }
    try {
      const created = await post(`/workspaces/${ctx.ws}/contacts`, body);
      toast("Contact added.");
      navigate(`${ctx.base}/contacts/${encodeURIComponent(created.id)}`);
    } catch (error) {
      if (!(error instanceof ApiError && error.code === "contact_exists")) throw error;
      showFieldErrors(form, { email: error.message || "Another contact has this email address." });
      return false;
    }
    return undefined;
  });
  return h("details", { class: "card add-contact" }, h("summary", { text: "Add a contact" }), form);
}

export async function render(ctx) {
  const form = h("form", { class: "filters", role: "search", "aria-label": "Search contacts" },
    field({ label: "Search", name: "q", type: "search", value: ctx.query.q || "", attrs: { placeholder: "Name, email or company" } }),
    h("button", { class: "btn btn-primary", type: "submit" }, "Search"));
  const results = h("div", { "aria-live": "polite" });
  const more = h("div", { class: "actions" });
  const exportBox = h("span");
  let rows = [];
  const load = async (cursor) => {
    const q = form.elements.q.value.trim();
    const page = await get(`/workspaces/${ctx.ws}/contacts`, { q, cursor });
    if (ctx.stale()) return;
    rows = cursor ? rows.concat(page.items) : page.items;
    const empty = q ? emptyState("No contacts match", "Try part of a name, an email address or a company.")
      : emptyState("No contacts yet", "Visitors who send a bot's lead form, and verified visitors from your site, appear here.");
    replace(results, table(columns(ctx), rows, { caption: "Contacts", empty }));
    replace(more, page.next_cursor ? button("Load more", async (event) => {
      const focusNext = rows.length;
      event.currentTarget.disabled = true;
      await load(page.next_cursor);
      // Keyboard users go on from the first contact just added, not from the top of the page.
      const link = results.querySelectorAll("tbody tr a")[focusNext];
      if (link) link.focus();
    }) : null);
    if (!cursor) setQuery({ q });
  };
  if (ctx.can("editor")) {
    replace(exportBox, h("a", { class: "btn btn-small", href: apiUrl(`/workspaces/${ctx.ws}/contacts/export`, { format: "csv" }), download: "contacts.csv" }, "Export CSV"));
  }
  form.addEventListener("submit", (e) => { e.preventDefault(); load(); });
  replace(ctx.main, pageHeader("Contacts", exportBox), ctx.can("agent") ? addForm(ctx) : null, form, results, more);
  await load();
}
