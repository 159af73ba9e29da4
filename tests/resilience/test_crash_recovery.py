"""kill -9 in the middle of indexing a large PDF and of 20 streaming chats, then restart.

Afterwards: the document finishes indexing, every chat turn committed before the kill (every
stream that had sent its `done` event) is in the database, integrity_check is ok and no job is
left in `processing`.
"""

from __future__ import annotations

import threading

import httpx
import pytest

from modelpilot.core.db import connect_sync
from modelpilot.core.pg import connect_sync as connect_postgres
from tests.knowledge.fixtures import make_pdf
from tests.resilience.proc import ServerProcess
from tests.support import Api, eventually
from tests.widget_support import HOST_PAGE_ORIGIN, make_bot, sse_events

STREAMS = 20
PAGES = 40
WORDS = ("harbour", "ledger", "copper", "meadow", "orbit", "lantern", "quartz", "willow", "ember", "tundra")


def large_pdf() -> bytes:
    pages = []
    for page in range(PAGES):
        words = [WORDS[(page * 7 + i) % len(WORDS)] + str(i % 13) for i in range(150)]
        pages.append(f"Page {page} section. " + " ".join(words))
    return make_pdf(pages)


def stream_chat(base_url: str, bot_id: str, session_id: str, outcome: dict) -> None:
    """One visitor; records whether its `done` arrived (the turn is committed before `done`)."""
    try:
        with httpx.Client(base_url=base_url, timeout=60) as client:
            with client.stream("POST", f"/api/v1/widget/{bot_id}/chat", headers={"origin": HOST_PAGE_ORIGIN},
                               json={"session_id": session_id, "message": "Tell me slowly [[slow]]"}) as response:
                body = ""
                for text in response.iter_text():
                    body += text
                    outcome["started"] = True
        outcome["done"] = any(event.get("done") for event in sse_events(httpx.Response(200, text=body)))
    except httpx.HTTPError:
        outcome["done"] = False  # cut off by the kill


def db_rows(server, sql: str, params: tuple = ()) -> list:
    """Rows from the process's database: its SQLite file, or its Postgres database."""
    url = server.env.get("MODELPILOT_DATABASE_URL", "")
    conn = connect_postgres(url) if url else connect_sync(server.data_dir / "modelpilot.db", readonly=True)
    try:
        return [tuple(row) for row in conn.execute(sql, params).fetchall()]
    finally:
        conn.close()


@pytest.mark.slow
@pytest.mark.timeout(420)
def test_kill_9_while_indexing_and_streaming(tmp_path, fake_llm) -> None:
    server = ServerProcess(tmp_path / "data", tmp_path / "server.log",
                           MODELPILOT_WIDGET_IP_MESSAGES_PER_MINUTE="1000",
                           MODELPILOT_WIDGET_SESSION_MESSAGES_PER_MINUTE="1000")
    url = server.start()
    try:
        owner = Api(url)
        owner.setup_owner()
        bot = make_bot(owner, fake_llm, allowed_origins=[HOST_PAGE_ORIGIN])
        docs = f"/api/v1/workspaces/{owner.ws}/chatbots/{bot['id']}/documents"
        # Turns finished before the trouble starts.
        for i in range(3):
            response = owner.post(f"/api/v1/workspaces/{owner.ws}/chatbots/{bot['id']}/chat",
                                  json={"session_id": f"early-{i}", "message": "hello"})
            assert sse_events(response)[-1].get("done")
        doc = owner.ok("POST", docs, 202, files={"file": ("manual.pdf", large_pdf(), "application/pdf")})
        outcomes = [{"session": f"stream-{i:02d}-xxxxxxxxxxxxxxxx"} for i in range(STREAMS)]
        threads = [threading.Thread(target=stream_chat, args=(url, bot["id"], o["session"], o)) for o in outcomes]
        for thread in threads:
            thread.start()
        eventually(lambda: owner.ok("GET", f"{docs}/{doc['id']}")["status"], lambda status: status == "processing",
                   timeout=60, interval=0.1, what="indexing to start")
        eventually(lambda: sum(1 for o in outcomes if o.get("started")), lambda started: started >= STREAMS // 2,
                   timeout=60, interval=0.1, what="streams to start")
        server.kill()
        for thread in threads:
            thread.join(timeout=30)
        owner.close()

        committed = [o["session"] for o in outcomes if o.get("done")] + [f"early-{i}" for i in range(3)]
        url = server.start()
        owner = Api(url)
        owner.login("owner@example.com")
        final = eventually(lambda: owner.ok("GET", f"{docs}/{doc['id']}"),
                           lambda d: d["status"] in ("indexed", "error"), timeout=240, interval=0.1,
                           what="the document to finish after the restart")
        assert final["status"] == "indexed" and final["chunk_count"] > 0, final

        db_path = server
        if not server.env.get("MODELPILOT_DATABASE_URL"):
            assert db_rows(db_path, "PRAGMA integrity_check") == [("ok",)]
        assert db_rows(db_path, "SELECT COUNT(*) FROM jobs WHERE status IN ('processing', 'queued')") == [(0,)]
        assert db_rows(db_path, "SELECT COUNT(*) FROM documents WHERE status = 'processing'") == [(0,)]
        for session in committed:
            roles = [r[0] for r in db_rows(db_path, "SELECT m.role FROM messages m JOIN conversations c"
                                                    " ON c.id = m.conversation_id WHERE c.session_id = ?", (session,))]
            assert sorted(roles) == ["assistant", "user"], f"turn of {session} lost: {roles}"
        vectors = db_rows(db_path, "SELECT COUNT(*) FROM chunk_vectors WHERE chatbot_id = ?", (bot["id"],))[0][0]
        assert vectors == final["chunk_count"]
        owner.close()
    finally:
        server.stop()
