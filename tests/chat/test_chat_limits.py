"""Who may spend a workspace's messages, and how many: roles, the quota under concurrency,
and the channel a session id belongs to. Real HTTP against the fake LLM throughout."""

from __future__ import annotations

import threading
import time
from pathlib import Path

import httpx
import pytest

from modelpilot.cli import main
from modelpilot.core.database import connect_sync_for
from modelpilot.core.ids import iso_from_epoch, new_id
from tests.support import Api, database_args, eventually, LiveServer, parse_sse
from tests.widget_support import HOST_PAGE_ORIGIN, SESSION, from_page, make_bot, sse_events, widget_chat

HUNDRED_PLANS = """
default = "hundred"

[plans.hundred]
name = "Hundred"
monthly_messages = 100
chatbots = "unlimited"
documents = "unlimited"
members = "unlimited"
"""


def chat_path(client: Api, bot: dict) -> str:
    return f"/api/v1/workspaces/{client.ws}/chatbots/{bot['id']}/chat"


def billing(client: Api) -> dict:
    return client.ok("GET", f"/api/v1/workspaces/{client.ws}/billing")


def db_rows(live: LiveServer, sql: str, params: tuple = ()) -> list[tuple]:
    conn = connect_sync_for(live.settings)
    try:
        return [tuple(row) for row in conn.execute(sql, params)]
    finally:
        conn.close()


@pytest.fixture
def hundred_server(server_factory, tmp_path: Path) -> LiveServer:
    plans = tmp_path / "hundred.toml"
    plans.write_text(HUNDRED_PLANS)
    return server_factory(plans_file=str(plans))


@pytest.fixture
def hundred_owner(hundred_server: LiveServer):
    client = Api(hundred_server.url)
    client.setup_owner()
    assert main(["set-plan", client.ws, "hundred", "--data-dir", str(hundred_server.settings.data_dir),
                 "--plans-file", hundred_server.settings.plans_file, *database_args(hundred_server.settings)]) == 0
    yield client
    client.close()


def seed_answered(live: LiveServer, ws: str, count: int) -> None:
    conn = connect_sync_for(live.settings)
    try:
        conn.executemany("INSERT INTO usage_events (id, workspace_id, channel, created_at) VALUES (?, ?, 'api', ?)",
                         [(new_id(), ws, iso_from_epoch(time.time())) for _ in range(count)])
    finally:
        conn.close()


def parallel_chats(live: LiveServer, owner: Api, bot: dict, count: int) -> list[httpx.Response]:
    """`count` chats sent at the same moment, each on its own connection."""
    gate, results = threading.Barrier(count), [None] * count

    def one(index: int) -> None:
        with httpx.Client(base_url=live.url, cookies=owner.cookies, timeout=60) as client:
            gate.wait()
            results[index] = client.post(chat_path(owner, bot), json={"message": f"[[slow]] question {index}"})

    threads = [threading.Thread(target=one, args=(i,)) for i in range(count)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=90)
    return results


def test_parallel_chats_never_pass_the_quota(hundred_server, hundred_owner, fake_llm) -> None:
    bot = make_bot(hundred_owner, fake_llm)
    seed_answered(hundred_server, hundred_owner.ws, 95)
    before = len(fake_llm.requests)
    results = parallel_chats(hundred_server, hundred_owner, bot, 20)
    answered = [r for r in results if r.status_code == 200]
    refused = [r for r in results if r.status_code == 402]
    assert len(answered) == 5 and len(refused) == 15, [r.status_code for r in results]
    assert all(parse_sse(r.text)[-1].get("done") for r in answered)
    assert all(r.json()["error"]["code"] == "quota_exceeded" for r in refused)
    assert len(fake_llm.requests) - before == 5  # the refused ones never reached the model
    shown = billing(hundred_owner)
    assert (shown["used"], shown["over_quota"]) == (100, True)
    assert db_rows(hundred_server, "SELECT COUNT(*) FROM message_reservations") == [(0,)]


def test_a_turn_that_fails_before_any_text_gives_its_message_back(hundred_server, hundred_owner, fake_llm) -> None:
    bot = make_bot(hundred_owner, fake_llm)
    seed_answered(hundred_server, hundred_owner.ws, 99)
    failed = hundred_owner.chat(hundred_owner.ws, bot["id"], "[[fail500]] hello")
    assert "error" in failed[-1]
    assert billing(hundred_owner)["used"] == 99  # the upstream error did not use the last message
    assert hundred_owner.chat(hundred_owner.ws, bot["id"], "hello again")[-1]["done"] is True
    assert billing(hundred_owner)["used"] == 100
    refused = hundred_owner.post(chat_path(hundred_owner, bot), json={"message": "one more"})
    assert refused.status_code == 402
    # The failed turn is still in the log and in analytics, just not billed.
    assert db_rows(hundred_server, "SELECT COUNT(*), SUM(billable) FROM usage_events WHERE chatbot_id = ?",
                   (bot["id"],)) == [(2, 1)]


def test_a_client_gone_before_the_first_piece_gives_its_message_back(hundred_server, hundred_owner, fake_llm) -> None:
    bot = make_bot(hundred_owner, fake_llm)
    seed_answered(hundred_server, hundred_owner.ws, 99)
    with pytest.raises(httpx.ReadTimeout):
        with httpx.Client(base_url=hundred_server.url, cookies=hundred_owner.cookies, timeout=1.5) as client:
            client.post(chat_path(hundred_owner, bot), json={"message": "[[stall]] are you there"})
    eventually(lambda: db_rows(hundred_server, "SELECT COUNT(*) FROM messages WHERE chatbot_id = ?", (bot["id"],)),
               lambda count: count == [(2,)], timeout=10, what="saving the cut-short turn")
    assert billing(hundred_owner)["used"] == 99
    assert db_rows(hundred_server, "SELECT COUNT(*) FROM message_reservations") == [(0,)]
    assert hundred_owner.chat(hundred_owner.ws, bot["id"], "hello again")[-1]["done"] is True


# -- roles ----------------------------------------------------------------------------------------

def test_viewers_and_viewer_tokens_cannot_chat_and_spend_nothing(owner: Api, client_factory, fake_llm) -> None:
    bot = make_bot(owner, fake_llm)
    viewer = client_factory()
    owner.invite_and_join(viewer, "viewer@example.com", "viewer")
    token = owner.ok("POST", f"/api/v1/workspaces/{owner.ws}/api-tokens", json={"name": "ro", "role": "viewer"})
    bearer = client_factory()
    bearer.headers["Authorization"] = f"Bearer {token['token']}"
    before = len(fake_llm.requests)
    for client in (viewer, bearer):
        response = client.post(f"/api/v1/workspaces/{owner.ws}/chatbots/{bot['id']}/chat", json={"message": "hi"})
        assert response.status_code == 403, response.text
        error = response.json()["error"]
        assert error["code"] == "forbidden" and "editor" in error["message"] and "viewer" in error["message"]
    assert len(fake_llm.requests) == before
    assert owner.ok("GET", f"/api/v1/workspaces/{owner.ws}/conversations")["items"] == []
    editor = client_factory()
    owner.invite_and_join(editor, "editor@example.com", "editor")
    assert editor.chat(owner.ws, bot["id"], "hi")[-1]["done"] is True


# -- channels ---------------------------------------------------------------------------------------

def test_a_session_id_never_crosses_between_widget_and_dashboard_or_api(owner: Api, client_factory,
                                                                      fake_llm) -> None:
    bot = make_bot(owner, fake_llm, allowed_origins=[HOST_PAGE_ORIGIN])
    token = owner.ok("POST", f"/api/v1/workspaces/{owner.ws}/api-tokens", json={"name": "api", "role": "editor"})
    api = client_factory()
    api.headers["Authorization"] = f"Bearer {token['token']}"
    api.workspaces = owner.workspaces
    visitor = client_factory()
    history = f"/api/v1/widget/{bot['id']}/history"

    owner.chat(owner.ws, bot["id"], "Preview secret question", session_id=SESSION)
    api.chat(owner.ws, bot["id"], "API secret question", session_id=SESSION)
    seen = visitor.get(history, params={"session_id": SESSION}, headers=from_page())
    assert seen.status_code == 200 and seen.json()["messages"] == []

    sse_events(widget_chat(visitor, bot["id"], "Visitor question"))
    api.chat(owner.ws, bot["id"], "Injected by the API", session_id=SESSION)
    own = visitor.get(history, params={"session_id": SESSION}, headers=from_page()).json()["messages"]
    assert [m["content"] for m in own if m["role"] == "user"] == ["Visitor question"]

    echoed = api.chat(owner.ws, bot["id"], "[[echo]] what came before", session_id=SESSION)
    prompt = "".join(e.get("text", "") for e in echoed)
    assert "Visitor question" not in prompt and "Preview secret question" not in prompt
    assert "API secret question" in prompt
    channels = sorted(c["channel"] for c in owner.ok("GET", f"/api/v1/workspaces/{owner.ws}/conversations")["items"])
    assert channels == ["api", "preview", "widget"]
