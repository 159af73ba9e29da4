// A small hash router: "#/w/:ws/bots/:bot?tab=x" → the handler with {ws, bot} and the query.
// Hash routing keeps the server simple (one index.html) and matches invitation links,
// which the API builds as <base>/#/invite/<token>.

const routes = [];
let notFound = () => {};
let current = null;

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
}

export async function resolve() {
  const { pathname, query } = parse(currentPath());
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

export function startRouter() {
  window.addEventListener("hashchange", () => {
    if (location.hash.startsWith("#/") || location.hash === "") resolve();
  });
  return resolve();
}
