// Boot: theme, routes, and the rules for where a visitor lands (setup, login or a workspace).

import { ApiError, get, onUnauthorized } from "./api.js";
import { clearOldToasts, confirmDialog, errorState, loading, roleNotice } from "./components.js";
import { h, replace } from "./dom.js";
import { applyTheme, renderShell } from "./layout.js";
import { setPageTitle } from "./live.js";
import { currentPath, navigate, onLeaveConfirm, otherwise, route, startRouter } from "./router.js";
import { can, forget, lastWorkspace, loadMe, mayBeLoggedIn, rememberWorkspace, roleIn, session, workspace } from "./state.js";

applyTheme();
onLeaveConfirm(() => confirmDialog({ title: "Leave without saving?", message: "Your changes on this page are not saved yet. If you leave now, they are lost.",
  confirmLabel: "Leave page", danger: true }));

const ROLE_NAMES = { viewer: "viewers", agent: "agents", editor: "editors", admin: "admins" };

// A page the role cannot open says who can, and what to do about it.
function notAllowed(role, minRole) {
  return h("div", { class: "empty", role: "alert" }, h("h3", { text: "This page is not open to your role" }),
    h("p", { text: `Only ${ROLE_NAMES[minRole]}${minRole === "admin" ? "" : " and admins"} of this workspace can open it; your role is ${role}. Ask an admin of this workspace to change your role if you need it.` }));
}

let returnTo = null;
let navigated = false;
window.addEventListener("hashchange", () => { navigated = true; });

onUnauthorized(() => {
  forget();
  const here = currentPath();
  if (!here.startsWith("/login")) returnTo = here;
  navigate("/login");
});

export function afterLogin() {
  const target = returnTo && returnTo.startsWith("/w/") ? returnTo : null;
  returnTo = null;
  const ws = lastWorkspace();
  navigate(target || (ws ? `/w/${ws}/overview` : "/workspaces/new"));
}

async function instanceInfo() {
  if (!session.instance) session.instance = await get("/instance");
  return session.instance;
}

async function landing() {
  const info = await instanceInfo();
  if (info.setup_needed) return navigate("/setup", { replace: true });
  if (!mayBeLoggedIn()) return navigate("/login", { replace: true });
  try {
    await loadMe();
  } catch (error) {
    if (error instanceof ApiError && error.status === 401) return undefined;
    throw error;
  }
  return afterLogin();
}

async function ensureSession() {
  if (session.user) return true;
  if (!mayBeLoggedIn()) { returnTo = currentPath(); navigate("/login"); return false; }
  try {
    await loadMe();
    return true;
  } catch (error) {
    if (error instanceof ApiError && error.status === 401) return false;
    throw error;
  }
}

// A page inside a workspace: checks the session and membership, draws the shell, then the page.
function workspacePage(navId, loader, minRole = "viewer") {
  return async (params, query, stale) => {
    if (!(await ensureSession())) return;
    if (!workspace(params.ws)) { afterLogin(); return; }
    rememberWorkspace(params.ws);
    const shell = renderShell(params.ws, navId);
    const role = roleIn(params.ws);
    // Viewers see, on every page, what their role allows; pages draw below it.
    const main = h("div", { class: "page" });
    const notice = role === "viewer" ? roleNotice(role)
      : role === "agent" ? roleNotice(role, "answer visitors in the inbox and read everything in this workspace") : null;
    replace(shell, notice, main);
    if (!can(params.ws, minRole)) { replace(main, notAllowed(role, minRole)); return; }
    replace(main, loading());
    const ctx = { main, ws: params.ws, params, query, stale, role, can: (r) => can(params.ws, r), base: `/w/${params.ws}` };
    try {
      const page = await loader();
      await page.render(ctx);
    } catch (error) {
      if (error instanceof ApiError && error.status === 401) return;
      if (!stale()) replace(main, errorState(error, () => reloadPage()));
    }
    if (stale()) return;
    setPageTitle((main.querySelector("h1") || {}).textContent || "Dashboard");
    // After in-app navigation, start keyboard and screen-reader users at the new page.
    if (navigated && !shell.contains(document.activeElement)) shell.focus({ preventScroll: true });
  };
}

function reloadPage() {
  navigate(currentPath(), { replace: true });
}

function authPage(name, loader = () => import("./pages/auth.js")) {
  return async (params, query) => {
    const page = await loader();
    await page[name]({ params, query, instance: await instanceInfo(), afterLogin });
    document.title = `${document.querySelector("h1") ? document.querySelector("h1").textContent : "ModelPilot"} · ModelPilot`;
  };
}

route("/", landing);
route("/setup", authPage("setupPage"));
route("/login", authPage("loginPage"));
route("/signup", authPage("signupPage"));
route("/invite/:token", authPage("invitePage"));
route("/forgot", authPage("forgotPage", () => import("./pages/account.js")));
route("/reset/:token", authPage("resetPage", () => import("./pages/account.js")));
route("/profile", async () => { if (await ensureSession()) { const ws = lastWorkspace(); navigate(ws ? `/w/${ws}/profile` : "/workspaces/new", { replace: true }); } });
route("/workspaces/new", async () => { if (await ensureSession()) (await import("./pages/auth.js")).newWorkspacePage({ afterLogin }); });

const pages = {
  overview: () => import("./pages/overview.js"),
  bots: () => import("./pages/bots.js"),
  editor: () => import("./pages/bot_editor.js"),
  knowledge: () => import("./pages/knowledge.js"),
  actions: () => import("./pages/bot_actions.js"),
  evals: () => import("./pages/bot_evals.js"),
  mcpServers: () => import("./pages/mcp_servers.js"),
  widget: () => import("./pages/widget.js"),
  conversations: () => import("./pages/conversations.js"),
  conversation: () => import("./pages/conversation.js"),
  contacts: () => import("./pages/contacts.js"),
  contact: () => import("./pages/contact.js"),
  inbox: () => import("./pages/inbox.js"),
  inboxConversation: () => import("./pages/inbox_conversation.js"),
  savedReplies: () => import("./pages/saved_replies.js"),
  analytics: () => import("./pages/analytics.js"),
  insights: () => import("./pages/insights.js"),
  providers: () => import("./pages/providers.js"),
  team: () => import("./pages/team.js"),
  tokens: () => import("./pages/tokens.js"),
  webhooks: () => import("./pages/webhooks.js"),
  billing: () => import("./pages/billing.js"),
  settings: () => import("./pages/settings.js"),
  profile: () => import("./pages/profile.js"),
};
route("/w/:ws", (params) => navigate(`/w/${params.ws}/overview`, { replace: true }));
route("/w/:ws/overview", workspacePage("overview", pages.overview));
route("/w/:ws/bots", workspacePage("bots", pages.bots));
route("/w/:ws/bots/new", workspacePage("bots", pages.editor, "editor"));
route("/w/:ws/bots/:bot", workspacePage("bots", pages.editor));
route("/w/:ws/bots/:bot/knowledge", workspacePage("bots", pages.knowledge));
route("/w/:ws/bots/:bot/widget", workspacePage("bots", pages.widget));
route("/w/:ws/bots/:bot/actions", workspacePage("bots", pages.actions));
route("/w/:ws/bots/:bot/evals", workspacePage("bots", pages.evals));
route("/w/:ws/mcp-servers", workspacePage("mcp-servers", pages.mcpServers));
route("/w/:ws/conversations", workspacePage("conversations", pages.conversations));
route("/w/:ws/conversations/:conversation", workspacePage("conversations", pages.conversation));
route("/w/:ws/contacts", workspacePage("contacts", pages.contacts));
route("/w/:ws/contacts/:contact", workspacePage("contacts", pages.contact));
route("/w/:ws/inbox", workspacePage("inbox", pages.inbox, "agent"));
route("/w/:ws/inbox/replies", workspacePage("inbox", pages.savedReplies, "agent"));
route("/w/:ws/inbox/:conversation", workspacePage("inbox", pages.inboxConversation, "agent"));
route("/w/:ws/analytics", workspacePage("analytics", pages.analytics));
route("/w/:ws/insights", workspacePage("insights", pages.insights));
route("/w/:ws/providers", workspacePage("providers", pages.providers));
route("/w/:ws/team", workspacePage("team", pages.team));
route("/w/:ws/tokens", workspacePage("tokens", pages.tokens, "admin"));
route("/w/:ws/webhooks", workspacePage("webhooks", pages.webhooks, "admin"));
route("/w/:ws/billing", workspacePage("billing", pages.billing, "admin"));
route("/w/:ws/settings", workspacePage("settings", pages.settings));
route("/w/:ws/profile", workspacePage("profile", pages.profile));
otherwise(() => navigate("/", { replace: true }));

document.querySelector(".skip-link").addEventListener("click", (event) => {
  event.preventDefault();
  const main = document.getElementById("main");
  if (main) main.focus();
});

window.addEventListener("hashchange", () => clearOldToasts());
startRouter().catch((error) => replace(document.getElementById("app"), errorState(error, () => location.reload())));
