// Inside the preview frame: embeds the real widget exactly as a customer's page would,
// with the bot id and options from this page's fragment (#bot=...&mode=inline&preview=1).
// In preview mode the widget also draws the lead form the dashboard's editor sends it.

const options = new URLSearchParams(location.hash.slice(1));
const bot = options.get("bot");
if (bot) {
  if (options.get("preview") === "1") window.ModelPilotConfig = { preview: true };
  const script = document.createElement("script");
  script.src = "/widget.js";
  script.async = true;
  script.dataset.botId = bot;
  if (options.get("mode") === "inline") {
    script.dataset.mode = "inline";
    script.dataset.target = "#widget-inline";
  } else {
    script.dataset.open = "true";
  }
  document.body.append(script);
}
