"""Feeding a bot knowledge through the API and getting it back from search, end to end."""

from __future__ import annotations

from tests.knowledge.conftest import add_text, count_rows, docs_path, search, wait_done
from tests.knowledge.fixtures import make_docx, make_pdf
from tests.pg_support import BACKEND

BILLING = ("Refunds\n\nCustomers can ask for a refund within 30 days of purchase. Refunds go back to the "
           "original card and take five working days.\n\nShipping\n\nParcels ship from Rotterdam every weekday. "
           "Express delivery reaches most of Europe in two days.")


def test_text_document_is_indexed_and_searchable(owner, bot) -> None:
    doc = add_text(owner, bot, "Store policies", BILLING)
    assert doc["status"] == "queued"
    done = wait_done(owner, bot, doc["id"])
    assert done["status"] == "indexed", done
    assert done["chunk_count"] >= 1 and done["progress"] == 1 and done["embed_model"]
    results = search(owner, bot, "how long does it take to get my money back?")
    assert results[0]["document_id"] == doc["id"]
    assert "refund" in results[0]["text"].lower()
    assert 0 < results[0]["score"] <= 1


def test_upload_pdf_keeps_page_numbers_for_citations(owner, bot) -> None:
    pdf = make_pdf(["The warranty covers manufacturing defects for two years.",
                    "Batteries are consumables and the warranty excludes them."], title="Warranty terms")
    doc = owner.ok("POST", docs_path(owner, bot), 202, files={"file": ("warranty.pdf", pdf, "application/pdf")})
    assert doc["content_type"] == "pdf"
    done = wait_done(owner, bot, doc["id"])
    assert done["status"] == "indexed", done
    assert done["title"] == "Warranty terms"
    top = search(owner, bot, "batteries are consumables")[0]
    assert top["page"] == 2 and top["title"] == "Warranty terms"
    detail = owner.ok("GET", f"{docs_path(owner, bot)}/{doc['id']}", params={"chunks": 1})
    assert [c["page"] for c in detail["chunks"]] == [1, 2]


def test_docx_markdown_csv_and_html_uploads(owner, bot) -> None:
    uploads = {
        "guide.docx": make_docx([("Heading1", "Opening hours"), (None, "The shop opens at nine on Saturdays.")]),
        "notes.md": b"# Parking\n\nVisitors park behind the warehouse in bay C.\n",
        "prices.csv": b"product,price\nblue kettle,39 EUR\nred toaster,25 EUR\n",
        "page.html": b"<html><head><title>Returns</title></head><body><nav>menu</nav><h1>Returns</h1>"
                     b"<p>Return labels are printed from the customer portal.</p></body></html>",
    }
    ids = {}
    for name, data in uploads.items():
        ids[name] = owner.ok("POST", docs_path(owner, bot), 202, files={"file": (name, data)})["id"]
    for name, doc_id in ids.items():
        assert wait_done(owner, bot, doc_id)["status"] == "indexed", name
    assert search(owner, bot, "when does the shop open on saturday")[0]["heading"] == "Opening hours"
    assert search(owner, bot, "where can visitors park")[0]["document_id"] == ids["notes.md"]
    assert "39 EUR" in search(owner, bot, "price of the blue kettle")[0]["text"]
    top = search(owner, bot, "how do I print a return label")[0]
    assert top["title"] == "Returns" and "menu" not in top["text"]


def test_faq_chunks_carry_the_answer(owner, bot) -> None:
    items = [{"question": "Do you ship to Norway?", "answer": "Yes, in 4 to 6 days."},
             {"question": "Can I pay by invoice?", "answer": "Only business customers can."}]
    doc = owner.ok("POST", docs_path(owner, bot) + "/faq", 202, json={"items": items})
    assert wait_done(owner, bot, doc["id"])["status"] == "indexed"
    top = search(owner, bot, "shipping to norway")[0]
    assert top["kind"] == "faq" and top["answer"] == "Yes, in 4 to 6 days."


# The keyword index's rows: FTS5's table on SQLite; on Postgres the tsvector inside each chunk row.
FULLTEXT_ROWS = {"sqlite": "SELECT count(*) FROM chunk_fts",
                 "postgres": "SELECT count(*) FROM chunks WHERE length(fts) > 0"}[BACKEND]


def test_delete_removes_chunks_vectors_and_fulltext(owner, bot, server) -> None:
    keep = add_text(owner, bot, "Keep", "Our office cat is called Biscuit and sleeps on the printer.")
    drop = add_text(owner, bot, "Drop", BILLING)
    for doc in (keep, drop):
        wait_done(owner, bot, doc["id"])
    kept = owner.ok("GET", f"{docs_path(owner, bot)}/{keep['id']}")["chunk_count"]
    owner.ok("DELETE", f"{docs_path(owner, bot)}/{drop['id']}", 204)
    db = server.settings
    assert count_rows(db, "SELECT count(*) FROM chunks WHERE document_id = ?", (drop["id"],)) == 0
    assert count_rows(db, "SELECT count(*) FROM chunk_vectors") == kept
    assert count_rows(db, FULLTEXT_ROWS) == kept
    assert all(r["document_id"] == keep["id"] for r in search(owner, bot, "refund within 30 days"))
    owner.ok("GET", f"{docs_path(owner, bot)}/{drop['id']}", 404)


def test_reindex_replaces_rather_than_duplicates(owner, bot, server) -> None:
    doc = add_text(owner, bot, "Policies", BILLING)
    first = wait_done(owner, bot, doc["id"])
    again = owner.ok("POST", f"{docs_path(owner, bot)}/{doc['id']}/reindex", 202)
    assert again["status"] == "queued"
    second = wait_done(owner, bot, doc["id"])
    assert second["status"] == "indexed" and second["chunk_count"] == first["chunk_count"]
    assert count_rows(server.settings, "SELECT count(*) FROM chunk_vectors") == first["chunk_count"]


def test_search_validates_its_query(owner, bot) -> None:
    path = f"/api/v1/workspaces/{owner.ws}/chatbots/{bot}/search"
    assert owner.get(path, params={"q": "  "}).status_code == 400
    assert "k" in owner.get(path, params={"q": "x", "k": 500}).json()["error"]["message"]
    assert owner.ok("GET", path, params={"q": "anything at all"})["results"] == []


def test_score_threshold_and_top_k_of_the_bot_apply(owner, make_bot) -> None:
    strict = make_bot(owner, score_threshold=0.99, top_k=1)
    doc = add_text(owner, strict, "Policies", BILLING)
    wait_done(owner, strict, doc["id"])
    assert search(owner, strict, "shipping from rotterdam") == []
    loose = make_bot(owner, top_k=1)
    wait_done(owner, loose, add_text(owner, loose, "Policies", BILLING)["id"])
    assert len(search(owner, loose, "shipping from rotterdam")) == 1
    assert len(search(owner, loose, "shipping from rotterdam", k=3)) >= 1


def test_viewer_can_search_but_not_add(owner, bot, client_factory) -> None:
    viewer = client_factory()
    owner.invite_and_join(viewer, "viewer@example.com", "viewer")
    body = {"title": "t", "text": "x"}
    response = viewer.post(f"/api/v1/workspaces/{owner.ws}/chatbots/{bot}/documents/text", json=body)
    assert response.status_code == 403
    viewer.ok("GET", docs_path(owner, bot, owner.ws))
    viewer.ok("GET", f"/api/v1/workspaces/{owner.ws}/chatbots/{bot}/search", params={"q": "x"})


def test_each_bot_searches_only_its_own_knowledge(owner, make_bot) -> None:
    first, second = make_bot(owner), make_bot(owner)
    mine = wait_done(owner, first, add_text(owner, first, "Zebra care", "Zebras need fresh hay twice a day.")["id"])
    theirs = wait_done(owner, second, add_text(owner, second, "Zebra care", "Zebras need fresh hay twice a day.")["id"])
    assert {r["document_id"] for r in search(owner, first, "zebras hay", k=10)} == {mine["id"]}
    assert {r["document_id"] for r in search(owner, second, "zebras hay", k=10)} == {theirs["id"]}


def test_keyword_search_skips_words_common_to_the_whole_bot(monkeypatch) -> None:
    import asyncio

    from modelpilot.rag import store

    async def fake_common(conn, term: str) -> bool:
        return "common" in term

    monkeypatch.setattr(store, "_is_common", fake_common)
    query = asyncio.run(store.keyword_query(None, "common rare; DROP TABLE x --", "bot1"))
    assert query == '"bbot1xrare" OR "bbot1xdrop" OR "bbot1xtable" OR "bbot1xx"'
    assert asyncio.run(store.keyword_query(None, "common", "bot1")) == '"bbot1xcommon"'


def test_deleting_a_bot_removes_its_knowledge(owner, make_bot, server) -> None:
    gone, kept = make_bot(owner), make_bot(owner)
    wait_done(owner, gone, add_text(owner, gone, "Gone", BILLING)["id"])
    keep = wait_done(owner, kept, add_text(owner, kept, "Kept", "Owls hunt at night over the meadow.")["id"])
    owner.ok("DELETE", f"/api/v1/workspaces/{owner.ws}/chatbots/{gone}", 204)
    db = server.settings
    for sql in ("SELECT count(*) FROM chunks", "SELECT count(*) FROM chunk_vectors", FULLTEXT_ROWS):
        assert count_rows(db, sql) == keep["chunk_count"], sql
    assert count_rows(db, "SELECT count(*) FROM documents WHERE chatbot_id = ?", (gone,)) == 0
    owner.ok("GET", docs_path(owner, gone), 404)
