// The workspace's live events (GET /workspaces/{ws}/events), one EventSource for the whole
// signed-in shell: it outlives page changes, so the inbox badge in the navigation and the
// "(3) Inbox · ModelPilot" tab title stay current on every page, and pages that care (the inbox,
// an open conversation) subscribe to it instead of opening streams of their own.

import { apiUrl, get } from "./api.js";
import { can } from "./state.js";

const listeners = new Set();
let source = null;
let sourceWs = null;
let retryTimer = null;
let retryDelay = 1000;
let waiting = 0;
let pageTitle = "";

// The waiting count as shown: the badge beside "Inbox" and the tab title.
function showCount() {
  for (const badge of document.querySelectorAll("[data-badge=inbox]")) {
    badge.textContent = waiting ? String(waiting) : "";
    badge.hidden = !waiting;
    badge.setAttribute("aria-label", `${waiting} waiting`);
  }
  document.title = (waiting && sourceWs ? `(${waiting}) ` : "") + (pageTitle ? `${pageTitle} · ModelPilot` : "ModelPilot");
}

export function setPageTitle(title) {
  pageTitle = title;
  showCount();
}

export function waitingCount() {
  return waiting;
}

function setCounts(counts) {
  if (!counts || typeof counts.waiting !== "number") return;
  waiting = counts.waiting;
  showCount();
}

// Counts from the inbox itself: on connecting and after every reconnect, since events sent while
// the stream was down may have changed them.
async function refreshCounts(wsId) {
  try {
    const page = await get(`/workspaces/${wsId}/inbox`, { status: "waiting", limit: 1 });
    if (sourceWs === wsId) setCounts(page.counts);
  } catch {
    // the badge keeps its last value; the next event or reconnect corrects it
  }
}

function open(wsId) {
  source = new EventSource(apiUrl(`/workspaces/${wsId}/events`), { withCredentials: true });
  source.addEventListener("open", () => {
    retryDelay = 1000;
    refreshCounts(wsId);
    for (const listener of listeners) listener({ type: "reconnected" });
  });
  source.addEventListener("message", (event) => {
    let data;
    try { data = JSON.parse(event.data); } catch { return; }
    if (data.counts) setCounts(data.counts);
    else if (data.type) refreshCounts(wsId);
    for (const listener of [...listeners]) {
      try { listener(data); } catch (error) { console.warn("ModelPilot: an inbox listener failed", error); }
    }
  });
  source.addEventListener("error", () => {
    // The browser retries by itself while the stream is CONNECTING; a refused request (the server
    // restarting, a 5xx) closes it for good, so we start a new one, a little later each time.
    if (!source || source.readyState !== EventSource.CLOSED) return;
    source = null;
    clearTimeout(retryTimer);
    retryTimer = setTimeout(() => { retryTimer = null; if (sourceWs === wsId && !source) open(wsId); }, retryDelay);
    retryDelay = Math.min(retryDelay * 2, 30000);
  });
}

// Called by the shell for the workspace on screen; members below agent have no inbox.
export function connectWorkspace(wsId) {
  if (!can(wsId, "agent")) { disconnect(); return; }
  if (sourceWs === wsId && (source || retryTimer)) { showCount(); return; }
  disconnect();
  sourceWs = wsId;
  open(wsId);
  refreshCounts(wsId);
}

export function disconnect() {
  clearTimeout(retryTimer);
  retryTimer = null;
  if (source) source.close();
  source = null;
  sourceWs = null;
  waiting = 0;
  showCount();
}

// listener(event) for every workspace event; returns the function that stops listening.
export function subscribe(listener) {
  listeners.add(listener);
  return () => listeners.delete(listener);
}
