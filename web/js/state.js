// Who is logged in and in which workspace, shared by the shell and the pages.

import { get } from "./api.js";

// agent: works the inbox (answers visitors) but changes nothing else.
const ROLE_RANK = { viewer: 1, agent: 2, editor: 3, admin: 4 };
// A hint (not a secret: the session cookie is HttpOnly) that saves a 401 round trip for
// visitors who were never logged in on this browser.
const HINT_KEY = "modelpilot.session";

export const session = { user: null, workspaces: [], instance: null };

export function remember(body) {
  session.user = body.user;
  session.workspaces = body.workspaces || [];
  localStorage.setItem(HINT_KEY, "1");
}

export function forget() {
  session.user = null;
  session.workspaces = [];
  localStorage.removeItem(HINT_KEY);
}

export function mayBeLoggedIn() {
  return localStorage.getItem(HINT_KEY) === "1";
}

export async function loadMe() {
  remember(await get("/auth/me"));
  return session;
}

export function workspace(wsId) {
  return session.workspaces.find((w) => w.id === wsId) || null;
}

export function roleIn(wsId) {
  const ws = workspace(wsId);
  return ws ? ws.role : null;
}

// can(ws, "editor") → whether the user's role in ws is at least editor.
export function can(wsId, needed) {
  return (ROLE_RANK[roleIn(wsId)] || 0) >= ROLE_RANK[needed];
}

export function lastWorkspace() {
  const saved = localStorage.getItem("modelpilot.workspace");
  if (saved && workspace(saved)) return saved;
  return session.workspaces.length ? session.workspaces[0].id : null;
}

export function rememberWorkspace(wsId) {
  localStorage.setItem("modelpilot.workspace", wsId);
}
