"""The actions dashboard in Chromium against the real server: an editor creates an HTTP action
(a server 400 lands under the field it names, the parameter helper writes the schema, a sealed
header reads "set" and never comes back), runs Test against a local service (status, latency and
the response excerpt), then picks it in the bot's tools beside a tool of a real MCP server, while
another server that does not answer says so; the preview asks before running it; analytics count
the call; a bot on the built-in model says it cannot use tools."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import expect

from tests.browser.harness import open_browsing
from tests.fakes.action_server import start_action_service
from tests.fakes.llm import TOOL_ANSWER
from tests.mcpservers.remote_server import RemoteMcp
from tests.support import PASSWORD, Api, eventually, free_port
from tests.widget_support import make_bot

pytestmark = [pytest.mark.slow, pytest.mark.browser]

HEADER_VALUE = "hdr-v4lue-93"


@pytest.fixture
def action_service():
    running = start_action_service()
    yield running
    running.stop()


@pytest.fixture
def remote():
    running = RemoteMcp()
    yield running
    running.stop()


@pytest.fixture
def workspace(server_factory, fake_llm, remote):
    live = server_factory(outbound_allow_private=True, mcp_list_timeout_seconds=2.0)
    owner = Api(live.url)
    owner.setup_owner()
    bot = make_bot(owner, fake_llm, name="Shop helper")
    quiet = owner.create_bot(owner.ws, name="Quiet bot", model="builtin/extractive")
    servers = f"/api/v1/workspaces/{owner.ws}/mcp-servers"
    docs = owner.ok("POST", servers, 201, json={"name": "Docs", "url": remote.url})
    owner.ok("POST", servers, 201, json={"name": "Gone", "url": f"http://127.0.0.1:{free_port()}/mcp"})
    yield live, owner, bot, quiet, docs
    owner.close()


def test_editor_creates_tests_and_picks_an_action_and_mcp_tools(chromium, workspace, action_service, artifacts_dir) -> None:  # noqa: PLR0915
    live, owner, bot, quiet, docs = workspace
    b = open_browsing(chromium, live.url, artifacts_dir / "actions-dashboard")
    page = b.page
    b.watcher.allow(400, r"/chatbots/[^/]+/actions$")          # the refused first try, on purpose
    b.watcher.allow(502, r"/mcp-servers/[^/]+/tools$")         # the server nobody answers on
    page.goto("/#/login")
    page.get_by_label("Email", exact=True).fill("owner@example.com")
    page.get_by_label("Password", exact=True).fill(PASSWORD)
    page.get_by_role("button", name="Log in").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Overview")
    page.goto(f"/#/w/{owner.ws}/bots/{bot['id']}")
    page.get_by_role("navigation", name="Chatbot sections").get_by_role("link", name="Actions").click()
    expect(page.get_by_text("No actions yet")).to_be_visible()

    page.get_by_role("button", name="New action").click()
    form = page.get_by_role("form", name="New action")
    params = form.get_by_label("Parameters (JSON Schema)")
    params.fill("{oops")
    expect(form.locator('[data-field="parameters"] .error')).to_contain_text("Parameters are not valid JSON")
    params.fill('{"type": "object", "properties": {}}')
    expect(form.locator('[data-field="parameters"] .error')).to_be_hidden()
    form.get_by_label("Parameter name").fill("order_id")
    form.get_by_label("Parameter description").fill("The order number")
    form.get_by_role("button", name="Add parameter").click()
    expect(form.get_by_role("list", name="Parameters")).to_contain_text("order_id string, required")
    assert '"required": [\n    "order_id"\n  ]' in params.input_value()
    form.get_by_label("Name", exact=True).fill("look up order")
    form.get_by_label("Status label").fill("Checking your order…")
    form.get_by_label("Description", exact=True).fill("Look up an order by its number.")
    form.get_by_label("URL template").fill(action_service.url + "/orders/{order_id}")
    form.get_by_role("button", name="Add header").click()
    form.get_by_label("Header name").fill("X-Shop-Key")
    form.get_by_label("Header value").fill(HEADER_VALUE)
    form.get_by_label("Ask the visitor to confirm first").check()
    form.get_by_role("button", name="Create action").click()
    # The server's refusal, in its words, under the field it names; focus goes there.
    name_error = form.locator('[data-field="name"] .error')
    expect(name_error).to_be_visible()
    expect(name_error).not_to_have_text("")
    expect(form.get_by_label("Name", exact=True)).to_be_focused()
    b.shoot("action-refused")
    form.get_by_label("Name", exact=True).fill("lookup_order")
    form.get_by_role("button", name="Create action").click()

    # Saved: the editor reopens on the stored copy; the header's value is sealed.
    saved = page.get_by_role("form", name="Edit action lookup_order")
    expect(saved).to_be_visible()
    expect(saved.locator(".header-row")).to_contain_text("X-Shop-Key")
    expect(saved.locator(".header-row .badge")).to_have_text("set")
    expect(page.get_by_role("row", name=re.compile("lookup_order"))).to_contain_text("confirm first")
    assert HEADER_VALUE not in page.content()

    test = page.get_by_role("form", name="Test lookup_order")
    test.get_by_label("Sample arguments (JSON)").fill('{"order_id": "A 17/x"}')
    test.get_by_role("button", name="Run test").click()
    result = page.get_by_test_id("action-test-result")
    expect(result.locator(".badge")).to_have_text("OK")
    expect(result.locator(".test-status")).to_have_text("HTTP 200")
    expect(result.locator(".test-latency")).to_have_text(re.compile(r"^\d+ ms$"))
    expect(result.locator(".response-excerpt")).to_contain_text('"order": "/orders/A%2017%2Fx"')
    sent = action_service.requests[-1]
    assert sent["path"] == "/orders/A%2017%2Fx" and sent["headers"]["x-shop-key"] == HEADER_VALUE
    b.shoot("action-tested")
    action_id = owner.ok("GET", f"/api/v1/workspaces/{owner.ws}/chatbots/{bot['id']}/actions")["items"][0]["id"]

    # The bot's tools: its action, the live tools of one MCP server, the other one unavailable.
    page.get_by_role("navigation", name="Chatbot sections").get_by_role("link", name="Settings & preview").click()
    tools = page.get_by_role("form", name="Tools")
    expect(tools.locator(f'[data-server="{docs["id"]}"]')).to_contain_text("Repeat the arguments back as JSON.")
    expect(tools.locator(".mcp-unavailable")).to_contain_text("Server unavailable.")
    expect(tools.locator(".tool-support-note")).to_have_count(0)
    tools.get_by_label("lookup_order").check()
    tools.locator(f'[data-server="{docs["id"]}"]').get_by_label("echo", exact=True).check()
    tools.get_by_label("Tool rounds per message").fill("2")
    tools.get_by_role("button", name="Save tools").click()
    expect(page.locator(".toast").last).to_have_text("Tools saved: the bot may use 2 tools.")
    stored = owner.ok("GET", f"/api/v1/workspaces/{owner.ws}/chatbots/{bot['id']}")
    assert stored["tools"] == [{"type": "action", "id": action_id}, {"type": "mcp", "server_id": docs["id"], "tool": "echo"}]
    assert stored["max_tool_rounds"] == 2
    b.shoot("bot-tools")

    # The preview asks first too, and runs it on Approve.
    preview = page.get_by_test_id("preview")
    preview.get_by_label("Message to the bot").fill('Where is B-9? [[tool:lookup_order {"order_id": "B-9"}]]')
    preview.get_by_role("button", name="Send").click()
    confirm = preview.get_by_role("group", name="Please confirm")
    expect(confirm).to_contain_text("B-9")
    calls_before = len(action_service.requests)
    confirm.get_by_role("button", name="Approve").click()
    expect(preview.locator(".msg.assistant").last).to_have_text(TOOL_ANSWER)
    assert [r["path"] for r in action_service.requests[calls_before:]] == ["/orders/B-9"]

    page.reload()
    expect(page.get_by_role("form", name="Tools").get_by_label("lookup_order")).to_be_checked()

    # The call is logged as the turn is saved, in the background: wait for it before drawing the page.
    eventually(lambda: owner.ok("GET", f"/api/v1/workspaces/{owner.ws}/analytics/tools")["items"],
               lambda items: [(t["name"], t["calls"]) for t in items] == [("lookup_order", 1)], timeout=15, what="the call counted")
    page.goto(f"/#/w/{owner.ws}/analytics")
    row = page.get_by_role("region", name="Tool calls").get_by_role("row", name=re.compile("lookup_order"))
    expect(row.locator('td[data-label="Calls"]')).to_have_text("1")
    expect(row.locator('td[data-label="Failures"]')).to_have_text("0")
    b.shoot("analytics-tools")

    # A bot whose model cannot call tools says so where its tools are picked.
    page.goto(f"/#/w/{owner.ws}/bots/{quiet['id']}")
    expect(page.locator(".tool-support-note")).to_contain_text("cannot use tools")
    b.watcher.check()
    b.close()
