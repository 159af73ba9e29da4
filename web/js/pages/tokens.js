// API tokens: create (the secret is shown once), list, revoke.

import { del, get, post } from "../api.js";
import { badge, button, card, confirmDialog, copyButton, field, onSubmit, pageHeader, table, toast, toastError } from "../components.js";
import { formatDate, h, replace } from "../dom.js";
import { snippetsPanel } from "./tokens_snippets.js";

export async function render(ctx) {
  const [tokens, bots] = await Promise.all([get(`/workspaces/${ctx.ws}/api-tokens`), get(`/workspaces/${ctx.ws}/chatbots`)]);
  const snippetState = { slug: bots.length ? bots[0].slug : "", token: "" };
  const snippets = snippetsPanel(bots, snippetState);
  const secretBox = h("div", { "aria-live": "polite" });
  const form = h("form", { class: "form", novalidate: true },
    h("div", { class: "form-row" }, field({ label: "Name", name: "name", required: true, help: "Where it is used, e.g. “CI” or “CRM sync”." }),
      field({ label: "Role", name: "role", type: "select", value: "editor", options: [["viewer", "Viewer"], ["editor", "Editor"], ["admin", "Admin"]] })),
    h("div", { class: "actions" }, h("button", { class: "btn btn-primary", type: "submit" }, "Create token")), secretBox);
  const list = h("div");
  const refresh = async () => replace(list, tokensTable(ctx, await get(`/workspaces/${ctx.ws}/api-tokens`), refresh));
  onSubmit(form, async (values) => {
    const created = await post(`/workspaces/${ctx.ws}/api-tokens`, values);
    replace(secretBox, h("div", { class: "callout warn", role: "alert" },
      h("p", { text: "Copy this token now: it is shown only once." }),
      h("div", { class: "secret" }, h("code", { class: "token-secret", text: created.token }), copyButton(created.token))));
    form.querySelector("input[name=name]").value = "";
    snippetState.token = created.token;  // the snippets below now carry it, ready to paste
    snippets.refresh();
    toast("Token created.");
    await refresh();
  });
  replace(list, tokensTable(ctx, tokens, refresh));
  replace(ctx.main, pageHeader("API tokens"),
    h("p", {}, "Tokens call the API as this workspace: send ", h("code", { text: "Authorization: Bearer mp_…" }), "."),
    h("div", { class: "stack" },
      h("div", { class: "callout docs-links" },
        h("p", {}, h("strong", { text: "API reference: " }), "every route with its parameters and bodies, generated from this server."),
        h("div", { class: "actions" }, h("a", { class: "btn btn-primary", href: "/api/docs", text: "Open the API reference" }),
          h("a", { class: "btn", href: "/schema/openapi.json", text: "OpenAPI schema (JSON)" }))),
      card("New token", form), card("Tokens", list), card("Use a chatbot from other apps", snippets.element)));
}

function tokensTable(ctx, tokens, refresh) {
  const revoke = async (token) => {
    if (!(await confirmDialog({ title: "Revoke token?", message: `Programs using “${token.name}” will stop working at once.`, confirmLabel: "Revoke" }))) return;
    try { await del(`/workspaces/${ctx.ws}/api-tokens/${token.id}`); toast("Token revoked."); await refresh(); } catch (error) { toastError(error); }
  };
  return table([
    { label: "Name", key: "name" },
    { label: "Role", render: (t) => badge(t.role, t.role) },
    { label: "Prefix", render: (t) => h("code", { text: t.prefix + "…" }) },
    { label: "Created", render: (t) => formatDate(t.created_at) },
    { label: "Last used", render: (t) => formatDate(t.last_used_at) },
    { label: "Status", render: (t) => (t.revoked_at ? badge("revoked") : badge("active", "ok")) },
    { label: "", render: (t) => (t.revoked_at ? "" : button("Revoke", () => revoke(t), { kind: "danger", small: true })) },
  ], tokens, { empty: "No API tokens yet.", caption: "API tokens" });
}
