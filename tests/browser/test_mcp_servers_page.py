"""The workspace's MCP servers page in Chromium, against a real MCP server (the official SDK's,
tests/mcpservers/remote_server.py) on 127.0.0.1: add one with a sealed header, its tools listed
live; the header reads "set" and its value never comes back; editing with the value left empty
keeps it; a server nobody answers on shows "Server unavailable" instead of breaking the page;
delete."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import expect

from tests.browser.harness import log_in_as_owner, open_browsing
from tests.mcpservers.remote_server import RemoteMcp
from tests.support import Api, free_port

pytestmark = [pytest.mark.slow, pytest.mark.browser]

TOKEN = "tok-sealed-4711"


@pytest.fixture
def remote():
    running = RemoteMcp()
    yield running
    running.stop()


@pytest.fixture
def mcp_server(server_factory):
    live = server_factory(outbound_allow_private=True, mcp_list_timeout_seconds=2.0)
    owner = Api(live.url)
    owner.setup_owner()
    yield live, owner
    owner.close()


def tool_calls_with_token(remote: RemoteMcp) -> int:
    return sum(1 for r in remote.requests if r.get("authorization") == f"Bearer {TOKEN}")


def test_mcp_servers_page_adds_lists_live_keeps_sealed_headers_and_survives_a_dead_server(chromium, mcp_server, remote, artifacts_dir) -> None:
    live, owner = mcp_server
    remote.required_token = TOKEN
    b = open_browsing(chromium, live.url, artifacts_dir / "mcp-servers")
    page = b.page
    log_in_as_owner(page)
    page.get_by_role("link", name="MCP servers").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("MCP servers")
    expect(page.get_by_text("No MCP servers yet.")).to_be_visible()

    add = page.get_by_role("form", name="New MCP server")
    add.get_by_label("Name", exact=True).fill("Order tools")
    add.get_by_label("Server URL").fill(remote.url)
    add.get_by_role("button", name="Add header").click()
    add.get_by_label("Header name").fill("Authorization")
    add.get_by_label("Header value").fill(f"Bearer {TOKEN}")
    add.get_by_role("button", name="Add server").click()

    # Its tools, fetched live from the server with the header it requires.
    tools = page.get_by_role("region", name="Tools of Order tools")
    expect(tools.get_by_role("cell", name="echo", exact=True)).to_be_visible()
    expect(tools).to_contain_text("Repeat the arguments back as JSON.")
    assert tool_calls_with_token(remote) > 0
    row = page.get_by_role("row", name=re.compile("Order tools"))
    expect(row).to_contain_text("Authorization set")
    assert TOKEN not in page.content()  # sealed: never sent back to the browser
    b.shoot("mcp-server-tools")

    # Edit the name, leave the header's value empty: the stored value stays and still works.
    row.get_by_role("button", name="Edit Order tools").click()
    edit = page.get_by_role("form", name="Edit MCP server Order tools")
    expect(edit.get_by_label("New value for Authorization (leave empty to keep the stored one)")).to_have_value("")
    edit.get_by_label("Name", exact=True).fill("Orders")
    edit.get_by_role("button", name="Save server").click()
    expect(page.get_by_role("row", name=re.compile("Orders"))).to_contain_text("Authorization set")
    before = tool_calls_with_token(remote)
    page.get_by_role("button", name="Tools of Orders").click()
    expect(page.get_by_role("region", name="Tools of Orders").get_by_role("cell", name="echo", exact=True)).to_be_visible()
    assert tool_calls_with_token(remote) > before

    # A server nobody answers on: the page says so and stays usable.
    b.watcher.allow(502, r"/mcp-servers/[^/]+/tools$")
    add.get_by_label("Name", exact=True).fill("Gone")
    add.get_by_label("Server URL").fill(f"http://127.0.0.1:{free_port()}/mcp")
    add.get_by_role("button", name="Add server").click()
    gone = page.get_by_role("region", name="Tools of Gone")
    expect(gone.locator(".mcp-unavailable")).to_contain_text("Server unavailable.")
    b.shoot("mcp-server-unavailable")

    page.get_by_role("button", name="Delete Gone").click()
    page.get_by_role("dialog").get_by_role("button", name="Delete").click()
    expect(page.get_by_role("row", name=re.compile("Gone"))).to_have_count(0)
    assert [s["name"] for s in owner.ok("GET", f"/api/v1/workspaces/{owner.ws}/mcp-servers")["items"]] == ["Orders"]
    b.watcher.check()
    b.close()
