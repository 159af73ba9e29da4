"""Knowledge test fixtures: a bot in the owner's workspace, polling helpers, local web sites."""

from __future__ import annotations

from typing import Callable, Iterator

import pytest

from tests.knowledge.fixtures import Site
from tests.support import Api, LiveServer, eventually


def create_bot(api: Api, **fields) -> str:
    body = {"name": "Helper", "model": "builtin/extractive", **fields}
    return api.ok("POST", f"/api/v1/workspaces/{api.ws}/chatbots", json=body)["id"]


@pytest.fixture
def make_bot() -> Callable[..., str]:
    return create_bot


@pytest.fixture
def bot(owner: Api, make_bot) -> str:
    return make_bot(owner)


def docs_path(api: Api, bot_id: str, ws: str | None = None) -> str:
    return f"/api/v1/workspaces/{ws or api.ws}/chatbots/{bot_id}/documents"


def wait_done(api: Api, bot_id: str, doc_id: str, timeout: float = 90, ws: str | None = None,
              statuses: tuple[str, ...] = ("indexed", "error")) -> dict:
    return eventually(lambda: api.ok("GET", f"{docs_path(api, bot_id, ws)}/{doc_id}"),
                      lambda doc: doc["status"] in statuses, timeout=timeout, interval=0.1,
                      what=f"the document reaching {' or '.join(statuses)}")


def search(api: Api, bot_id: str, q: str, k: int | None = None) -> list[dict]:
    params = {"q": q, **({"k": k} if k else {})}
    return api.ok("GET", f"/api/v1/workspaces/{api.ws}/chatbots/{bot_id}/search", params=params)["results"]


def add_text(api: Api, bot_id: str, title: str, text: str) -> dict:
    return api.ok("POST", docs_path(api, bot_id) + "/text", 202, json={"title": title, "text": text})


def count_rows(settings, sql: str, params: tuple = ()) -> int:
    from modelpilot.core.database import connect_sync_for

    conn = connect_sync_for(settings)
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
    bot = create_bot(api)
    yield live, api, bot
    api.close()
