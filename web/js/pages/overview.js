// Overview: the last 30 days at a glance, and the next step for a new workspace.

import { get } from "../api.js";
import { card, errorState, pageHeader } from "../components.js";
import { daysAgo, h, isoDay, replace } from "../dom.js";
import { dailyCharts, fillDays, summaryStats, usageQuery } from "./analytics.js";

function nextSteps(ctx, bots, providers) {
  const steps = [
    [providers.length > 0, "Connect an LLM provider", "providers"],
    [bots.length > 0, "Create a chatbot", bots.length ? "bots" : "bots/new"],
    [bots.some((b) => b.published), "Publish a bot and embed the widget", bots.length ? `bots/${bots[0].id}/widget` : "bots"],
  ];
  if (steps.every(([done]) => done) || !ctx.can("editor")) return null;
  return card("Get started", h("ol", { class: "steps" }, steps.map(([done, label, path]) =>
    h("li", {}, done ? h("s", { text: label }) : h("a", { href: `#${ctx.base}/${path}`, text: label }), done ? " ✓" : ""))));
}

export async function render(ctx) {
  const from = isoDay(daysAgo(29));
  const to = isoDay(new Date());
  // Each part stands alone: one failing request shows its own error, not a blank page.
  const [usage, bots, providers] = await Promise.allSettled([
    get(`/workspaces/${ctx.ws}/analytics/usage`, usageQuery(from, to, "day")),
    get(`/workspaces/${ctx.ws}/chatbots`),
    get(`/workspaces/${ctx.ws}/providers`),
  ]);
  const steps = bots.status === "fulfilled" && providers.status === "fulfilled" ? nextSteps(ctx, bots.value, providers.value) : null;
  const charts = usage.status === "fulfilled"
    ? [summaryStats(usage.value.totals), dailyCharts(fillDays(usage.value.groups, from, to))]
    : errorState(usage.reason, () => render(ctx));
  replace(ctx.main, pageHeader("Overview"), h("p", { class: "help", text: "The last 30 days." }), steps, charts);
}
