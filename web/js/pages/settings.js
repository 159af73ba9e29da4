// Workspace settings: name and conversation retention; deleting the workspace.

import { del, get, patch } from "../api.js";
import { button, card, confirmDialog, field, onSubmit, pageHeader, toast, toastError } from "../components.js";
import { h, replace } from "../dom.js";
import { navigate } from "../router.js";
import { session } from "../state.js";

export async function render(ctx) {
  const ws = await get(`/workspaces/${ctx.ws}`);
  const admin = ctx.can("admin");
  const readOnly = admin ? {} : { disabled: true };
  const form = h("form", { class: "form", novalidate: true },
    field({ label: "Workspace name", name: "name", value: ws.name, required: true, attrs: readOnly }),
    field({ label: "Keep conversations for (days)", name: "retention_days", type: "number", value: ws.settings.retention_days ?? "",
      help: "Older conversations are deleted every night. Leave empty to keep them forever.", attrs: { min: 1, max: 3650, ...readOnly } }),
    admin ? h("div", { class: "actions" }, h("button", { class: "btn btn-primary", type: "submit" }, "Save")) : null);
  onSubmit(form, async (values) => {
    const updated = await patch(`/workspaces/${ctx.ws}`, { name: values.name, settings: { retention_days: values.retention_days } });
    const entry = session.workspaces.find((w) => w.id === ctx.ws);
    if (entry) entry.name = updated.name;
    const option = document.querySelector(`#workspace-switcher option[value="${ctx.ws}"]`);
    if (option) option.textContent = `${updated.name} (${entry ? entry.role : ""})`;
    toast("Settings saved.");
  }, { guard: true });
  replace(ctx.main, pageHeader("Workspace settings"),
    h("div", { class: "stack" }, card("General", form), admin ? card("Danger zone", dangerZone(ctx, ws)) : null));
}

function dangerZone(ctx, ws) {
  return h("div", {}, h("p", { text: "Deleting the workspace removes its bots, knowledge, conversations and tokens. This cannot be undone." }),
    button("Delete workspace", async () => {
      if (!(await confirmDialog({ title: `Delete “${ws.name}”?`, message: "Everything in it is removed for every member." }))) return;
      try {
        await del(`/workspaces/${ctx.ws}`);
        session.workspaces = session.workspaces.filter((w) => w.id !== ctx.ws);
        localStorage.removeItem("modelpilot.workspace");
        toast("Workspace deleted.");
        navigate(session.workspaces.length ? `/w/${session.workspaces[0].id}/overview` : "/workspaces/new");
      } catch (error) { toastError(error); }
    }, { kind: "danger" }));
}
