// Team: members and their roles, invitation links (admins only change anything).

import { del, get, patch, post } from "../api.js";
import { badge, button, card, confirmDialog, copyButton, field, onSubmit, pageHeader, table, toast, toastError } from "../components.js";
import { formatDate, h, replace } from "../dom.js";
import { session } from "../state.js";

const ROLES = [["viewer", "Viewer (reads)"], ["editor", "Editor (bots and knowledge)"], ["admin", "Admin (everything)"]];

export async function render(ctx) {
  const isAdmin = ctx.can("admin");
  const [members, invitations] = await Promise.all([
    get(`/workspaces/${ctx.ws}/members`),
    isAdmin ? get(`/workspaces/${ctx.ws}/invitations`) : Promise.resolve([]),
  ]);
  const refresh = () => render(ctx);
  replace(ctx.main, pageHeader("Team"),
    h("div", { class: "stack" },
      card("Members", membersTable(ctx, members, isAdmin, refresh)),
      isAdmin ? card("Invite someone", inviteForm(ctx, refresh)) : null,
      isAdmin ? card("Pending invitations", invitationsTable(ctx, invitations, refresh)) : null));
}

function roleControl(ctx, member, refresh) {
  const select = h("select", { "aria-label": `Role of ${member.email}` },
    ROLES.map(([value, label]) => h("option", { value, selected: value === member.role }, label)));
  select.addEventListener("change", async () => {
    try {
      await patch(`/workspaces/${ctx.ws}/members/${member.user_id}`, { role: select.value });
      toast(`${member.email} is now ${select.value}.`);
    } catch (error) {
      toastError(error);
      select.value = member.role;
    }
    refresh();
  });
  return select;
}

function membersTable(ctx, members, isAdmin, refresh) {
  const remove = async (member) => {
    if (!(await confirmDialog({ title: "Remove member?", message: `${member.email} loses access to this workspace.`, confirmLabel: "Remove" }))) return;
    try { await del(`/workspaces/${ctx.ws}/members/${member.user_id}`); toast("Member removed."); refresh(); } catch (error) { toastError(error); }
  };
  return table([
    { label: "Name", render: (m) => m.name || "—" },
    { label: "Email", key: "email" },
    { label: "Role", render: (m) => (isAdmin ? roleControl(ctx, m, refresh) : badge(m.role, m.role)) },
    { label: "Joined", render: (m) => formatDate(m.joined_at) },
    isAdmin ? { label: "", render: (m) => (m.user_id === session.user.id ? "you" : button("Remove", () => remove(m), { kind: "danger", small: true })) } : null,
  ].filter(Boolean), members, { empty: "No members.", caption: "Members" });
}

function inviteForm(ctx, refresh) {
  const result = h("div", { class: "stack", "aria-live": "polite" });
  const form = h("form", { class: "form", novalidate: true },
    h("div", { class: "form-row" }, field({ label: "Email", name: "email", type: "email", required: true }),
      field({ label: "Role", name: "role", type: "select", value: "viewer", options: ROLES })),
    h("div", { class: "actions" }, h("button", { class: "btn btn-primary", type: "submit" }, "Create invitation link")), result);
  onSubmit(form, async (values) => {
    const invitation = await post(`/workspaces/${ctx.ws}/invitations`, values);
    replace(result, h("div", { class: "callout" },
      h("p", { text: `Send this link to ${invitation.email}. It works once and expires ${formatDate(invitation.expires_at)}.` }),
      h("div", { class: "secret" }, h("code", { class: "invite-url", text: invitation.accept_url }), copyButton(invitation.accept_url, "Copy link"))));
    form.querySelector("input[name=email]").value = "";
    toast("Invitation created.");
    const pending = await get(`/workspaces/${ctx.ws}/invitations`);
    const section = ctx.main.querySelector('section[aria-label="Pending invitations"]');
    if (section) replace(section, h("h2", { text: "Pending invitations" }), invitationsTable(ctx, pending, refresh));
  });
  return form;
}

function invitationsTable(ctx, invitations, refresh) {
  const open = invitations.filter((i) => !i.accepted_at);
  const revoke = async (invitation) => {
    if (!(await confirmDialog({ title: "Revoke invitation?", message: `The link sent to ${invitation.email} will stop working.`, confirmLabel: "Revoke" }))) return;
    try { await del(`/workspaces/${ctx.ws}/invitations/${invitation.id}`); toast("Invitation revoked."); refresh(); } catch (error) { toastError(error); }
  };
  return table([
    { label: "Email", key: "email" },
    { label: "Role", render: (i) => badge(i.role, i.role) },
    { label: "Expires", render: (i) => formatDate(i.expires_at) },
    { label: "", render: (i) => button("Revoke", () => revoke(i), { kind: "danger", small: true }) },
  ], open, { empty: "No pending invitations.", caption: "Pending invitations" });
}
