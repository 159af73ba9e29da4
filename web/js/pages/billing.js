// Billing: plan, usage against the quota this period, upgrade via Stripe Checkout and the
// Stripe customer portal. Hidden from the navigation when billing is off.

import { get, post } from "../api.js";
import { badge, button, card, emptyState, pageHeader, table, toastError } from "../components.js";
import { formatDay, formatNumber, h, replace } from "../dom.js";

async function goTo(path, body) {
  try {
    const { url } = await post(path, body);
    window.location.assign(url);
  } catch (error) { toastError(error); }
}

function usageCard(status) {
  const quota = status.quota;
  const used = status.used || 0;
  const kind = status.over_quota ? "error" : status.warning ? "warn" : "ok";
  return card("This period",
    h("p", {}, h("strong", { text: formatNumber(used) }), quota ? ` of ${formatNumber(quota)} messages` : " messages (no limit)",
      ` · ${formatDay(status.period_start)} – ${formatDay(status.period_end)}`),
    quota ? h("progress", { max: quota, value: Math.min(used, quota), "aria-label": "Messages used this period" }) : null,
    status.over_quota ? h("div", { class: "callout danger", text: "The quota is used up: bots answer again next period or after an upgrade." })
      : status.warning ? h("div", { class: "callout warn", text: "Over 80 % of this period's messages are used." }) : null,
    h("p", {}, "Status: ", badge(status.over_quota ? "over quota" : status.warning ? "near quota" : "ok", kind)));
}

function resourcesTable(resources) {
  const rows = Object.entries(resources || {}).map(([name, r]) => ({ name, ...r }));
  return table([
    { label: "Resource", render: (r) => r.name.replace(/_/g, " ") },
    { label: "Used", num: true, render: (r) => formatNumber(r.used) },
    { label: "Limit", num: true, render: (r) => (r.limit == null ? "unlimited" : formatNumber(r.limit)) },
  ], rows, { empty: "No limits.", caption: "Resources" });
}

function plansTable(ctx, status) {
  const current = status.plan && status.plan.id;
  return table([
    { label: "Plan", render: (p) => h("strong", { text: p.name }) },
    { label: "Messages / month", num: true, render: (p) => (p.monthly_messages == null ? "unlimited" : formatNumber(p.monthly_messages)) },
    { label: "", render: (p) => (p.id === current ? badge("current", "ok")
      : p.purchasable ? button(`Upgrade to ${p.name}`, () => goTo(`/workspaces/${ctx.ws}/billing/checkout`, { plan: p.id }), { kind: "primary", small: true }) : "") },
  ], status.plans || [], { empty: "No plans are configured.", caption: "Plans" });
}

export async function render(ctx) {
  const status = await get(`/workspaces/${ctx.ws}/billing`);
  if (!status.enabled) {
    replace(ctx.main, pageHeader("Billing"), emptyState("Billing is off", status.message || "This instance does not bill workspaces."));
    return;
  }
  const stripe = status.stripe || {};
  const manage = stripe.customer ? button("Manage subscription", () => goTo(`/workspaces/${ctx.ws}/billing/portal`, {})) : null;
  replace(ctx.main, pageHeader("Billing", manage),
    h("p", {}, "Plan: ", h("strong", { text: status.plan ? status.plan.name : "none" }),
      stripe.status ? [" · subscription ", badge(stripe.status)] : null,
      stripe.payment_failed ? [" ", badge("payment failed", "error")] : null),
    h("div", { class: "grid-2" }, usageCard(status), card("Limits", resourcesTable(status.resources))),
    h("div", { class: "stack" }, card("Plans", plansTable(ctx, status))));
}
