// The signed-in shell: top bar (brand, workspace switcher, theme, user, log out), side
// navigation and the <main> region pages render into.

import { get, post } from "./api.js";
import { h, replace } from "./dom.js";
import { navigate } from "./router.js";
import { can, forget, rememberWorkspace, session } from "./state.js";
import { toastError } from "./components.js";
import { connectWorkspace, disconnect, waitingCount } from "./live.js";

const NAV = [
  { id: "overview", label: "Overview", role: "viewer" },
  { id: "bots", label: "Chatbots", role: "viewer" },
  { id: "inbox", label: "Inbox", role: "agent", badge: "inbox" },
  { id: "conversations", label: "Conversations", role: "viewer" },
  { id: "contacts", label: "Contacts", role: "viewer" },
  { id: "analytics", label: "Analytics", role: "viewer" },
  { id: "insights", label: "Insights", role: "viewer" },
  { id: "providers", label: "Providers", role: "viewer" },
  { id: "team", label: "Team", role: "viewer" },
  { id: "tokens", label: "API tokens", role: "admin" },
  { id: "webhooks", label: "Webhooks", role: "admin" },
  { id: "mcp-servers", label: "MCP servers", role: "viewer" },
  { id: "billing", label: "Billing", role: "admin", optional: "billing" },
  { id: "settings", label: "Settings", role: "viewer" },
  { id: "profile", label: "Your profile", role: "viewer" },
];

// Features the server may not offer (billing switched off), per workspace: hidden from the
// navigation until the server says they are on.
export const features = { billing: {} };

async function checkBilling(wsId, nav, active) {
  if (!can(wsId, "admin") || wsId in features.billing) return;
  try {
    const status = await get(`/workspaces/${wsId}/billing`);
    features.billing[wsId] = Boolean(status && status.enabled);
  } catch {
    features.billing[wsId] = false;
  }
  if (features.billing[wsId] && nav.isConnected) replace(nav, navList(wsId, active));
}

let shell = null;

export function themeToggle() {
  const labels = { auto: "Theme: system", light: "Theme: light", dark: "Theme: dark" };
  const current = () => localStorage.getItem("modelpilot.theme") || "auto";
  const btn = h("button", { class: "btn btn-small", type: "button", "aria-label": "Change colour theme" }, labels[current()]);
  btn.addEventListener("click", () => {
    const next = { auto: "light", light: "dark", dark: "auto" }[current()];
    localStorage.setItem("modelpilot.theme", next);
    applyTheme();
    btn.textContent = labels[next];
  });
  return btn;
}

export function applyTheme() {
  const theme = localStorage.getItem("modelpilot.theme") || "auto";
  if (theme === "auto") document.documentElement.removeAttribute("data-theme");
  else document.documentElement.dataset.theme = theme;
}

async function logout() {
  try { await post("/auth/logout"); } catch (error) { toastError(error); }
  forget();
  disconnect();
  shell = null;
  navigate("/login");
}

function workspaceSwitcher(wsId) {
  const select = h("select", { "aria-label": "Workspace", id: "workspace-switcher" },
    session.workspaces.map((w) => h("option", { value: w.id, selected: w.id === wsId }, `${w.name} (${w.role})`)),
    h("option", { value: "__new" }, "+ New workspace…"));
  select.addEventListener("change", () => {
    if (select.value === "__new") { navigate("/workspaces/new"); return; }
    rememberWorkspace(select.value);
    navigate(`/w/${select.value}/overview`);
  });
  return select;
}

function navList(wsId, active) {
  return h("ul", {}, NAV.filter((item) => can(wsId, item.role) && (!item.optional || features[item.optional][wsId])).map((item) =>
    h("li", {}, h("a", { href: `#/w/${wsId}/${item.id}`, "aria-current": item.id === active ? "page" : null }, item.label,
      item.badge ? navBadge(item.badge) : null))));
}

// Filled in by live.js as events arrive; drawn with the count known now so a redraw never flickers.
function navBadge(name) {
  const count = waitingCount();
  return h("span", { class: "nav-badge", dataset: { badge: name }, hidden: !count, "aria-label": `${count} waiting`, text: count ? String(count) : "" });
}

// Renders (or reuses) the shell for workspace wsId with `active` highlighted; returns <main>.
export function renderShell(wsId, active) {
  const app = document.getElementById("app");
  const nav = h("nav", { class: "sidenav", id: "sidenav", "aria-label": "Main" }, navList(wsId, active));
  // On a phone the navigation hides behind Menu: the waiting count shows on the button too.
  const toggle = h("button", { class: "btn btn-small nav-toggle", type: "button", "aria-expanded": "false", "aria-controls": "sidenav" }, "Menu",
    can(wsId, "agent") ? navBadge("inbox") : null);
  toggle.addEventListener("click", () => {
    const open = nav.classList.toggle("open");
    toggle.setAttribute("aria-expanded", String(open));
  });
  nav.addEventListener("click", (e) => { if (e.target.closest("a")) { nav.classList.remove("open"); toggle.setAttribute("aria-expanded", "false"); } });
  const main = h("main", { id: "main", tabindex: "-1" });
  const header = h("header", { class: "topbar" }, toggle,
    h("a", { class: "brand", href: `#/w/${wsId}/overview` }, h("img", { src: "/img/favicon.svg", alt: "" }), "ModelPilot"),
    h("span", { class: "spacer" }), workspaceSwitcher(wsId), themeToggle(),
    h("a", { class: "user-name", href: `#/w/${wsId}/profile`, title: "Your profile", text: session.user ? session.user.name || session.user.email : "" }),
    h("button", { class: "btn btn-small", type: "button", on: { click: logout } }, "Log out"));
  shell = h("div", { class: "shell" }, header, nav, main);
  replace(app, shell);
  app.removeAttribute("aria-busy");
  checkBilling(wsId, nav, active);
  connectWorkspace(wsId);
  return main;
}

// Pages without the shell (login, setup, invitation).
export function renderBare(...children) {
  shell = null;
  disconnect();
  const app = document.getElementById("app");
  replace(app, h("div", { class: "auth-wrap" }, h("main", { id: "main", tabindex: "-1", class: "card auth-card" },
    h("div", { class: "brand" }, h("img", { src: "/img/favicon.svg", alt: "" }), "ModelPilot"), ...children)));
  app.removeAttribute("aria-busy");
  return app.querySelector("main");
}
