// Pages outside a workspace: first-run setup, login, sign-up, accepting an invitation,
// creating another workspace.

import { ApiError, get, post } from "../api.js";
import { errorState, field, onSubmit } from "../components.js";
import { h } from "../dom.js";
import { renderBare, themeToggle } from "../layout.js";
import { navigate } from "../router.js";
import { remember, rememberWorkspace, session } from "../state.js";

function accountFields({ withWorkspace = true, email = "" } = {}) {
  return [
    field({ label: "Your name", name: "name", required: true, attrs: { autocomplete: "name" } }),
    field({ label: "Email", name: "email", type: "email", value: email, required: true, attrs: { autocomplete: "email" } }),
    field({ label: "Password", name: "password", type: "password", required: true, help: "At least 8 characters, and not a common password; a passphrase is best.",
      attrs: { autocomplete: "new-password", minlength: "8" } }),
    withWorkspace ? field({ label: "Workspace name", name: "workspace_name", required: true, help: "Your company or client; you can add more later." }) : null,
  ];
}

function footer(...children) {
  return h("p", { class: "auth-foot" }, ...children);
}

// From another machine, setup needs the token the server printed at start; the printed link
// (#/setup?token=...) fills it in, or it can be pasted.
function setupTokenField(instance, query) {
  if (!instance.setup_token_required) return null;
  return field({ label: "Setup token", name: "setup_token", value: query.token || "", required: true,
    help: "Printed by the server when it started (in its console or log, in the link after ?token=).",
    attrs: { autocomplete: "off", spellcheck: "false" } });
}

export function setupPage({ instance, afterLogin, query = {} }) {
  if (!instance.setup_needed) { navigate("/login", { replace: true }); return; }
  const form = h("form", { class: "form", novalidate: true }, setupTokenField(instance, query), ...accountFields(),
    h("button", { class: "btn btn-primary", type: "submit" }, "Create owner account"));
  onSubmit(form, async (values) => {
    remember(await post("/auth/setup", values));
    session.instance = { ...instance, setup_needed: false };
    afterLogin();
  });
  renderBare(h("h1", { text: "Welcome to ModelPilot" }),
    h("p", { text: "Create the owner account and the first workspace of this instance." }), form, footer(themeToggle()));
}

export function loginPage({ instance, afterLogin, query }) {
  if (instance.setup_needed) { navigate("/setup", { replace: true }); return; }
  const form = h("form", { class: "form", novalidate: true },
    field({ label: "Email", name: "email", type: "email", value: query.email || "", required: true, attrs: { autocomplete: "username" } }),
    field({ label: "Password", name: "password", type: "password", required: true, attrs: { autocomplete: "current-password" } }),
    h("button", { class: "btn btn-primary", type: "submit" }, "Log in"));
  onSubmit(form, async (values) => {
    remember(await post("/auth/login", values));
    afterLogin();
  });
  // Carries the email already typed over to the reset form.
  const toForgot = (event) => {
    const email = form.querySelector("input[name=email]").value.trim();
    if (email) { event.preventDefault(); navigate(`/forgot?email=${encodeURIComponent(email)}`); }
  };
  const forgot = h("p", {}, h("a", { href: "#/forgot", text: "Forgot your password?", on: { click: toForgot } }));
  renderBare(h("h1", { text: "Log in" }), form, forgot,
    footer(instance.open_signup ? h("span", {}, "No account? ", h("a", { href: "#/signup" }, "Sign up"), " · ") : null, themeToggle()));
}

export function signupPage({ instance, afterLogin }) {
  if (!instance.open_signup) {
    renderBare(h("h1", { text: "Sign-up is closed" }),
      h("p", { text: "Ask an admin of this instance for an invitation link." }), footer(h("a", { href: "#/login" }, "Log in")));
    return;
  }
  const form = h("form", { class: "form", novalidate: true }, ...accountFields(),
    h("button", { class: "btn btn-primary", type: "submit" }, "Create account"));
  onSubmit(form, async (values) => {
    remember(await post("/auth/signup", values));
    afterLogin();
  });
  renderBare(h("h1", { text: "Create your account" }), form, footer("Have an account? ", h("a", { href: "#/login" }, "Log in")));
}

async function loggedInUser() {
  try {
    const me = await get("/auth/me");
    remember(me);
    return me.user;
  } catch (error) {
    if (error instanceof ApiError && error.status === 401) return null;
    throw error;
  }
}

export async function invitePage({ params, afterLogin }) {
  let invitation;
  try {
    invitation = await get(`/invitations/${encodeURIComponent(params.token)}`);
  } catch (error) {
    renderBare(h("h1", { text: "Invitation" }), errorState(error), footer(h("a", { href: "#/login" }, "Log in")));
    return;
  }
  const intro = h("p", {}, "You are invited to join ", h("strong", { text: invitation.workspace_name }), " as ",
    h("strong", { text: invitation.role }), ".");
  const user = session.user || (localStorage.getItem("modelpilot.session") ? await loggedInUser() : null);
  const accept = async (body) => {
    remember(await post(`/invitations/${encodeURIComponent(params.token)}/accept`, body));
    // Land in the workspace just joined, not the last one this browser used.
    const joined = session.workspaces.find((w) => w.name === invitation.workspace_name);
    if (joined) rememberWorkspace(joined.id);
    afterLogin();
  };
  if (user) {
    const form = h("form", { class: "form" }, h("p", { text: `Logged in as ${user.email}.` }),
      h("button", { class: "btn btn-primary", type: "submit" }, "Accept invitation"));
    onSubmit(form, () => accept(undefined));
    renderBare(h("h1", { text: "Join " + invitation.workspace_name }), intro, form);
    return;
  }
  const form = h("form", { class: "form", novalidate: true }, ...accountFields({ withWorkspace: false, email: invitation.email }),
    h("button", { class: "btn btn-primary", type: "submit" }, "Create account and join"));
  onSubmit(form, (values) => accept(values));
  renderBare(h("h1", { text: "Join " + invitation.workspace_name }), intro, form,
    footer("Already have an account? ", h("a", { href: "#/login" }, "Log in"), " first, then open this link again."));
}

export function newWorkspacePage({ afterLogin }) {
  const form = h("form", { class: "form", novalidate: true }, field({ label: "Workspace name", name: "name", required: true }),
    h("div", { class: "actions" }, h("button", { class: "btn btn-primary", type: "submit" }, "Create workspace"),
      session.workspaces.length ? h("a", { class: "btn", href: "#/" }, "Cancel") : null));
  onSubmit(form, async (values) => {
    const ws = await post("/workspaces", values);
    session.workspaces.push({ ...ws, role: ws.role || "admin" });
    rememberWorkspace(ws.id);
    afterLogin();
  });
  renderBare(h("h1", { text: "New workspace" }), h("p", { text: "A workspace holds its own bots, knowledge, team and usage." }), form);
}
