// Team: members and their roles, invitation links (admins only change anything).

import { del, get, patch, post } from "../api.js";
import { badge, button, card, confirmDialog, copyButton, field, onSubmit, pageHeader, table, toast, toastError } from "../components.js";
import { formatDate, h, replace } from "../dom.js";
import { navigate } from "../router.js";
import { loadMe, session } from "../state.js";

const ROLES = [["viewer", "Viewer (reads)"], ["agent", "Agent (answers visitors in the inbox)"], ["editor", "Editor (bots and knowledge)"], ["admin", "Admin (everything)"]];

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
      ctx.can("agent") ? card("Your notifications", notifyForm(ctx, members.find((m) => m.user_id === session.user.id))) : null,
      isAdmin ? card("Invite someone", inviteForm(ctx, refresh)) : null,
      isAdmin ? card("Pending invitations", invitationsTable(ctx, invitations, refresh)) : null));
}

const ROLE_EFFECT = {
  viewer: "will only be able to read bots, conversations and analytics",
  agent: "will be able to answer visitors in the inbox and read everything, but not change bots, knowledge or settings",
  editor: "will be able to change bots and knowledge",
  admin: "will be able to change everything, including members, providers, tokens and billing",
};

function roleControl(ctx, member, refresh) {
  const select = h("select", { "aria-label": `Role of ${member.email}` },
    ROLES.map(([value, label]) => h("option", { value, selected: value === member.role }, label)));
  select.addEventListener("change", async () => {
    const role = select.value;
    const self = member.user_id === session.user.id;
    const message = `${self ? "You" : member.email} ${ROLE_EFFECT[role]}.`
      + (self && member.role === "admin" ? " You will lose admin access to this workspace." : "");
    const confirmed = await confirmDialog({ title: `Make ${member.name || member.email} ${role}?`, message,
      confirmLabel: "Change role", danger: self && member.role === "admin" });
    if (!confirmed) { select.value = member.role; return; }
    try {
      await patch(`/workspaces/${ctx.ws}/members/${member.user_id}`, { role });
      toast(`${member.email} is now ${role}.`);
      // Your own role changed: redraw the whole shell so menus and controls follow it.
      if (self) { await loadMe(); navigate(`/w/${ctx.ws}/team`, { replace: true }); return; }
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
    const sent = invitation.emailed ? `We e-mailed this link to ${invitation.email}; you can also send it yourself.`
      : `Send this link to ${invitation.email}.`;
    replace(result, h("div", { class: "callout" + (invitation.email_error ? " warn" : ""), role: invitation.email_error ? "alert" : null },
      invitation.email_error ? h("p", { text: `The e-mail could not be sent: ${invitation.email_error}.` }) : null,
      h("p", { text: `${sent} It works once and expires ${formatDate(invitation.expires_at)}.` }),
      h("div", { class: "secret" }, h("code", { class: "invite-url", text: invitation.accept_url }), copyButton(invitation.accept_url, "Copy link"))));
    form.querySelector("input[name=email]").value = "";
    toast(invitation.emailed ? "Invitation created and e-mailed." : "Invitation created.");
    await refreshPending(ctx, refresh);
  });
  return form;
}

async function refreshPending(ctx, refresh) {
  const pending = await get(`/workspaces/${ctx.ws}/invitations`);
  const section = ctx.main.querySelector('section[aria-label="Pending invitations"]');
  if (section) replace(section, h("h2", { text: "Pending invitations" }), invitationsTable(ctx, pending, refresh));
}

function invitationsTable(ctx, invitations, refresh) {
  const open = invitations.filter((i) => i.status !== "accepted" && !i.accepted_at);
  const revoke = async (invitation) => {
    if (!(await confirmDialog({ title: "Revoke invitation?", message: `The link sent to ${invitation.email} will stop working.`, confirmLabel: "Revoke" }))) return;
    try { await del(`/workspaces/${ctx.ws}/invitations/${invitation.id}`); toast("Invitation revoked."); await refreshPending(ctx, refresh); } catch (error) { toastError(error); }
  };
  const copy = (i) => {
    const btn = copyButton(i.accept_url, "Copy link");
    // Row-specific wording in the description, not the name: the row already says whose it is.
    btn.setAttribute("aria-label", "Copy this invitation link");
    btn.setAttribute("aria-description", `for ${i.email}`);
    return btn;
  };
  const actions = (i) => h("div", { class: "actions" },
    i.accept_url ? copy(i) : h("span", { class: "help", text: i.status === "expired" ? "Link expired" : "Link unavailable: revoke and invite again" }),
    button(i.status === "expired" ? "Remove" : "Revoke", () => revoke(i), { kind: "danger", small: true,
      attrs: { "aria-label": `${i.status === "expired" ? "Remove" : "Revoke"} this invitation`, "aria-description": `to ${i.email}` } }));
  return table([
    { label: "Email", key: "email" },
    { label: "Role", render: (i) => badge(i.role, i.role) },
    { label: "Status", render: (i) => (i.status === "expired" ? badge("expired", "error") : badge("pending", "warn")) },
    { label: "Expires", render: (i) => formatDate(i.expires_at) },
    { label: "", render: actions },
  ], open, { empty: "No pending invitations.", caption: "Pending invitations" });
}

// Each member decides for themself whether a waiting visitor is worth an e-mail; saved on change.
function notifyForm(ctx, me) {
  const wrapper = field({ label: "Email me when a conversation waits", name: "notify_waiting", type: "checkbox", value: Boolean(me && me.notify_waiting),
    help: "One e-mail per conversation that waits unanswered for a few minutes (when this server can send e-mail)." });
  const box = wrapper.querySelector("input");
  box.addEventListener("change", async () => {
    const wanted = box.checked;
    box.disabled = true;
    try {
      await patch(`/workspaces/${ctx.ws}/members/me`, { notify_waiting: wanted });
      if (me) me.notify_waiting = wanted;
      toast(wanted ? "You will get an e-mail when a conversation waits." : "No more e-mails about waiting conversations.");
    } catch (error) {
      box.checked = !wanted;
      toastError(error);
    } finally {
      box.disabled = false;
      box.focus();
    }
  });
  return h("div", { class: "form" }, wrapper);
}
