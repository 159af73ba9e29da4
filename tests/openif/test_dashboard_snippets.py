"""The API tokens page's snippets in Chromium: filled with this instance's address, the chosen
bot's slug and a just-created token, and each one works as pasted (the Python one run with the
real openai SDK, curl by curl, the MCP config by the official mcp client). The bot editor shows
the slug and saves a new one."""

from __future__ import annotations

import contextlib
import io
import json
import re
import shutil
import subprocess
from concurrent.futures import ThreadPoolExecutor

import anyio
import httpx2
import pytest
from mcp import Client
from mcp.client.streamable_http import streamable_http_client
from playwright.sync_api import expect

from tests.browser.harness import browser, open_browsing  # noqa: F401 (fixture)
from tests.browser.test_dashboard_team_account import log_in
from tests.fakes.llm import ANSWER
from tests.openif.support import connect_fake_llm
from tests.support import Api

pytestmark = [pytest.mark.slow, pytest.mark.browser]


def test_tokens_page_snippets_work_as_pasted(browser, server_factory, artifacts_dir, fake_llm) -> None:  # noqa: F811
    live = server_factory()
    with Api(live.url) as owner:
        owner.setup_owner()
        connect_fake_llm(owner, fake_llm)
        owner.create_bot(owner.ws, name="Front desk", model="gpt-4o-mini")
        second = owner.create_bot(owner.ws, name="Back office", model="gpt-4o-mini")
    b = open_browsing(browser, live.url, artifacts_dir / "dashboard")
    page = b.page
    ws = log_in(page)

    page.goto(f"/#/w/{ws}/bots/{second['id']}")
    slug = page.get_by_label("Slug", exact=True)
    expect(slug).to_have_value("back-office")
    slug.fill("backoffice")
    page.get_by_role("button", name="Save changes").click()
    expect(page.get_by_text("Saved.", exact=False)).to_be_visible()

    page.goto(f"/#/w/{ws}/tokens")
    python = page.get_by_test_id("snippet-python")
    expect(python).to_contain_text(f'base_url="{live.url}/v1"')
    expect(python).to_contain_text('model="front-desk"')
    expect(python).to_contain_text("mp_YOUR_API_TOKEN")
    page.get_by_label("Chatbot", exact=True).select_option("backoffice")
    expect(python).to_contain_text('model="backoffice"')
    page.get_by_label("Name", exact=True).fill("Snippets")
    page.get_by_role("button", name="Create token").click()
    token = page.locator("code.token-secret").inner_text()
    expect(python).to_contain_text(token)
    b.shoot("tokens-snippets")
    texts = {kind: page.get_by_test_id(f"snippet-{kind}").inner_text() for kind in ("python", "javascript", "curl", "mcp")}
    assert f'baseURL: "{live.url}/v1"' in texts["javascript"] and f'apiKey: "{token}"' in texts["javascript"]
    b.watcher.check()
    b.close()

    printed = io.StringIO()
    with contextlib.redirect_stdout(printed):
        exec(compile(texts["python"], "snippet.py", "exec"), {})
    assert printed.getvalue().splitlines() == [ANSWER, "[]"]

    if shutil.which("curl") and shutil.which("bash"):
        out = subprocess.run(["bash", "-c", texts["curl"]], capture_output=True, text=True, timeout=60, check=True).stdout
        assert json.loads(out)["choices"][0]["message"]["content"] == ANSWER

    server = json.loads(texts["mcp"])["mcpServers"]["modelpilot"]

    async def ask() -> str:
        async with httpx2.AsyncClient(headers=server["headers"]) as http:
            async with Client(streamable_http_client(server["url"], http_client=http)) as client:
                result = await client.call_tool("ask", {"chatbot": "backoffice", "question": "Hello?"})
                return result.structured_content["answer"]

    with ThreadPoolExecutor(1) as pool:  # Playwright's sync API keeps an event loop on this thread
        assert pool.submit(anyio.run, ask).result(timeout=60) == ANSWER
    assert re.fullmatch(r"mp_\S+", token)
