"""Quotas where users meet them: dashboard chat, widget chat, bot and document creation, over real HTTP."""

from __future__ import annotations

from pathlib import Path

import pytest

from modelpilot.cli import main
from tests.support import Api, database_args, LiveServer
from tests.widget_support import HOST_PAGE_ORIGIN, make_bot, sse_events, widget_chat

TINY_PLANS = """
default = "tiny"

[plans.tiny]
name = "Tiny"
monthly_messages = 2
chatbots = 1
documents = 1
members = "unlimited"
"""


@pytest.fixture
def tiny_server(server_factory, tmp_path: Path) -> LiveServer:
    """Billing off, as most self-hosters run it, with a two-message plan to set by hand."""
    plans = tmp_path / "tiny.toml"
    plans.write_text(TINY_PLANS)
    return server_factory(plans_file=str(plans))


@pytest.fixture
def tiny_owner(tiny_server: LiveServer) -> Api:
    client = Api(tiny_server.url)
    client.setup_owner()
    yield client
    client.close()


def put_on_tiny_plan(live: LiveServer, ws: str) -> None:
    assert main(["set-plan", ws, "tiny", "--data-dir", str(live.settings.data_dir),
                 "--plans-file", live.settings.plans_file, *database_args(live.settings)]) == 0


def test_dashboard_and_widget_chat_stop_at_the_quota_before_any_upstream_call(
        tiny_server: LiveServer, tiny_owner: Api, fake_llm) -> None:
    bot = make_bot(tiny_owner, fake_llm, allowed_origins=[HOST_PAGE_ORIGIN])
    put_on_tiny_plan(tiny_server, tiny_owner.ws)
    assert tiny_owner.chat(tiny_owner.ws, bot["id"], "First?")[-1]["done"] is True
    assert sse_events(widget_chat(tiny_owner, bot["id"], "Second?"))[-1]["done"] is True
    shown = tiny_owner.ok("GET", f"/api/v1/workspaces/{tiny_owner.ws}/billing")
    assert (shown["used"], shown["quota"], shown["over_quota"]) == (2, 2, True)
    upstream_calls = len(fake_llm.requests)

    dashboard = tiny_owner.post(f"/api/v1/workspaces/{tiny_owner.ws}/chatbots/{bot['id']}/chat",
                                json={"message": "Third?"})
    widget = widget_chat(tiny_owner, bot["id"], "Third?")
    for response in (dashboard, widget):
        assert response.status_code == 402, response.text
        error = response.json()["error"]
        assert error["code"] == "quota_exceeded" and "message limit" in error["message"]
    assert widget.headers["access-control-allow-origin"] == HOST_PAGE_ORIGIN  # the widget can show it
    assert len(fake_llm.requests) == upstream_calls
    assert tiny_owner.ok("GET", f"/api/v1/workspaces/{tiny_owner.ws}/billing")["used"] == 2


def test_without_a_plan_chat_is_not_limited(tiny_owner: Api, fake_llm) -> None:
    bot = make_bot(tiny_owner, fake_llm)
    for n in range(3):
        assert tiny_owner.chat(tiny_owner.ws, bot["id"], f"Question {n}")[-1]["done"] is True


def test_creating_a_bot_past_the_plan_limit_is_a_402_and_creates_nothing(tiny_server: LiveServer,
                                                                      tiny_owner: Api) -> None:
    put_on_tiny_plan(tiny_server, tiny_owner.ws)
    tiny_owner.create_bot(tiny_owner.ws, name="One")
    response = tiny_owner.post(f"/api/v1/workspaces/{tiny_owner.ws}/chatbots", json={"name": "Two"})
    assert response.status_code == 402, response.text
    assert response.json()["error"]["details"] == {"plan": "tiny", "resource": "chatbots", "limit": 1}
    assert [b["name"] for b in tiny_owner.ok("GET", f"/api/v1/workspaces/{tiny_owner.ws}/chatbots")] == ["One"]
    resources = tiny_owner.ok("GET", f"/api/v1/workspaces/{tiny_owner.ws}/billing")["resources"]
    assert resources["chatbots"] == {"used": 1, "limit": 1}


def test_adding_a_document_past_the_plan_limit_is_a_402_and_adds_nothing(tiny_server: LiveServer,
                                                                       tiny_owner: Api) -> None:
    bot = tiny_owner.create_bot(tiny_owner.ws, name="One")
    put_on_tiny_plan(tiny_server, tiny_owner.ws)
    docs = f"/api/v1/workspaces/{tiny_owner.ws}/chatbots/{bot['id']}/documents"
    tiny_owner.ok("POST", docs + "/text", 202, json={"title": "Hours", "text": "We open at nine."})
    response = tiny_owner.post(docs + "/text", json={"title": "Prices", "text": "Tea costs two euros."})
    assert response.status_code == 402, response.text
    assert response.json()["error"]["details"] == {"plan": "tiny", "resource": "documents", "limit": 1}
    assert [d["title"] for d in tiny_owner.ok("GET", docs)] == ["Hours"]
