"""Fixtures for actions: a local service for actions to call, a bot on the fake model, helpers."""

from __future__ import annotations

import json
from typing import Iterator

import pytest

from tests.fakes.action_server import RunningActionService, start_action_service
from tests.support import Api, parse_sse

SECRET = "Bearer s3cr3t-action-token-0123456789"
GOOD_KEY = "sk-good-0123456789abcdefXYZ"
ORDER_SCHEMA = {"type": "object", "properties": {"order_id": {"type": "string", "minLength": 1}},
                "required": ["order_id"], "additionalProperties": False}


@pytest.fixture(scope="session")
def action_service() -> Iterator[RunningActionService]:
    running = start_action_service()
    yield running
    running.stop()


@pytest.fixture
def server(server_factory):
    # The action service listens on 127.0.0.1: tests must let outbound calls reach it.
    return server_factory(outbound_allow_private=True)


@pytest.fixture
def bot(owner: Api, fake_llm) -> dict:
    owner.add_provider(owner.ws, "openai", GOOD_KEY, fake_llm.url)
    return owner.create_bot(owner.ws, model="gpt-4o-mini", system_prompt="You are Acme's helper.")


def actions_path(api: Api, bot: dict) -> str:
    return f"/api/v1/workspaces/{api.ws}/chatbots/{bot['id']}/actions"


def add_action(api: Api, bot: dict, base_url: str, **fields) -> dict:
    body = {"name": "lookup_order", "description": "Look up an order by its id.", "parameters": ORDER_SCHEMA,
            "url": base_url + "/orders/{order_id}", "headers": {"Authorization": SECRET}, **fields}
    return api.ok("POST", actions_path(api, bot), 201, json=body)


def use_tools(api: Api, bot: dict, tools: list[dict], **fields) -> dict:
    return api.ok("PATCH", f"/api/v1/workspaces/{api.ws}/chatbots/{bot['id']}", json={"tools": tools, **fields})


def chat(api: Api, bot: dict, message: str | None = None, session_id: str = "tools-session-1",
         confirm: dict | None = None) -> list[dict]:
    body: dict = {"session_id": session_id}
    if message is not None:
        body["message"] = message
    if confirm is not None:
        body["confirm"] = confirm
    response = api.post(f"/api/v1/workspaces/{api.ws}/chatbots/{bot['id']}/chat", json=body)
    assert response.status_code == 200, response.text
    return parse_sse(response.text)


def tool_events(events: list[dict]) -> list[tuple[str, str]]:
    return [(e["tool"]["name"], e["tool"]["status"]) for e in events if "tool" in e]


def text_of(events: list[dict]) -> str:
    return "".join(e.get("text", "") for e in events)


def conversation(api: Api, conversation_id: str) -> dict:
    return api.ok("GET", f"/api/v1/workspaces/{api.ws}/conversations/{conversation_id}")


def asked(message: str, name: str = "lookup_order", **arguments) -> str:
    return f"{message} [[tool:{name} {json.dumps(arguments)}]]"
