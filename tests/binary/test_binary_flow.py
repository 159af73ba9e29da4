"""The whole appliance from the binary: setup, provider, bot, knowledge indexed with the bundled
model, a streamed answer with a citation, the widget and the dashboard, then SIGTERM while an
answer is still streaming, with nothing lost.

Skipped when dist/modelpilot has not been built (or is older than the source). The child's proxies point at a closed port and
only 127.0.0.1 (the fake LLM) is reachable directly: the run passing shows no network is needed.
"""

from __future__ import annotations

import signal
import threading
from pathlib import Path

import pytest

from tests.binary.runner import ROOT, RunningBinary, skip_unless_testable
from tests.binary.test_binary_smoke import assert_closed_cleanly, read_db
from tests.fakes.llm import start_fake_llm
from tests.knowledge.fixtures import make_pdf
from tests.support import Api, eventually, parse_sse

pytestmark = skip_unless_testable()

FAQ = [{"question": "Do you ship to Norway?", "answer": "Yes, Norway orders arrive in 4 to 6 days."}]
PDF_PAGES = ["The warranty covers manufacturing defects for two years.",
             "Batteries are consumables and the warranty excludes them."]


@pytest.fixture
def fake_llm():
    running = start_fake_llm()
    yield running
    running.stop()


@pytest.fixture
def dashboard_built() -> None:
    if not (ROOT / "web" / "index.html").exists():
        pytest.skip("the dashboard (web/) arrives with the dashboard branch")


@pytest.fixture
def appliance(tmp_path: Path, fake_llm):
    """The binary serving from tmp_path with an owner, a provider on the fake LLM and a bot."""
    with RunningBinary(tmp_path) as running:
        running.wait_healthy()
        with Api(running.url) as owner:
            owner.setup_owner()
            owner.add_provider(owner.ws, "openai", "sk-good-0123456789abcdef", fake_llm.url)
            bot = owner.create_bot(owner.ws, model="gpt-4o-mini", system_prompt="You are Acme's helper.")
            yield running, owner, bot


def wait_indexed(api: Api, docs: str, doc_id: str, timeout: float = 120) -> dict:
    return eventually(lambda: api.ok("GET", f"{docs}/{doc_id}"), lambda doc: doc["status"] in ("indexed", "error"),
                      timeout=timeout, interval=0.2, what=f"indexing document {doc_id}")


def add_knowledge(api: Api, bot_id: str) -> dict[str, str]:
    docs = f"/api/v1/workspaces/{api.ws}/chatbots/{bot_id}/documents"
    faq = api.ok("POST", f"{docs}/faq", 202, json={"items": FAQ})
    pdf = make_pdf(PDF_PAGES, title="Warranty terms")
    upload = api.ok("POST", docs, 202, files={"file": ("warranty.pdf", pdf, "application/pdf")})
    for doc in (faq, upload):
        done = wait_indexed(api, docs, doc["id"])
        assert done["status"] == "indexed" and done["chunk_count"] >= 1, done
    return {"faq": faq["id"], "pdf": upload["id"]}


def ask(api: Api, bot_id: str, message: str) -> tuple[str, dict]:
    events = api.chat(api.ws, bot_id, message)
    done = events[-1]
    assert done.get("done") is True, events
    return "".join(e.get("text", "") for e in events[:-1]), done


def check_widget(url: str, output: str) -> None:
    with Api(url) as anonymous:
        widget = anonymous.get("/widget.js")
    assert widget.status_code == 200 and "javascript" in widget.headers["content-type"]
    assert len(widget.content) > 1000
    assert "widget build missing" not in output  # the bundled minified widget was found


def stream_during_shutdown(api: Api, running: RunningBinary, bot_id: str) -> list[dict]:
    """Start a slow answer, SIGTERM once its first piece arrived; returns all events received."""
    first_piece = threading.Event()
    events: list[dict] = []

    def stream() -> None:
        path = f"/api/v1/workspaces/{api.ws}/chatbots/{bot_id}/chat"
        with api.stream("POST", path, json={"message": "[[slow]] tell me slowly"}) as response:
            buffer = ""
            for text in response.iter_text():
                buffer += text
                if "data:" in buffer:
                    first_piece.set()
            events.extend(parse_sse(buffer))

    reader = threading.Thread(target=stream)
    reader.start()
    assert first_piece.wait(30), running.output
    running.process.send_signal(signal.SIGTERM)
    reader.join(60)
    return events


def assert_nothing_lost(data_dir: Path, turns: int) -> None:
    rows = read_db(data_dir, "SELECT role, status FROM messages")
    assert len(rows) == 2 * turns and all(status == "complete" for _, status in rows), rows
    assert read_db(data_dir, "PRAGMA integrity_check") == [("ok",)]


def test_streamed_answer_widget_and_sigterm_mid_answer(tmp_path: Path, appliance, fake_llm) -> None:
    running, owner, bot = appliance
    answer, done = ask(owner, bot["id"], "Hello, who are you?")
    assert answer and done["cost"] > 0 and done["sources"] == []
    assert fake_llm.requests[-1]["messages"][0]["content"].startswith("You are Acme's helper.")
    check_widget(running.url, running.output)

    events = stream_during_shutdown(owner, running, bot["id"])
    assert events and events[-1].get("done") is True, events  # the answer finished before exit
    assert_closed_cleanly(running, tmp_path / "modelpilot-data")
    assert_nothing_lost(tmp_path / "modelpilot-data", turns=2)


def test_knowledge_indexed_by_the_bundled_model_gives_cited_answers(tmp_path: Path, appliance, fake_llm) -> None:
    running, owner, bot = appliance
    ids = add_knowledge(owner, bot["id"])

    answer, done = ask(owner, bot["id"], "Are batteries covered by the warranty?")
    assert answer and ids["pdf"] in [source["document_id"] for source in done["sources"]]
    assert "Batteries are consumables" in str(fake_llm.requests[-1]["messages"])  # retrieval fed the prompt
    _, done = ask(owner, bot["id"], "Do you ship to Norway?")
    assert ids["faq"] in [source["document_id"] for source in done["sources"]]

    assert_closed_cleanly(running, tmp_path / "modelpilot-data")
    assert_nothing_lost(tmp_path / "modelpilot-data", turns=2)


def test_dashboard_is_served(tmp_path: Path, dashboard_built) -> None:
    with RunningBinary(tmp_path) as running:
        running.wait_healthy()
        with Api(running.url) as anonymous:
            page = anonymous.get("/")
            assert page.status_code == 200 and page.headers["content-type"].startswith("text/html")
            assert '<script type="module"' in page.text
            assert anonymous.get("/js/main.js").status_code == 200
        assert_closed_cleanly(running, tmp_path / "modelpilot-data")
