// Signed-out account pages: "forgot password" (asks for a reset e-mail) and choosing a new
// password from a reset link (#/reset/<token>, from the e-mail or `modelpilot reset-password`).

import { ApiError, get, post } from "../api.js";
import { errorState, field, onSubmit, showFormErrors } from "../components.js";
import { h, replace } from "../dom.js";
import { renderBare } from "../layout.js";
import { remember } from "../state.js";

const PASSWORD_HELP = "At least 8 characters and not a common password; a passphrase is best.";

function footer(...children) {
  return h("p", { class: "auth-foot" }, ...children);
}

function noMailPage() {
  renderBare(h("h1", { text: "Forgot your password?" }),
    h("p", { text: "This instance cannot send e-mail, so the reset link comes from an admin." }),
    h("p", {}, "Ask the person who runs ModelPilot to run ", h("code", { text: "modelpilot reset-password you@example.com" }),
      " on the server and send you the link it prints."),
    footer(h("a", { href: "#/login" }, "Back to log in")));
}

export function forgotPage({ instance, query }) {
  if (!instance.email_enabled) { noMailPage(); return; }
  const form = h("form", { class: "form", novalidate: true },
    field({ label: "Email", name: "email", type: "email", value: query.email || "", required: true, attrs: { autocomplete: "username" } }),
    h("button", { class: "btn btn-primary", type: "submit" }, "Send reset link"));
  const done = h("div", { "aria-live": "polite" });
  onSubmit(form, async (values) => {
    await post("/auth/password-reset", { email: values.email });
    replace(done, h("div", { class: "callout", role: "status" },
      h("p", { text: `If an account exists for ${values.email.trim()}, we have sent it a link to choose a new password.` }),
      h("p", { text: "The link works once, for an hour. Nothing arrived? Check the spam folder, or ask again in a few minutes." })));
    form.hidden = true;
  });
  renderBare(h("h1", { text: "Forgot your password?" }),
    h("p", { text: "Enter your account's email and we will send you a link to choose a new password." }),
    form, done, footer(h("a", { href: "#/login" }, "Back to log in")));
}

function mismatch() {
  return new ApiError(400, "validation_error", "password_confirm: does not match",
    [{ field: "password_confirm", message: "does not match the new password" }]);
}

export async function resetPage({ params, afterLogin }) {
  const token = encodeURIComponent(params.token);
  let link;
  try {
    link = await get(`/auth/password-reset/${token}`);
  } catch (error) {
    renderBare(h("h1", { text: "Reset link not valid" }), errorState(error),
      footer(h("a", { href: "#/forgot" }, "Ask for a new link"), " · ", h("a", { href: "#/login" }, "Log in")));
    return;
  }
  const form = h("form", { class: "form", novalidate: true },
    h("input", { type: "email", name: "username", value: link.email, autocomplete: "username", hidden: true, disabled: true }),
    field({ label: "New password", name: "password", type: "password", required: true, help: PASSWORD_HELP,
      attrs: { autocomplete: "new-password", minlength: "8" } }),
    field({ label: "Repeat the new password", name: "password_confirm", type: "password", required: true, attrs: { autocomplete: "new-password" } }),
    h("button", { class: "btn btn-primary", type: "submit" }, "Set password and log in"));
  onSubmit(form, async (values) => {
    if (values.password !== values.password_confirm) { showFormErrors(form, mismatch()); return; }
    remember(await post(`/auth/password-reset/${token}`, { password: values.password }));
    afterLogin();
  });
  renderBare(h("h1", { text: "Choose a new password" }),
    h("p", {}, "For ", h("strong", { text: link.email }), ". Every other session of this account will be signed out."),
    form, footer(h("a", { href: "#/login" }, "Back to log in")));
}
