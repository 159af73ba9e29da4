"""Set-up for the open-interface tests: a bot on the fake LLM, API tokens, an OpenAI client."""

from __future__ import annotations

import anyio
import httpx2
import openai
from mcp import Client
from mcp.client.streamable_http import streamable_http_client

from tests.support import Api

GOOD_KEY = "sk-good-0123456789abcdefXYZ"


def connect_fake_llm(owner: Api, fake_llm, ws: str | None = None) -> None:
    owner.add_provider(ws or owner.ws, "openai", GOOD_KEY, fake_llm.url)


def new_token(api: Api, role: str = "editor", ws: str | None = None) -> str:
    return api.ok("POST", f"/api/v1/workspaces/{ws or api.ws}/api-tokens", json={"name": f"sdk {role}",
                                                                                 "role": role})["token"]


def openai_client(base_url: str, token: str, **kwargs) -> openai.OpenAI:
    """The official SDK as any user would point it at us; no retries, so each call is one request."""
    return openai.OpenAI(base_url=f"{base_url}/v1", api_key=token, max_retries=0, **kwargs)


def conversations(api: Api, bot_id: str) -> list[dict]:
    return api.ok("GET", f"/api/v1/workspaces/{api.ws}/conversations", params={"chatbot_id": bot_id})["items"]


def conversation(api: Api, conversation_id: str) -> dict:
    return api.ok("GET", f"/api/v1/workspaces/{api.ws}/conversations/{conversation_id}")


def mcp_run(url: str, token: str, mode: str, script):
    """Connect the official mcp client to url/mcp with the token (mode: "legacy" is the initialize
    handshake, "auto" the 2026 discovery), run `await script(client)` and return its result."""
    async def main():
        async with httpx2.AsyncClient(headers={"Authorization": f"Bearer {token}"}) as http:
            async with Client(streamable_http_client(f"{url}/mcp", http_client=http), mode=mode) as client:
                return await script(client)

    return anyio.run(main)
