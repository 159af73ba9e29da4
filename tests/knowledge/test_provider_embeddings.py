"""Opt-in provider embeddings per workspace: the setting, indexing and search through the
provider's `/v1/embeddings` (the fake on 127.0.0.1), re-embedding on change, and falling back to
keyword search when the provider is down. Runs on SQLite and on Postgres (MP_TEST_BACKEND)."""

from __future__ import annotations

import math

import pytest

from modelpilot.knowledge import reembed
from modelpilot.knowledge.chunking import embed_prefix
from modelpilot.rag.embedder import BUILTIN_MODEL
from tests.fakes.llm import fake_embedding, start_fake_llm
from tests.knowledge.conftest import add_text, count_rows, create_bot, docs_path, wait_done
from tests.support import Api, eventually

KEY = "sk-embed-test-0123456789abcdef"
SMALL = "text-embedding-3-small"
IDENTITY = f"openai_compatible:{SMALL}"


@pytest.fixture
def embedder():
    """A fake provider of this test's own, so its call counts and switches are the test's alone."""
    running = start_fake_llm()
    running.app.base_url = running.url
    yield running.app
    running.stop()


@pytest.fixture
def ws(server, owner: Api, embedder, monkeypatch) -> str:
    server.app.state["worker"].backoff = (0.1,)
    monkeypatch.setattr(reembed, "FAILURE_RETRY_SECONDS", 0.2)
    owner.add_provider(owner.ws, "openai_compatible", KEY, embedder.base_url)
    return owner.ws


def setting_path(ws: str) -> str:
    return f"/api/v1/workspaces/{ws}/embedding"


def use_provider(api: Api, ws: str, model: str = SMALL) -> dict:
    return api.ok("PUT", setting_path(ws), json={"mode": "provider", "provider": "openai_compatible", "model": model})


def wait_reembedded(api: Api, ws: str) -> dict:
    return eventually(lambda: api.ok("GET", setting_path(ws)),
                      lambda s: (s["reembedding"] or {}).get("state") == "done", timeout=60,
                      what="the re-embedding finishing")["reembedding"]


def explain(api: Api, bot: str, q: str) -> list[dict]:
    return api.ok("GET", f"/api/v1/workspaces/{api.ws}/chatbots/{bot}/search",
                  params={"q": q, "explain": 1})["results"]


def cosine(a: list[float], b: list[float]) -> float:
    return sum(x * y for x, y in zip(a, b)) / (math.sqrt(sum(x * x for x in a)) * math.sqrt(sum(y * y for y in b)))


BAD_SETTINGS = [
    ({"mode": "weird"}, "mode", "builtin or provider"),
    ({"mode": "builtin", "colour": "red"}, "colour", ""),
    ({"mode": "builtin", "model": SMALL}, "model", "left out"),
    ({"mode": "provider", "model": SMALL}, "provider", "required"),
    ({"mode": "provider", "provider": "anthropic", "model": SMALL}, "provider", "openai_compatible or ollama"),
    ({"mode": "provider", "provider": "openai", "model": SMALL}, "provider", "not connected"),
    ({"mode": "provider", "provider": "openai_compatible"}, "model", "embedding model"),
    ({"mode": "provider", "provider": "openai_compatible", "model": "text-embedding-ada-002"}, "model",
     "text-embedding-ada-002 returned 1536 numbers per text; ModelPilot stores 384"),
    ({"mode": "provider", "provider": "openai_compatible", "model": "unknown-embedder"}, "model", "does not know"),
]


@pytest.mark.parametrize("body, field, words", BAD_SETTINGS, ids=[f"{b['mode']}-{f}-{i}" for i, (b, f, _)
                                                                  in enumerate(BAD_SETTINGS)])
def test_a_bad_setting_is_400_naming_its_field_and_changes_nothing(owner, ws, body, field, words):
    response = owner.put(setting_path(ws), json=body)
    assert response.status_code == 400, response.text
    details = response.json()["error"]["details"]
    assert [d["field"] for d in details] == [field]
    assert words in details[0]["message"]
    assert owner.ok("GET", setting_path(ws)) == {"mode": "builtin", "provider": None, "model": None,
                                                 "reembedding": None}


def test_a_wrong_key_is_named_as_the_providers_problem(owner, ws, embedder):
    owner.add_provider(ws, "openai_compatible", "sk-wrong-0123456789abcdef", embedder.base_url)
    response = owner.put(setting_path(ws), json={"mode": "provider", "provider": "openai_compatible", "model": SMALL})
    assert response.status_code == 400
    assert response.json()["error"]["details"][0]["field"] == "provider"


def test_only_admins_change_it_and_the_key_is_never_returned(server, owner, ws, embedder):
    editor = Api(server.url)
    owner.invite_and_join(editor, "ed@example.com", "editor")
    before = len(embedder.embedding_requests)
    response = editor.put(setting_path(ws), json={"mode": "provider", "provider": "openai_compatible", "model": SMALL})
    assert response.status_code == 403
    assert len(embedder.embedding_requests) == before  # refused before any call
    assert editor.ok("GET", setting_path(ws))["mode"] == "builtin"
    saved = use_provider(owner, ws)
    assert (saved["mode"], saved["provider"], saved["model"]) == ("provider", "openai_compatible", SMALL)
    for text in (owner.get(setting_path(ws)).text, editor.get(setting_path(ws)).text, str(saved)):
        assert KEY not in text and KEY[-8:] not in text
    call = embedder.embedding_requests[-1]
    assert call["dimensions"] == 384 and call["model"] == SMALL
    editor.close()


def test_documents_and_questions_are_embedded_by_the_provider(owner, ws, embedder):
    use_provider(owner, ws)
    wait_reembedded(owner, ws)
    bot = create_bot(owner)
    text = "Quokkas live on Rottnest Island and smile for photographs."
    doc = wait_done(owner, bot, add_text(owner, bot, "Wildlife", text)["id"])
    assert doc["status"] == "indexed" and doc["embed_model"] == IDENTITY
    indexed = [r for r in embedder.embedding_requests if any("Quokkas" in t for t in r["input"])]
    assert indexed and all(r["dimensions"] == 384 for r in indexed)

    calls = len(embedder.embedding_requests)
    hits = explain(owner, bot, "quokkas smile")
    assert embedder.embedding_requests[calls:] == [{"model": SMALL, "input": ["quokkas smile"], "dimensions": 384,
                                                    "encoding_format": "float"}]
    (hit,) = hits
    assert hit["document_id"] == doc["id"] and hit["vector_rank"] == 1
    # The similarity is the provider's vectors' (the fake's word hashing), not the built-in model's.
    chunk_text = embed_prefix(hit["title"], hit["heading"]) + hit["text"]
    assert hit["vector_score"] == pytest.approx(cosine(fake_embedding("quokkas smile", 384),
                                                       fake_embedding(chunk_text, 384)), abs=1e-3)
    explain(owner, bot, "quokkas smile")
    assert len(embedder.embedding_requests) == calls + 1  # the repeated question came from the cache


def term_counts(server) -> int:
    """Postgres keeps per-bot word counts by trigger (migration 0012): re-marking must not skew them."""
    if server.settings.backend != "postgres":
        return 0
    return count_rows(server.settings, "SELECT coalesce(sum(chunks), 0) FROM chunk_terms")


def test_a_change_reembeds_without_mixing_models_and_a_newer_one_supersedes(server, owner, ws, embedder):
    bot = create_bot(owner)
    old = wait_done(owner, bot, add_text(owner, bot, "Zoo", "The zebra sleeps standing up at night.")["id"])
    assert old["embed_model"] == BUILTIN_MODEL
    # The test call passes; re-embedding the zebra's chunk fails (questions without "night" pass).
    embedder.embeddings_fail_containing = "night"
    assert use_provider(owner, ws)["reembedding"]["state"] == "running"
    new = wait_done(owner, bot, add_text(owner, bot, "Farm", "The zebu grazes in the meadow all day.")["id"])
    assert new["status"] == "indexed"
    terms_before = term_counts(server)

    progress = owner.ok("GET", setting_path(ws))["reembedding"]
    assert progress["state"] in ("running", "failed") and progress["done"] < progress["total"]
    # Search keeps working meanwhile: the zebra's chunk (built-in vector) is found by its words
    # only; its vector is never compared with the provider's question vector.
    (zebra,) = [h for h in explain(owner, bot, "zebra sleeps") if h["document_id"] == old["id"]]
    assert zebra["vector_rank"] is None and zebra["keyword_rank"] == 1 and zebra["passed_threshold"]
    zebu = [h for h in explain(owner, bot, "zebu meadow") if h["document_id"] == new["id"]]
    assert zebu and zebu[0]["vector_rank"] == 1
    assert embedder.embedding_requests[-1]["input"] == ["zebu meadow"]  # asked with the provider's vector

    large = use_provider(owner, ws, "text-embedding-3-large")  # supersedes the one still running
    assert large["reembedding"]["state"] == "running"
    embedder.embeddings_fail_containing = None
    done = wait_reembedded(owner, ws)
    assert done["done"] == done["total"] == 2
    docs = owner.ok("GET", docs_path(owner, bot))
    assert {d["embed_model"] for d in docs} == {"openai_compatible:text-embedding-3-large"}
    (zebra,) = [h for h in explain(owner, bot, "zebra sleeps") if h["document_id"] == old["id"]]
    assert zebra["vector_rank"] == 1 and zebra["keyword_rank"] == 1
    assert term_counts(server) == terms_before

    back = owner.ok("PUT", setting_path(ws), json={"mode": "builtin"})
    assert back["mode"] == "builtin" and back["reembedding"]["state"] == "running"
    done = wait_reembedded(owner, ws)
    assert done == {"state": "done", "done": 2, "total": 2}
    calls = len(embedder.embedding_requests)
    (zebra,) = [h for h in explain(owner, bot, "zebra sleeps standing") if h["document_id"] == old["id"]]
    assert zebra["vector_rank"] == 1
    assert len(embedder.embedding_requests) == calls  # built-in again: the provider is not asked
    assert {d["embed_model"] for d in owner.ok("GET", docs_path(owner, bot))} == {BUILTIN_MODEL}


def test_provider_down_during_a_chat_answers_from_keyword_search(owner, ws, embedder):
    use_provider(owner, ws)
    bot = create_bot(owner)
    doc = wait_done(owner, bot, add_text(owner, bot, "Hours", "The aquarium opens at nine on Sundays.")["id"])
    embedder.embeddings_down = True
    calls = len(embedder.embedding_requests)
    events = owner.chat(ws, bot, "When does the aquarium open on Sundays?")
    assert "done" in events[-1], events
    assert [s["document_id"] for s in events[-1]["sources"]] == [doc["id"]]
    assert "nine" in "".join(e.get("text", "") for e in events)
    assert len(embedder.embedding_requests) > calls  # it tried the provider first
    (hit,) = explain(owner, bot, "aquarium Sundays")
    assert hit["vector_rank"] is None and hit["keyword_rank"] == 1


def test_provider_down_during_ingestion_fails_the_document_in_plain_words(owner, ws, embedder):
    use_provider(owner, ws)
    wait_reembedded(owner, ws)
    embedder.embeddings_down = True
    bot = create_bot(owner)
    doc = wait_done(owner, bot, add_text(owner, bot, "Menu", "Pancakes are served until noon.")["id"])
    assert doc["status"] == "error"
    assert "embedding provider failed" in doc["error"] and "unavailable" in doc["error"]
    assert KEY not in doc["error"]


def test_another_workspace_keeps_the_builtin_embedding(owner, ws, embedder):
    other = owner.ok("POST", "/api/v1/workspaces", json={"name": "Other"})["id"]
    use_provider(owner, ws)
    assert owner.ok("GET", setting_path(other)) == {"mode": "builtin", "provider": None, "model": None,
                                                    "reembedding": None}
    bot = owner.ok("POST", f"/api/v1/workspaces/{other}/chatbots",
                   json={"name": "B", "model": "builtin/extractive"})["id"]
    doc = owner.ok("POST", f"/api/v1/workspaces/{other}/chatbots/{bot}/documents/text", 202,
                   json={"title": "B", "text": "Walruses haul out on the ice floes."})
    done = wait_done(owner, bot, doc["id"], ws=other)
    assert done["embed_model"] == BUILTIN_MODEL
    assert not [r for r in embedder.embedding_requests if any("Walruses" in t for t in r["input"])]


def test_chunks_go_to_the_provider_64_a_request_and_come_back_in_order(owner, ws, embedder):
    use_provider(owner, ws)
    wait_reembedded(owner, ws)
    bot = create_bot(owner)
    items = [{"question": f"What is code {i}?", "answer": f"Code {i} opens locker {i}."} for i in range(70)]
    doc = owner.ok("POST", docs_path(owner, bot) + "/faq", 202, json={"items": items})
    done = wait_done(owner, bot, doc["id"])
    assert done["chunk_count"] == 70, (done["status"], done["error"])
    sent = [r for r in embedder.embedding_requests if any("locker" in t for t in r["input"])]
    assert [len(r["input"]) for r in sent] == [64, 6]
    hits = explain(owner, bot, "code 67 opens locker 67")
    assert hits[0]["answer"] == "Code 67 opens locker 67." and hits[0]["vector_rank"] == 1
