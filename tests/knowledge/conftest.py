"""Knowledge test fixtures: a bot in the owner's workspace, polling helpers, local web sites."""

from __future__ import annotations

import asyncio
import time
from typing import Callable, Iterator

import pytest

from modelpilot.chatbots import repo as bots_repo
from modelpilot.core.db import open_connection
from modelpilot.core.ids import new_id, utc_now_iso
from tests.knowledge.fixtures import Site
from tests.support import Api, LiveServer


def insert_bot_row(db_path, workspace_id: str, **fields) -> str:
    """Until chatbot CRUD routes exist in main, bots are made directly through the chatbots repo."""
    now = utc_now_iso()
    bot = {"id": new_id(), "name": "Helper", "system_prompt": "", "model": "builtin/extractive",
           "temperature": 0.3, "max_tokens": 800, "greeting": "", "accent_color": "#4f46e5",
           "position": "bottom-right", "starter_questions": [], "allowed_origins": [], "published": False,
           "top_k": 5, "score_threshold": 0.0, "created_at": now, "updated_at": now, **fields}

    async def run() -> None:
        conn = await open_connection(db_path)
        try:
            await conn.execute("BEGIN IMMEDIATE")
            await bots_repo.insert_bot(conn, workspace_id, bot)
            await conn.execute("COMMIT")
        finally:
            await conn.close()

    asyncio.run(run())
    return bot["id"]


@pytest.fixture
def make_bot(server: LiveServer) -> Callable[..., str]:
    def make(api: Api, **fields) -> str:
        return insert_bot_row(server.settings.db_path, api.ws, **fields)
    return make


@pytest.fixture
def bot(owner: Api, make_bot) -> str:
    return make_bot(owner)


def docs_path(api: Api, bot_id: str, ws: str | None = None) -> str:
    return f"/api/v1/workspaces/{ws or api.ws}/chatbots/{bot_id}/documents"


def wait_done(api: Api, bot_id: str, doc_id: str, timeout: float = 90, ws: str | None = None,
              statuses: tuple[str, ...] = ("indexed", "error")) -> dict:
    deadline = time.monotonic() + timeout
    while True:
        doc = api.ok("GET", f"{docs_path(api, bot_id, ws)}/{doc_id}")
        if doc["status"] in statuses:
            return doc
        assert time.monotonic() < deadline, f"document stuck: {doc}"
        time.sleep(0.1)


def search(api: Api, bot_id: str, q: str, k: int | None = None) -> list[dict]:
    params = {"q": q, **({"k": k} if k else {})}
    return api.ok("GET", f"/api/v1/workspaces/{api.ws}/chatbots/{bot_id}/search", params=params)["results"]


def add_text(api: Api, bot_id: str, title: str, text: str) -> dict:
    return api.ok("POST", docs_path(api, bot_id) + "/text", 202, json={"title": title, "text": text})


def count_rows(db_path, sql: str, params: tuple = ()) -> int:
    from modelpilot.core.db import connect_sync

    conn = connect_sync(db_path)
    try:
        return conn.execute(sql, params).fetchone()[0]
    finally:
        conn.close()


@pytest.fixture
def site() -> Iterator[Site]:
    web = Site()
    yield web
    web.close()


@pytest.fixture
def intranet(server_factory):
    """A server allowed to fetch from 127.0.0.1 (as an intranet install would), with short timeouts."""
    live = server_factory(ingest_allow_private=True, fetch_timeout_seconds=1)
    live.app.state["worker"].backoff = (0.2,)
    api = Api(live.url)
    api.setup_owner()
    bot = insert_bot_row(live.settings.db_path, api.ws)
    yield live, api, bot
    api.close()
