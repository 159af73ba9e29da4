// One HTTP action of a bot: the form (create and edit) and the Test panel. Every input is named
// as the API names its field, so a 400 lands under the field it is about.

import { post } from "../api.js";
import { badge, button, card, field, onSubmit, showFieldErrors } from "../components.js";
import { formatMs, h, replace } from "../dom.js";
import { headersEditor } from "./headers_editor.js";
import { sampleArguments, schemaEditor } from "./schema_editor.js";

const METHODS = ["GET", "POST", "PUT", "PATCH", "DELETE"];
export const NEW_ACTION = { name: "", label: "", description: "", parameters: { type: "object", properties: {}, required: [] }, method: "GET",
  url: "", headers: [], body: null, timeout_s: 10, max_response_bytes: 32 * 1024, confirm: false, verified_only: false, enabled: true };

function parseBody(text) {
  const value = String(text || "").trim();
  if (!value) return { body: null };
  try {
    return { body: JSON.parse(value) };
  } catch (error) {
    return { error: `The body template is not valid JSON: ${error.message}` };
  }
}

function actionFields(action, ro) {
  return [
    h("div", { class: "form-row" },
      field({ label: "Name", name: "name", value: action.name, required: true,
        help: "What the model calls it: letters, digits, _ and -, like lookup_order.", attrs: { maxlength: 64, autocomplete: "off", ...ro } }),
      field({ label: "Status label", name: "label", value: action.label,
        help: "Shown to the visitor while it runs, like “Checking your order…”.", attrs: { maxlength: 80, ...ro } })),
    field({ label: "Description", name: "description", type: "textarea", value: action.description, required: true,
      help: "What the model reads to decide when to use it: what it does and when.", attrs: { rows: 3, ...ro } }),
    h("div", { class: "form-row url-row" },
      field({ label: "Method", name: "method", type: "select", value: action.method, options: METHODS, attrs: ro }),
      field({ label: "URL template", name: "url", type: "text", value: action.url, required: true,
        help: "Parameters in braces are filled in (and percent-encoded), e.g. https://api.example.com/orders/{order_id}.",
        attrs: { placeholder: "https://api.example.com/orders/{order_id}", autocomplete: "off", spellcheck: "false", ...ro } })),
  ];
}

function limitFields(action, ro) {
  return [
    field({ label: "Body template (JSON)", name: "body", type: "textarea", value: action.body == null ? "" : JSON.stringify(action.body, null, 2),
      help: "Optional, for POST, PUT and PATCH: strings with {param} are filled in. Empty sends no body.", attrs: { rows: 4, spellcheck: "false", class: "code", ...ro } }),
    h("div", { class: "form-row" },
      field({ label: "Timeout (seconds)", name: "timeout_s", type: "number", value: action.timeout_s, attrs: { min: 1, max: 30, ...ro } }),
      field({ label: "Response cap (KB)", name: "max_response_bytes", type: "number", value: Math.round((action.max_response_bytes || 32768) / 1024),
        help: "The model reads at most this much of the answer (1–256 KB).", attrs: { min: 1, max: 256, ...ro } })),
    field({ label: "Ask the visitor to confirm first", name: "confirm", type: "checkbox", value: action.confirm, attrs: ro,
      help: "The widget shows what will be sent with Approve and Decline; nothing runs without a yes." }),
    field({ label: "Verified visitors only", name: "verified_only", type: "checkbox", value: action.verified_only, attrs: ro,
      help: "Offered only to visitors signed in through an identity token; their claims ({visitor.sub}) fill parameters the model cannot change." }),
    field({ label: "Enabled", name: "enabled", type: "checkbox", value: action.enabled, attrs: ro }),
  ];
}

// The request body from the form, or the field errors found before sending.
function actionBody(values, schemaBox, headersBox) {
  const errors = {};
  const schema = schemaBox.read();
  if (schema.error) errors.parameters = schema.error;
  const body = parseBody(values.body);
  if (body.error) errors.body = body.error;
  const headers = headersBox.read();
  if (headers.error) errors.headers = headers.error;
  // Typed in KB; the server counts bytes and would word its limits in bytes.
  const kb = values.max_response_bytes;
  if (kb !== null && !(kb >= 1 && kb <= 256)) errors.max_response_bytes = "Response cap must be between 1 and 256 KB.";
  const out = { name: values.name.trim(), label: values.label.trim() || null, description: values.description, method: values.method, url: values.url.trim(),
    parameters: schema.schema, headers: headers.headers, body: body.body, timeout_s: values.timeout_s,
    max_response_bytes: values.max_response_bytes == null ? null : Math.round(values.max_response_bytes * 1024),
    confirm: values.confirm, verified_only: values.verified_only, enabled: values.enabled };
  if (out.label === null) delete out.label;
  return { body: out, errors };
}

// onSave(body) returns the saved action; onCancel closes the editor.
export function actionForm(action, { readOnly, onSave, onCancel, submitLabel }) {
  const ro = readOnly ? { disabled: true } : {};
  const schemaBox = schemaEditor(action.parameters, readOnly);
  const headersBox = headersEditor({ stored: action.headers || [], readOnly,
    help: "Sent with every call, e.g. Authorization. Values are stored encrypted and never shown again; {param} works here too." });
  const form = h("form", { class: "form action-form", novalidate: true, "aria-label": action.id ? `Edit action ${action.name}` : "New action" },
    ...actionFields(action, ro), schemaBox.node, headersBox.node, ...limitFields(action, ro),
    readOnly ? null : h("div", { class: "actions" }, h("button", { class: "btn btn-primary", type: "submit", text: submitLabel }),
      onCancel ? button("Cancel", onCancel) : null));
  if (readOnly) return form;
  onSubmit(form, async (values) => {
    const { body, errors } = actionBody(values, schemaBox, headersBox);
    if (Object.keys(errors).length) { showFieldErrors(form, errors); return false; }
    await onSave(body);
    return true;
  }, { guard: true });
  return form;
}

function testResult(result) {
  const status = result.status == null ? "no response" : `HTTP ${result.status}`;
  return h("div", { class: "test-result-box", "data-testid": "action-test-result" },
    h("div", { class: "msg-meta" }, result.ok ? badge("OK", "ok") : badge("failed", "error"),
      h("span", { class: "test-status", text: status }), h("span", { class: "test-latency", text: formatMs(result.latency_ms) })),
    result.error ? h("p", { class: "error test-error", text: result.error }) : null,
    result.response_excerpt ? h("pre", { class: "snippet response-excerpt", text: result.response_excerpt }) : h("p", { class: "help", text: "The response was empty." }));
}

// Runs the saved action with sample arguments: status, latency and the start of the response,
// shown as text whatever it contains.
export function testPanel(ctx, botId, action) {
  const args = field({ label: "Sample arguments (JSON)", name: "arguments", type: "textarea", value: JSON.stringify(sampleArguments(action.parameters), null, 2),
    help: "Sent as if the model had asked; the request really goes out.", attrs: { rows: 4, spellcheck: "false", class: "code" } });
  // A test has no visitor: claims the templates use ({visitor.sub}) are given here.
  const usesClaims = JSON.stringify([action.url, action.body, action.headers]).includes("{visitor.") || action.verified_only;
  const claims = usesClaims ? field({ label: "Sample visitor claims (JSON)", name: "visitor", type: "textarea", value: '{\n  "sub": "user-123"\n}',
    help: "What a verified visitor's identity token would say.", attrs: { rows: 3, spellcheck: "false", class: "code" } }) : null;
  const out = h("div", { "aria-live": "polite" });
  const form = h("form", { class: "form", novalidate: true, "aria-label": `Test ${action.name}` }, args, claims,
    h("div", { class: "actions" }, h("button", { class: "btn", type: "submit", text: "Run test" })), out);
  onSubmit(form, async (values) => {
    const body = {};
    const errors = {};
    for (const name of ["arguments", "visitor"]) {
      if (!(name in values)) continue;
      try { body[name] = JSON.parse(values[name] || "{}"); } catch (error) { errors[name] = `Not valid JSON: ${error.message}`; }
    }
    if (Object.keys(errors).length) { showFieldErrors(form, errors); return false; }
    replace(out, h("p", { class: "help", role: "status", text: "Running…" }));
    try {
      replace(out, testResult(await post(`/workspaces/${ctx.ws}/chatbots/${botId}/actions/${action.id}/test`, body)));
    } catch (error) {
      replace(out);
      throw error;
    }
    return true;
  });
  return card("Test", h("p", { class: "help", text: "Runs the saved action. Save your changes first to test them." }), form);
}
