// A bot's widget: the embed snippet, who may embed it, how it looks, the lead form, verified
// visitors, and the real widget running in a preview frame that stands in for the customer's
// site. The lead form editor's unsaved draft is shown in that frame as it is typed: the page
// posts it to the frame (same origin), where the widget, started in preview mode, draws it.

import { get, patch } from "../api.js";
import { badge, card, copyButton, field, onSubmit, pageHeader, toast } from "../components.js";
import { h, replace } from "../dom.js";
import { botTabs } from "./bots.js";
import { lines } from "./bot_editor.js";
import { identityPanel } from "./bot_identity.js";
import { leadFormEditor, widgetShape } from "./bot_lead_form.js";

const PREVIEW_MESSAGE = "modelpilot:lead-form-preview";

export function embedSnippet(botId) {
  return `<script src="${location.origin}/widget.js" data-bot-id="${botId}" async></script>`;
}

function originsWarning(bot) {
  if ((bot.allowed_origins || []).length) return null;
  return h("div", { class: "callout warn", role: "note" },
    h("strong", { text: "Any website can embed this bot. " }),
    "Add the origins of your sites (e.g. https://www.example.com) so others cannot use your quota.");
}

function appearanceForm(ctx, bot, onSaved) {
  const ro = ctx.can("editor") ? {} : { disabled: true };
  const form = h("form", { class: "form", novalidate: true },
    field({ label: "Published", name: "published", type: "checkbox", value: bot.published, help: "Only published bots answer on websites.", attrs: ro }),
    field({ label: "Allowed origins", name: "allowed_origins", type: "textarea", value: (bot.allowed_origins || []).join("\n"),
      help: "One origin per line, like https://www.example.com. Empty: any site.", attrs: { rows: 3, ...ro } }),
    h("div", { class: "form-row" },
      field({ label: "Accent colour", name: "accent_color", type: "color", value: bot.accent_color, attrs: ro }),
      field({ label: "Position", name: "position", type: "select", value: bot.position,
        options: [["bottom-right", "Bottom right"], ["bottom-left", "Bottom left"]], attrs: ro })),
    field({ label: "Greeting", name: "greeting", value: bot.greeting, attrs: ro }),
    field({ label: "Starter questions", name: "starter_questions", type: "textarea", value: (bot.starter_questions || []).join("\n"),
      help: "One per line, shown as chips.", attrs: { rows: 3, ...ro } }),
    ctx.can("editor") ? h("div", { class: "actions" }, h("button", { class: "btn btn-primary", type: "submit" }, "Save widget")) : null);
  onSubmit(form, async (values) => {
    const body = { ...values, allowed_origins: lines(values.allowed_origins), starter_questions: lines(values.starter_questions) };
    Object.assign(bot, await patch(`/workspaces/${ctx.ws}/chatbots/${bot.id}`, body));
    toast("Widget saved.");
    onSaved();
  }, { guard: true });
  return form;
}

function previewFrame(bot) {
  if (!bot.published) {
    return h("p", { class: "help", text: "Publish the bot to see the real widget here. Until then, try answers in the bot's Settings & preview tab." });
  }
  const origins = (bot.allowed_origins || []).map((o) => o.replace(/\/$/, ""));
  if (origins.length && !origins.includes(location.origin)) {
    return h("p", { class: "help", text: `The widget only runs on ${origins.join(", ")}; add ${location.origin} to preview it here.` });
  }
  return h("iframe", { class: "widget-stage", title: `Live widget of ${bot.name}`, src: `/widget-preview.html#bot=${encodeURIComponent(bot.id)}&mode=inline&preview=1`, width: "100%", height: "560" });
}

// Sends the editor's draft to whichever preview frame is on the page now; the widget in it asks
// for the draft when it starts (modelpilot:preview-ready), so a reloaded frame catches up.
function previewLink(preview, currentDraft) {
  const frame = () => preview.querySelector("iframe.widget-stage");
  const send = () => {
    const target = frame();
    if (!target || !target.contentWindow) return;
    const draft = currentDraft();
    target.contentWindow.postMessage({ type: PREVIEW_MESSAGE, leadForm: draft.fields.length ? widgetShape(draft) : null }, location.origin);
  };
  const onMessage = (event) => {
    if (!preview.isConnected) { window.removeEventListener("message", onMessage); return; }
    const target = frame();
    if (event.origin === location.origin && target && event.source === target.contentWindow && event.data && event.data.type === "modelpilot:preview-ready") send();
  };
  window.addEventListener("message", onMessage);
  return send;
}

export async function render(ctx) {
  const bot = await get(`/workspaces/${ctx.ws}/chatbots/${ctx.params.bot}`);
  const snippet = h("pre", { class: "snippet", "data-testid": "embed-snippet" }, h("code", { text: embedSnippet(bot.id) }));
  const warning = h("div", {}, originsWarning(bot));
  const preview = h("div", {}, previewFrame(bot));
  const status = h("span", {}, bot.published ? badge("published") : badge("draft"));
  const refresh = () => {
    replace(warning, originsWarning(bot));
    replace(preview, previewFrame(bot));
    replace(status, bot.published ? badge("published") : badge("draft"));
  };
  let sendDraft = () => {};
  const lead = leadFormEditor(ctx, bot, ctx.can("editor"), () => sendDraft());
  sendDraft = previewLink(preview, lead.draft);
  replace(ctx.main, pageHeader(bot.name, status), botTabs(ctx, bot, "widget"),
    h("div", { class: "grid-2" },
      h("div", { class: "stack" },
        card("Embed on your site", h("p", { text: "Paste this before </body> on every page that should show the chat:" }), snippet,
          h("div", { class: "actions" }, copyButton(() => embedSnippet(bot.id), "Copy snippet")), warning),
        card("Appearance and access", appearanceForm(ctx, bot, refresh)),
        card("Lead form", lead.form),
        card("Verified visitors", identityPanel(ctx, bot, ctx.can("editor")))),
      h("div", { class: "preview-column" }, card("Live preview", preview,
        h("p", { class: "help", text: "The lead form shows here as you edit it, saved or not; sending it in the preview stores nothing." })))));
}
