// A small hash router: "#/w/:ws/bots/:bot?tab=x" → the handler with {ws, bot} and the query.
// Hash routing keeps the server simple (one index.html) and matches invitation links,
// which the API builds as <base>/#/invite/<token>.

const routes = [];
let notFound = () => {};
let current = null;
// Unsaved edits: each guard says whether its form differs from what was saved. They belong to the
// page drawn last and go when another page is drawn.
const leaveGuards = new Set();
let confirmLeave = async () => window.confirm("Leave this page? Your changes are not saved.");
let shownHash = location.hash;

export function guardLeaving(isDirty) {
  leaveGuards.add(isDirty);
}

export function onLeaveConfirm(ask) {
  confirmLeave = ask;
}

export function hasUnsavedEdits() {
  return [...leaveGuards].some((isDirty) => isDirty());
}

export function route(pattern, handler) {
  const names = [];
  const source = pattern.replace(/:(\w+)/g, (_, name) => { names.push(name); return "([^/]+)"; });
  routes.push({ regex: new RegExp("^" + source + "$"), names, handler });
}

export function otherwise(handler) {
  notFound = handler;
}

export function currentPath() {
  const hash = location.hash.replace(/^#/, "");
  return hash.startsWith("/") ? hash : "/";
}

export function parse(path) {
  const [pathname, search = ""] = path.split("?");
  return { pathname, query: Object.fromEntries(new URLSearchParams(search)) };
}

export function navigate(path, { replace = false } = {}) {
  const target = "#" + path;
  if (location.hash === target) return resolve();
  if (replace) { history.replaceState(null, "", target); return resolve(); }
  location.hash = target;
  return undefined;
}

// Changes the query part of the current route without re-rendering (filters, tabs).
export function setQuery(query) {
  const { pathname } = parse(currentPath());
  const qs = new URLSearchParams(Object.entries(query).filter(([, v]) => v !== "" && v != null)).toString();
  history.replaceState(null, "", "#" + pathname + (qs ? "?" + qs : ""));
  shownHash = location.hash;
}

export async function resolve() {
  const { pathname, query } = parse(currentPath());
  leaveGuards.clear();
  shownHash = location.hash;
  const token = {};
  current = token;
  for (const { regex, names, handler } of routes) {
    const match = regex.exec(pathname);
    if (!match) continue;
    const params = Object.fromEntries(names.map((name, i) => [name, decodeURIComponent(match[i + 1])]));
    return handler(params, query, () => current !== token);
  }
  return notFound(pathname);
}

// The address already changed when hashchange fires: with unsaved edits, put the old one back
// while asking, and go on only if the user agrees.
async function leaveIfAllowed() {
  if (!hasUnsavedEdits()) return true;
  const target = location.hash;
  history.replaceState(null, "", shownHash || "#/");
  if (!(await confirmLeave())) return false;
  history.replaceState(null, "", target);
  return true;
}

export function startRouter() {
  window.addEventListener("hashchange", async () => {
    if (!(location.hash.startsWith("#/") || location.hash === "")) return;
    if (await leaveIfAllowed()) resolve();
  });
  // Closing or reloading the tab: browsers show their own question; the text is theirs.
  window.addEventListener("beforeunload", (event) => {
    if (!hasUnsavedEdits()) return;
    event.preventDefault();
    event.returnValue = "";
  });
  return resolve();
}
