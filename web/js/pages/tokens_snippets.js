// Copy-ready snippets for the open interfaces: the OpenAI SDKs (Python, JavaScript) and curl
// against /v1 with a chosen bot's slug as the model, and an MCP client's config for /mcp. Filled
// with this instance's address and, right after one is created, the new token.

import { copyButton, field } from "../components.js";
import { h, replace } from "../dom.js";

const TOKEN_PLACEHOLDER = "mp_YOUR_API_TOKEN";
const QUESTION = "What are your opening hours?";

export function integrationSnippets({ base, slug, token }) {
  const key = token || TOKEN_PLACEHOLDER;
  const model = slug || "your-bot-slug";
  return {
    python: [
      "from openai import OpenAI",
      "",
      `client = OpenAI(base_url="${base}/v1", api_key="${key}")`,
      "reply = client.chat.completions.create(",
      `    model="${model}",`,
      `    messages=[{"role": "user", "content": "${QUESTION}"}],`,
      ")",
      "print(reply.choices[0].message.content)",
      "print(reply.modelpilot[\"sources\"])  # where the answer came from",
    ].join("\n"),
    javascript: [
      'import OpenAI from "openai";',
      "",
      `const client = new OpenAI({ baseURL: "${base}/v1", apiKey: "${key}" });`,
      "const reply = await client.chat.completions.create({",
      `  model: "${model}",`,
      `  messages: [{ role: "user", content: "${QUESTION}" }],`,
      "});",
      "console.log(reply.choices[0].message.content);",
    ].join("\n"),
    curl: [
      `curl ${base}/v1/chat/completions \\`,
      `  -H "Authorization: Bearer ${key}" \\`,
      '  -H "Content-Type: application/json" \\',
      `  -d '${JSON.stringify({ model, messages: [{ role: "user", content: QUESTION }] })}'`,
    ].join("\n"),
    mcp: JSON.stringify({ mcpServers: { modelpilot: { type: "http", url: `${base}/mcp`,
      headers: { Authorization: `Bearer ${key}` } } } }, null, 2),
  };
}

const KINDS = [["python", "OpenAI SDK (Python)"], ["javascript", "OpenAI SDK (JavaScript)"], ["curl", "curl"],
  ["mcp", "MCP client config (tools: list_chatbots, ask, search)"]];

// The card's body; `state.token` is set by the page when a token is created, then `refresh()`.
export function snippetsPanel(bots, state) {
  const body = h("div", { class: "stack" });
  const choice = field({ label: "Chatbot", name: "snippet_bot", type: "select", value: state.slug,
    options: bots.length ? bots.map((b) => [b.slug, `${b.name} (${b.slug})`]) : [["", "No chatbots yet"]],
    help: "Its slug is the model name in OpenAI clients." });
  const select = choice.querySelector("select");
  const refresh = () => {
    state.slug = select.value;
    const texts = integrationSnippets({ base: location.origin, slug: state.slug, token: state.token });
    replace(body, ...KINDS.map(([kind, label]) => h("div", { class: "snippet-block" },
      h("h3", { text: label }),
      h("pre", { class: "snippet", "data-testid": `snippet-${kind}` }, h("code", { text: texts[kind] })),
      h("div", { class: "actions" }, copyButton(() => texts[kind], "Copy")))));
  };
  select.addEventListener("change", refresh);
  refresh();
  return { element: h("div", {}, h("p", { class: "help", text: "Every chatbot is a model of an OpenAI-compatible API at "
    + `${location.origin}/v1 and a tool of the MCP server at ${location.origin}/mcp, with an API token as the key.` }),
  choice, body), refresh };
}
