// Outbound webhooks: endpoints (the signing secret is shown once), their events, a test send,
// the delivery log with each attempt, redelivery, and the notice of an endpoint the server
// disabled after days of failures.

import { del, get, patch, post } from "../api.js";
import { badge, button, card, confirmDialog, copyButton, field, onSubmit, pageHeader, table, toast, toastError } from "../components.js";
import { formatDate, formatMs, h, replace } from "../dom.js";

const EVENT_HELP = {
  "lead.created": "a visitor left their details",
  "conversation.started": "a visitor's first message",
  "conversation.handoff_requested": "a visitor asked for a person",
  "conversation.assigned": "an operator took a conversation",
  "conversation.closed": "a conversation was closed",
  "message.feedback": "a visitor rated an answer",
  "question.unanswered": "the bot could not answer",
  "document.indexed": "knowledge finished indexing",
  "document.failed": "knowledge could not be indexed",
};

export async function render(ctx) {
  const first = await get(`/workspaces/${ctx.ws}/webhooks`);
  const types = first.event_types;
  const secretBox = h("div", { "aria-live": "polite" });
  const listBox = h("div");
  const detailBox = h("div");
  const state = { ctx, types, listBox, detailBox };
  state.refresh = async () => replace(listBox, endpointsList(state, (await get(`/workspaces/${ctx.ws}/webhooks`)).items));
  const form = h("form", { class: "form", novalidate: true, "aria-label": "New webhook" },
    field({ label: "Endpoint URL", name: "url", type: "url", required: true, help: "Where events are POSTed, e.g. https://hooks.zapier.com/… or your own server." }),
    field({ label: "Description", name: "description", help: "Optional: what listens here." }),
    eventChecks(types, ["conversation.started"]),
    h("div", { class: "actions" }, h("button", { class: "btn btn-primary", type: "submit" }, "Create webhook")), secretBox);
  onSubmit(form, async (values) => {
    const created = await post(`/workspaces/${ctx.ws}/webhooks`, { url: values.url, description: values.description, events: checkedEvents(form) });
    replace(secretBox, h("div", { class: "callout warn", role: "alert" },
      h("p", { text: "Copy this signing secret now: it is shown only once. Receivers verify every delivery with it." }),
      h("div", { class: "secret" }, h("code", { class: "webhook-secret", text: created.secret }), copyButton(created.secret))));
    form.querySelector("input[name=url]").value = "";
    form.querySelector("input[name=description]").value = "";
    toast("Webhook created.");
    await state.refresh();
  });
  replace(listBox, endpointsList(state, first.items));
  replace(ctx.main, pageHeader("Webhooks"),
    h("p", {}, "Tell other systems what happens here. Each event is POSTed as JSON and signed the ",
      h("a", { href: "https://www.standardwebhooks.com/", rel: "noopener", text: "Standard Webhooks" }),
      " way (webhook-id, webhook-timestamp, webhook-signature). Failed deliveries are retried for more than a day."),
    h("div", { class: "stack" }, card("New webhook", form), card("Endpoints", listBox), detailBox));
}

function eventChecks(types, selected) {
  const boxes = types.map((type) => {
    const id = "ev-" + type.replace(/\W/g, "-") + "-" + Math.random().toString(36).slice(2, 7);
    return h("div", { class: "field check" },
      h("input", { type: "checkbox", id, class: "event-check", value: type, checked: selected.includes(type) }),
      h("label", { for: id }, h("code", { text: type }), " — " + (EVENT_HELP[type] || "")));
  });
  const errorId = "events-error-" + Math.random().toString(36).slice(2, 7);
  return h("div", { class: "field", dataset: { field: "events" } },
    h("fieldset", { "aria-describedby": errorId }, h("legend", { text: "Events" }), ...boxes),
    h("div", { class: "error", id: errorId, hidden: true }));
}

function checkedEvents(form) {
  return [...form.querySelectorAll("input.event-check:checked")].map((el) => el.value);
}

function endpointsList(state, items) {
  const { ctx } = state;
  const notices = items.filter((e) => e.disabled_reason).map((e) => h("div", { class: "callout danger webhook-disabled", role: "alert" },
    h("p", {}, h("strong", { text: "Webhook disabled: " }), h("code", { text: e.url })), h("p", { text: e.disabled_reason }),
    h("div", { class: "actions" }, button("Enable again", () => setEnabled(state, e, true), { small: true }))));
  const test = async (endpoint) => {
    try {
      await post(`/workspaces/${ctx.ws}/webhooks/${endpoint.id}/test`);
      toast("Test event queued: see the delivery log.");
      await showDeliveries(state, endpoint);
    } catch (error) { toastError(error); }
  };
  const remove = async (endpoint) => {
    if (!(await confirmDialog({ title: "Delete webhook?", message: `Events stop going to ${endpoint.url}, and its delivery log is deleted.` }))) return;
    try { await del(`/workspaces/${ctx.ws}/webhooks/${endpoint.id}`); replace(state.detailBox); toast("Webhook deleted."); await state.refresh(); } catch (error) { toastError(error); }
  };
  const rows = table([
    { label: "URL", render: (e) => h("span", {}, h("code", { text: e.url }), e.description ? h("div", { class: "help", text: e.description }) : null) },
    { label: "Events", render: (e) => h("span", {}, e.events.map((t) => h("code", { class: "event-name", text: t + " " }))) },
    { label: "Status", render: (e) => (e.enabled ? badge("enabled", "ok") : badge("disabled", "danger")) },
    { label: "Created", render: (e) => formatDate(e.created_at) },
    { label: "", render: (e) => h("div", { class: "actions" },
      button("Deliveries", () => showDeliveries(state, e), { small: true, attrs: { "aria-label": `Deliveries to ${e.url}` } }),
      button("Send test", () => test(e), { small: true, attrs: { "aria-label": `Send a test event to ${e.url}` } }),
      button("Edit", () => showEditor(state, e), { small: true, attrs: { "aria-label": `Edit ${e.url}` } }),
      button("Delete", () => remove(e), { kind: "danger", small: true, attrs: { "aria-label": `Delete ${e.url}` } })) },
  ], items, { empty: "No webhooks yet.", caption: "Webhook endpoints" });
  return h("div", { class: "stack" }, ...notices, rows);
}

async function setEnabled(state, endpoint, enabled) {
  try {
    await patch(`/workspaces/${state.ctx.ws}/webhooks/${endpoint.id}`, { enabled });
    toast(enabled ? "Webhook enabled." : "Webhook disabled.");
    await state.refresh();
  } catch (error) { toastError(error); }
}

function showEditor(state, endpoint) {
  const { ctx } = state;
  const form = h("form", { class: "form", novalidate: true, "aria-label": "Edit webhook" },
    field({ label: "Endpoint URL", name: "url", type: "url", value: endpoint.url, required: true }),
    field({ label: "Description", name: "description", value: endpoint.description }),
    eventChecks(state.types, endpoint.events),
    field({ label: "Enabled", name: "enabled", type: "checkbox", value: endpoint.enabled, help: "Disabled endpoints get no events (a test still goes out)." }),
    h("div", { class: "actions" }, h("button", { class: "btn btn-primary", type: "submit" }, "Save changes"),
      button("Cancel", () => replace(state.detailBox))));
  onSubmit(form, async (values) => {
    await patch(`/workspaces/${ctx.ws}/webhooks/${endpoint.id}`, { url: values.url, description: values.description,
      enabled: values.enabled, events: checkedEvents(form) });
    toast("Webhook saved.");
    replace(state.detailBox);
    await state.refresh();
  }, { guard: true });
  replace(state.detailBox, card("Edit webhook", form));
  form.querySelector("input[name=url]").focus();
}

async function showDeliveries(state, endpoint) {
  const { ctx } = state;
  const body = h("div", { "aria-live": "polite" });
  const load = async () => {
    const page = await get(`/workspaces/${ctx.ws}/webhooks/${endpoint.id}/deliveries`, { limit: 50 });
    replace(body, deliveriesTable(ctx, endpoint, page.items, load));
  };
  replace(state.detailBox, card(`Deliveries to ${endpoint.url}`,
    h("div", { class: "actions" }, button("Refresh", () => load().catch(toastError), { small: true })), body));
  await load();
}

function statusBadge(d) {
  if (d.status === "succeeded") return badge("delivered", "ok");
  if (d.status === "failed") return badge("failed", "danger");
  return badge(d.attempts ? "retrying" : "pending", "warn");
}

function deliveriesTable(ctx, endpoint, items, reload) {
  const redeliver = async (d) => {
    try { await post(`/workspaces/${ctx.ws}/webhooks/${endpoint.id}/deliveries/${d.id}/redeliver`); toast("Queued to send again."); await reload(); } catch (error) { toastError(error); }
  };
  return table([
    { label: "Event", render: (d) => h("code", { text: d.event_type }) },
    { label: "Status", render: statusBadge },
    { label: "Response", render: (d) => (d.response_code ? String(d.response_code) : d.last_error ? "no answer" : "—") },
    { label: "Excerpt", render: (d) => h("code", { class: "response-excerpt", text: (d.response_excerpt || d.last_error || "").slice(0, 300) }) },
    { label: "Duration", render: (d) => (d.duration_ms == null ? "—" : formatMs(d.duration_ms)) },
    { label: "Attempts", render: (d) => h("ol", { class: "attempts" }, d.attempt_log.map((a) =>
      h("li", { text: `${formatDate(a.attempted_at)} — ${a.response_code ? "HTTP " + a.response_code : a.error || "no answer"}` }))) },
    { label: "Next retry", render: (d) => (d.next_attempt_at && d.status === "pending" ? formatDate(d.next_attempt_at) : "—") },
    { label: "", render: (d) => button("Redeliver", () => redeliver(d), { small: true, attrs: { "aria-label": `Redeliver ${d.event_type} from ${formatDate(d.created_at)}` } }) },
  ], items, { empty: "Nothing sent yet. Send a test event to try the endpoint.", caption: "Deliveries" });
}
