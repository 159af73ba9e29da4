// The inbox: conversations that need a person. Waiting ones first (the longest wait on top, the
// wait ticking every second), then those assigned to me, then every other live one. It follows
// the workspace's event stream (live.js) and redraws from the server on each event, so what is
// shown is always what the server says, without a reload.

import { get } from "../api.js";
import { badge, emptyState, linkButton, pageHeader } from "../components.js";
import { formatDate, h, replace } from "../dom.js";
import { subscribe } from "../live.js";
import { session } from "../state.js";

// "1 min 05 s", "2 h 03 min": how long a visitor has been waiting.
export function formatWait(seconds) {
  const s = Math.max(0, Math.floor(seconds));
  if (s < 60) return `${s} s`;
  if (s < 3600) return `${Math.floor(s / 60)} min ${String(s % 60).padStart(2, "0")} s`;
  const hours = Math.floor(s / 3600);
  if (hours < 48) return `${hours} h ${String(Math.floor((s % 3600) / 60)).padStart(2, "0")} min`;
  return `${Math.floor(hours / 24)} days`;
}

// Waiting (oldest first), mine, then the other live ones (latest message first).
export function partition(items, myId) {
  const waiting = items.filter((c) => c.status === "waiting")
    .sort((a, b) => (b.wait_seconds || 0) - (a.wait_seconds || 0));
  const mine = items.filter((c) => c.status !== "waiting" && c.assignee && c.assignee.id === myId);
  const others = items.filter((c) => c.status !== "waiting" && !(c.assignee && c.assignee.id === myId))
    .sort((a, b) => String(b.last_message_at || "").localeCompare(String(a.last_message_at || "")));
  return { waiting, mine, others };
}

// One page, redrawn on every event: the server's largest, waiting ones first.
const LIMIT = 200;

const STATUS_LABEL = { waiting: "waiting", human: "with a person", bot: "with the bot", closed: "closed" };

export function statusBadge(c) {
  const kind = c.status === "waiting" ? "warn" : c.status === "human" ? "ok" : "";
  return badge(c.status === "human" && c.assignee ? `with ${c.assignee.name}` : STATUS_LABEL[c.status] || c.status, kind);
}

function row(ctx, c, loadedAt) {
  const waitEl = c.status === "waiting"
    ? h("span", { class: "wait", dataset: { since: String(loadedAt - (c.wait_seconds || 0) * 1000) }, text: `waiting ${formatWait(c.wait_seconds || 0)}` })
    : null;
  return h("li", { class: "inbox-item" + (c.status === "waiting" ? " waiting" : ""), dataset: { conversation: c.id } },
    h("div", { class: "inbox-main" },
      h("a", { class: "inbox-link", href: `#${ctx.base}/inbox/${c.id}`, text: c.last_message_preview || "(no message yet)" }),
      h("div", { class: "inbox-meta" },
        h("span", { text: c.chatbot_name || "(deleted bot)" }), waitEl || statusBadge(c),
        c.page_url ? h("span", { class: "muted inbox-page", title: c.page_url, text: c.page_url }) : null,
        c.contact && (c.contact.name || c.contact.email) ? h("span", { text: c.contact.name || c.contact.email }) : null)),
    h("div", { class: "inbox-when muted", text: formatDate(c.last_message_at) }));
}

function section(ctx, title, items, empty, loadedAt) {
  const id = "inbox-" + title.toLowerCase().replace(/\W+/g, "-");
  return h("section", { class: "card inbox-section", "aria-labelledby": id },
    h("h2", { id }, title, " ", h("span", { class: "count", text: `(${items.length})` })),
    items.length ? h("ul", { class: "inbox-list" }, items.map((c) => row(ctx, c, loadedAt))) : h("p", { class: "muted", text: empty }));
}

function tick(box) {
  for (const el of box.querySelectorAll(".wait[data-since]")) {
    el.textContent = `waiting ${formatWait((Date.now() - Number(el.dataset.since)) / 1000)}`;
  }
}

export async function render(ctx) {
  const box = h("div", { class: "stack inbox" });
  // Redraws are silent; a screen reader hears only that someone new is waiting.
  const announcer = h("p", { class: "visually-hidden", role: "status" });
  let seenWaiting = null;
  let items = [];
  let more = false;
  let loadedAt = Date.now();
  const draw = () => {
    const { waiting, mine, others } = partition(items, session.user && session.user.id);
    replace(box, items.length ? [
      section(ctx, "Waiting", waiting, "Nobody is waiting.", loadedAt),
      section(ctx, "Assigned to me", mine, "Nothing is assigned to you.", loadedAt),
      section(ctx, "All live", others, "No other live conversations.", loadedAt),
      more ? h("p", { class: "help", text: `Showing the first ${LIMIT}, waiting ones first; answer or close some to see the rest.` }) : null,
    ] : emptyState("Nobody needs a person right now", "Conversations appear here when a visitor asks for a person, and stay while they are live."));
  };
  let pending = null;
  const load = async () => {
    const page = await get(`/workspaces/${ctx.ws}/inbox`, { status: "all", limit: LIMIT });
    items = page.items || [];
    more = Boolean(page.next_cursor);
    loadedAt = Date.now();
    const waitingIds = items.filter((c) => c.status === "waiting").map((c) => c.id);
    const fresh = seenWaiting ? waitingIds.filter((id) => !seenWaiting.has(id)).length : 0;
    seenWaiting = new Set(waitingIds);
    if (fresh) announcer.textContent = fresh === 1 ? "A visitor is waiting for a person." : `${fresh} visitors are waiting for a person.`;
    draw();
  };
  // Bursts of events (a visitor typing fast) cause one reload, not one each.
  const reload = () => {
    if (pending) return;
    pending = setTimeout(async () => {
      pending = null;
      if (ctx.stale()) return;
      try { await load(); } catch { /* the next event or reconnect loads again */ }
    }, 150);
  };
  await load();
  if (ctx.stale()) return;
  replace(ctx.main, pageHeader("Inbox", linkButton("Saved replies", `#${ctx.base}/inbox/replies`)), announcer, box);
  const timer = setInterval(() => { if (ctx.stale() || !box.isConnected) stop(); else tick(box); }, 1000);
  const unsubscribe = subscribe(() => { if (ctx.stale() || !box.isConnected) stop(); else reload(); });
  function stop() { clearInterval(timer); unsubscribe(); clearTimeout(pending); }
}
