// Your account: display name, password change, and the sessions signed in as you.

import { ApiError, del, get, patch, post } from "../api.js";
import { badge, button, card, confirmDialog, field, onSubmit, pageHeader, showFormErrors, table, toast, toastError } from "../components.js";
import { formatDate, h, replace } from "../dom.js";
import { session } from "../state.js";

const PASSWORD_HELP = "At least 8 characters and not a common password; a passphrase is best.";

export async function render(ctx) {
  const sessions = await get("/auth/sessions");
  const sessionsBox = h("div");
  const refreshSessions = async () => replace(sessionsBox, sessionsCard(await get("/auth/sessions"), refreshSessions));
  replace(sessionsBox, sessionsCard(sessions, refreshSessions));
  replace(ctx.main, pageHeader("Your profile"),
    h("div", { class: "stack" }, card("Profile", profileForm()), card("Password", passwordForm(refreshSessions)), sessionsBox));
}

function profileForm() {
  const form = h("form", { class: "form", novalidate: true },
    field({ label: "Name", name: "name", value: session.user.name, required: true, attrs: { autocomplete: "name", maxlength: "100" },
      help: "Shown to your team and in invitation e-mails." }),
    h("div", { class: "field" }, h("span", { class: "label", text: "Email" }), h("span", { class: "profile-email", text: session.user.email })),
    h("div", { class: "actions" }, h("button", { class: "btn btn-primary", type: "submit" }, "Save name")));
  onSubmit(form, async (values) => {
    const me = await patch("/auth/me", { name: values.name });
    session.user = me.user;
    const shown = document.querySelector(".topbar .user-name");
    if (shown) shown.textContent = me.user.name || me.user.email;
    toast("Name saved.");
  });
  return form;
}

function mismatch() {
  return new ApiError(400, "validation_error", "new_password_confirm: does not match",
    [{ field: "new_password_confirm", message: "does not match the new password" }]);
}

function passwordForm(refreshSessions) {
  const form = h("form", { class: "form", novalidate: true },
    // A hidden user name lets password managers file the new password under the right account.
    h("input", { type: "email", name: "username", value: session.user.email, autocomplete: "username", hidden: true, disabled: true }),
    field({ label: "Current password", name: "current_password", type: "password", required: true, attrs: { autocomplete: "current-password" } }),
    field({ label: "New password", name: "new_password", type: "password", required: true, help: PASSWORD_HELP,
      attrs: { autocomplete: "new-password", minlength: "8" } }),
    field({ label: "Repeat the new password", name: "new_password_confirm", type: "password", required: true, attrs: { autocomplete: "new-password" } }),
    h("p", { class: "help", text: "Changing it signs you out everywhere else." }),
    h("div", { class: "actions" }, h("button", { class: "btn btn-primary", type: "submit" }, "Change password")));
  onSubmit(form, async (values) => {
    if (values.new_password !== values.new_password_confirm) { showFormErrors(form, mismatch()); return; }
    const result = await post("/auth/password", { current_password: values.current_password, new_password: values.new_password });
    form.reset();
    const others = result.sessions_ended;
    toast(others ? `Password changed; ${others} other session${others === 1 ? "" : "s"} signed out.` : "Password changed.");
    await refreshSessions();
  });
  return form;
}

function device(userAgent) {
  if (!userAgent) return "Unknown device";
  const browser = (/(Edg|Firefox|Chrome|Safari)\/[\d.]+/.exec(userAgent) || [])[1];
  const system = (/(Windows|Mac OS X|Android|iPhone|iPad|Linux)/.exec(userAgent) || [])[1];
  const names = { Edg: "Edge", "Mac OS X": "macOS" };
  return browser ? `${names[browser] || browser}${system ? " on " + (names[system] || system) : ""}` : userAgent.slice(0, 60);
}

function sessionsCard(sessions, refresh) {
  const others = sessions.filter((s) => !s.current).length;
  const endOthers = async () => {
    if (!(await confirmDialog({ title: "Sign out other sessions?", message: `${others} other session${others === 1 ? "" : "s"} will have to log in again. This one stays signed in.`, confirmLabel: "Sign out others" }))) return;
    try {
      const result = await del("/auth/sessions");
      toast(`${result.sessions_ended} other session${result.sessions_ended === 1 ? "" : "s"} signed out.`);
      await refresh();
    } catch (error) { toastError(error); }
  };
  return card("Sessions", h("div", { class: "stack" },
    h("p", { class: "help", text: "Browsers and devices signed in as you." }),
    table([
      { label: "Device", render: (s) => h("span", { title: s.user_agent || "" }, device(s.user_agent)) },
      { label: "Signed in", render: (s) => formatDate(s.created_at) },
      { label: "Last active", render: (s) => formatDate(s.last_seen_at) },
      { label: "", render: (s) => (s.current ? badge("this session", "ok") : "") },
    ], sessions, { caption: "Sessions" }),
    h("div", { class: "actions" },
      others ? button("Sign out other sessions", endOthers, { kind: "danger" }) : h("p", { class: "help", text: "No other sessions." }))));
}
