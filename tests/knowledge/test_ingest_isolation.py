"""One workspace's hostile uploads cannot stall another's ingestion, and deleting stops a job.

Workspace A uploads the two files of the hardening issue: a 480 KB PDF whose 3,000 pages share
one 1.5 MB content stream (hours in the parser) and HTML nested 100,000 deep (minutes). Both
end in `error` with their reason, while workspace B's one-line note is indexed within seconds.
"""

from __future__ import annotations


import pytest

from tests.knowledge.conftest import add_text, count_rows, create_bot, docs_path, search, wait_done
from tests.knowledge.fixtures import gone, deeply_nested_html, shared_stream_pdf
from tests.support import Api, eventually


def upload(api: Api, bot: str, name: str, data: bytes) -> dict:
    return api.ok("POST", docs_path(api, bot), 202, files={"file": (name, data)})


def wait_status(api: Api, bot: str, doc_id: str, status: str, timeout: float = 30) -> dict:
    return eventually(lambda: api.ok("GET", f"{docs_path(api, bot)}/{doc_id}"), lambda doc: doc["status"] == status,
                      timeout=timeout, what=f"status {status}")


def two_workspaces(live) -> tuple[Api, Api]:
    a, b = Api(live.url), Api(live.url)
    a.setup_owner()
    b.signup("b@example.com", "B")
    return a, b


def test_a_workspaces_pathological_uploads_do_not_hold_back_another(server_factory) -> None:
    live = server_factory(open_signup=True, ingest_read_seconds=3.0, ingest_concurrency=2)
    a, b = two_workspaces(live)
    bot_a, bot_b = create_bot(a), create_bot(b)
    pdf = upload(a, bot_a, "catalogue.pdf", shared_stream_pdf())
    html = upload(a, bot_a, "deep.html", deeply_nested_html())
    wait_status(a, bot_a, pdf["id"], "processing")  # A's slow PDF holds a slot...

    note = add_text(b, bot_b, "Opening hours", "The shop on the quay opens at nine every morning.")
    indexed = wait_done(b, bot_b, note["id"], timeout=10)  # ...and B is indexed within 10 s anyway
    assert indexed["status"] == "indexed" and indexed["chunk_count"] == 1
    assert search(b, bot_b, "when does the shop open")[0]["document_id"] == note["id"]

    slow = wait_done(a, bot_a, pdf["id"], timeout=30)
    assert slow["status"] == "error"
    assert "PDF took longer than 3 s to read, so it was stopped" in slow["error"], slow
    deep = wait_done(a, bot_a, html["id"], timeout=30)
    assert deep["status"] == "error"
    assert "nested deeper than 1,000 levels" in deep["error"], deep
    assert count_rows(live.settings, "SELECT count(*) FROM jobs WHERE status != 'error'") == 0
    a.close()
    b.close()


def wait_for_reader(live) -> list[int]:
    """The pid of the reader process parsing the document, once it has started."""
    pids = eventually(lambda: live.app.state["knowledge"].reader.processes.child_pids, timeout=60,
                      what="a reader process starting")
    assert len(pids) == 1
    return pids


@pytest.mark.parametrize("deleted", ["document", "chatbot", "workspace"])
def test_deleting_stops_the_running_job_and_kills_its_reader(server_factory, deleted: str) -> None:
    # One job slot, a budget of ten minutes: only cancelling the job lets anything else run.
    live = server_factory(open_signup=True, ingest_read_seconds=600.0, ingest_concurrency=1)
    a, b = two_workspaces(live)
    bot_a, bot_b = create_bot(a), create_bot(b)
    doc = upload(a, bot_a, "catalogue.pdf", shared_stream_pdf())
    wait_status(a, bot_a, doc["id"], "processing")
    readers = wait_for_reader(live)

    path = {"document": f"{docs_path(a, bot_a)}/{doc['id']}",
            "chatbot": f"/api/v1/workspaces/{a.ws}/chatbots/{bot_a}",
            "workspace": f"/api/v1/workspaces/{a.ws}"}[deleted]
    a.ok("DELETE", path, 204)

    note = add_text(b, bot_b, "Ferry", "The ferry to the island leaves at seven.")
    assert wait_done(b, bot_b, note["id"], timeout=30)["status"] == "indexed"
    assert gone(readers[0]), "the reader process still parses a deleted document"
    db = live.settings
    assert count_rows(db, "SELECT count(*) FROM documents WHERE id = ?", (doc["id"],)) == 0
    assert count_rows(db, "SELECT count(*) FROM chunks WHERE document_id = ?", (doc["id"],)) == 0
    assert count_rows(db, "SELECT count(*) FROM jobs") == 0
    a.close()
    b.close()
