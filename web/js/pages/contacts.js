// Contacts: the people who left their details in a lead form or were signed in by the customer's
// site (verified). Search by name, email or company; newest first, page by page; a CSV export
// that spreadsheets open safely (the server neutralises formula cells).

import { apiUrl, get } from "../api.js";
import { badge, button, emptyState, field, pageHeader, table } from "../components.js";
import { formatDate, h, replace } from "../dom.js";
import { setQuery } from "../router.js";

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
  replace(ctx.main, pageHeader("Contacts", exportBox), form, results, more);
  await load();
}
