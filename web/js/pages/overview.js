// Overview: the last 30 days at a glance.
import { pageHeader } from "../components.js";
import { replace } from "../dom.js";

export async function render(ctx) {
  replace(ctx.main, pageHeader("Overview"));
}
