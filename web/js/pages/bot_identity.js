// Verified visitors: the bot's identity secret (shown once when generated or rotated, never
// again), turning verification off, whether the visitor's claims reach the prompt, and the
// server-side code that signs a logged-in customer's token. The snippets name the bot and read
// the secret from the environment: the secret itself never goes into them.

import { del, patch, post } from "../api.js";
import { button, confirmDialog, copyButton, field, onSubmit, toast, toastError } from "../components.js";
import { formatDate, h, replace } from "../dom.js";

export function pythonSnippet(bot) {
  return `# pip install PyJWT
import os
import time

import jwt  # PyJWT

# The identity secret of the chatbot "${bot.name}" (${bot.id}), kept in your server's environment.
MODELPILOT_IDENTITY_SECRET = os.environ["MODELPILOT_IDENTITY_SECRET"]


def modelpilot_identity(user) -> str:
    """A token for the widget: who the logged-in customer is, valid for one hour."""
    now = int(time.time())
    claims = {"sub": str(user.id), "email": user.email, "name": user.name, "iat": now, "exp": now + 3600}
    return jwt.encode(claims, MODELPILOT_IDENTITY_SECRET, algorithm="HS256")
`;
}

export function nodeSnippet(bot) {
  return `// npm install jsonwebtoken
const jwt = require("jsonwebtoken");

// The identity secret of the chatbot "${bot.name}" (${bot.id}), kept in your server's environment.
const MODELPILOT_IDENTITY_SECRET = process.env.MODELPILOT_IDENTITY_SECRET;

// A token for the widget: who the logged-in customer is, valid for one hour.
function modelpilotIdentity(user) {
  return jwt.sign({ sub: String(user.id), email: user.email, name: user.name },
    MODELPILOT_IDENTITY_SECRET, { algorithm: "HS256", expiresIn: "1h" });
}
`;
}

export function pageSnippet(bot) {
  return `<!-- On pages for logged-in customers: the token your server signed, then the widget -->
<script>window.ModelPilotConfig = { identity: "{{ token from modelpilot_identity(user) }}" };</script>
<script src="${location.origin}/widget.js" data-bot-id="${bot.id}" async></script>`;
}

function snippet(title, text, testid, copyLabel) {
  return h("div", { class: "stack" }, h("h3", { text: title }),
    h("pre", { class: "snippet", "data-testid": testid }, h("code", { text })),
    h("div", { class: "actions" }, copyButton(text, copyLabel)));
}

function statusLine(bot) {
  const identity = bot.identity || {};
  return identity.configured
    ? h("p", { class: "identity-status" }, h("strong", { text: "On. " }), `Secret created ${formatDate(identity.created_at)}. Tokens signed with it are accepted; any other token is refused.`)
    : h("p", { class: "identity-status" }, h("strong", { text: "Off. " }), "Visitors are anonymous; a page that sends a token gets an error.");
}

export function identityPanel(ctx, bot, canEdit) {
  const status = h("div", { "aria-live": "polite" });
  const secretBox = h("div", { "aria-live": "polite" });
  const actions = h("div", { class: "actions" });
  const draw = () => {
    replace(status, statusLine(bot));
    const on = Boolean(bot.identity && bot.identity.configured);
    replace(actions, canEdit ? [
      button(on ? "Rotate secret" : "Generate secret", () => generate(on), { kind: on ? "" : "primary" }),
      on ? button("Turn off", turnOff, { kind: "danger" }) : null] : null);
  };
  async function generate(rotating) {
    if (rotating && !(await confirmDialog({ title: "Rotate the identity secret?", confirmLabel: "Rotate secret", danger: true,
      message: "Tokens signed with the current secret stop working at once. Put the new secret on your server right after." }))) return;
    try {
      const created = await post(`/workspaces/${ctx.ws}/chatbots/${bot.id}/identity-secret`, {});
      bot.identity = { configured: true, created_at: created.created_at };
      replace(secretBox, h("div", { class: "callout warn", role: "alert" },
        h("p", { text: "Copy this identity secret now: it is shown only once. Store it on your server as MODELPILOT_IDENTITY_SECRET; never put it in a web page." }),
        h("div", { class: "secret" }, h("code", { class: "identity-secret", text: created.secret }), copyButton(created.secret, "Copy secret"))));
      toast(rotating ? "New identity secret created; the old one no longer works." : "Identity secret created: verified visitors are on.");
      draw();
    } catch (error) { toastError(error); }
  }
  async function turnOff() {
    if (!(await confirmDialog({ title: "Turn off verified visitors?", confirmLabel: "Turn off", danger: true,
      message: "The secret is deleted. Pages that still send ModelPilotConfig.identity get an error until the token is removed from them." }))) return;
    try {
      await del(`/workspaces/${ctx.ws}/chatbots/${bot.id}/identity-secret`);
      bot.identity = { configured: false, created_at: null };
      replace(secretBox);
      toast("Verified visitors are off.");
      draw();
      actions.querySelector("button")?.focus();
    } catch (error) { toastError(error); }
  }
  const contextForm = h("form", { class: "form", novalidate: true, "aria-label": "Visitor context" },
    field({ label: "Give the model the visitor's details", name: "visitor_context", type: "checkbox", value: Boolean(bot.visitor_context),
      attrs: canEdit ? {} : { disabled: true },
      help: "The verified visitor's claims (name, email and whatever else you sign) go into the prompt, clearly marked as visitor context, so answers can use them. Off: the model never sees them." }),
    canEdit ? h("div", { class: "actions" }, h("button", { class: "btn", type: "submit" }, "Save")) : null);
  if (canEdit) {
    onSubmit(contextForm, async (values) => {
      const saved = await patch(`/workspaces/${ctx.ws}/chatbots/${bot.id}`, { visitor_context: values.visitor_context });
      bot.visitor_context = saved ? saved.visitor_context : values.visitor_context;
      toast(bot.visitor_context ? "The model now sees verified visitors' details." : "The model no longer sees visitors' details.");
    }, { guard: true });
  }
  draw();
  return h("div", { class: "stack identity-panel" },
    h("p", { text: "Your site's server signs a short-lived token (a JWT, HS256) for a logged-in customer; the widget sends it along. The customer's history then follows them across devices, the lead form is skipped, and an invalid or expired token is refused." }),
    status, actions, secretBox, contextForm,
    snippet("On your server (Python, PyJWT)", pythonSnippet(bot), "identity-python", "Copy Python code"),
    snippet("On your server (Node, jsonwebtoken)", nodeSnippet(bot), "identity-node", "Copy Node code"),
    snippet("On the page", pageSnippet(bot), "identity-page", "Copy page snippet"));
}
