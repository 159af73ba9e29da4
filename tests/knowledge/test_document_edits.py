"""Editors name and edit their knowledge: readable titles for citations, FAQ and text edits that
re-index, and addresses that cannot be fetched failing at once with the reason."""

from __future__ import annotations

import socket

import pytest

from modelpilot.knowledge.fields import readable_title
from tests.knowledge.conftest import add_text, count_rows, docs_path, search, wait_done
from tests.knowledge.fixtures import Site, make_pdf
from tests.support import Api


@pytest.mark.parametrize("name, title", [
    ("report_v2_final.pdf", "Report V2 Final"),
    ("shipping-policy.pdf", "Shipping Policy"),
    ("FAQ_for_iOS users.docx", "FAQ For iOS Users"),
    ("price-list-2024-05-01.csv", "Price List 2024-05-01"),
    ("C:\\Users\\me\\notes.md", "Notes"),
    (".pdf", ".pdf"),
])
def test_file_names_become_readable_titles(name, title) -> None:
    assert readable_title(name) == title


def doc_url(api: Api, bot: str, doc_id: str) -> str:
    return f"{docs_path(api, bot)}/{doc_id}"


def test_an_upload_is_cited_by_a_readable_title_that_editors_can_change(owner, bot) -> None:
    doc = owner.ok("POST", docs_path(owner, bot), 202,
                   files={"file": ("returns_policy_v3.txt", b"Returned parcels are refunded within ten days.")})
    assert doc["title"] == "Returns Policy V3" and doc["source"] == "returns_policy_v3.txt"
    wait_done(owner, bot, doc["id"])
    assert search(owner, bot, "when are returned parcels refunded")[0]["title"] == "Returns Policy V3"
    renamed = owner.ok("PATCH", doc_url(owner, bot, doc["id"]), json={"title": "  Returns and refunds "})
    assert renamed["title"] == "Returns and refunds" and renamed["status"] == "indexed"  # a rename re-embeds nothing
    assert search(owner, bot, "when are returned parcels refunded")[0]["title"] == "Returns and refunds"


def test_a_pdf_title_names_it_once_and_an_editors_title_survives_reindexing(owner, bot) -> None:
    pdf = make_pdf(["The warranty covers manufacturing defects for two years.",
                    "Batteries are consumables and the warranty excludes them."], title="Microsoft Word - wrnty")
    doc = owner.ok("POST", docs_path(owner, bot), 202, files={"file": ("wrnty.pdf", pdf, "application/pdf")})
    assert wait_done(owner, bot, doc["id"])["title"] == "Microsoft Word - wrnty"
    owner.ok("PATCH", doc_url(owner, bot, doc["id"]), json={"title": "Warranty terms"})
    owner.ok("POST", doc_url(owner, bot, doc["id"]) + "/reindex", 202)
    done = wait_done(owner, bot, doc["id"])
    assert done["status"] == "indexed" and done["title"] == "Warranty terms"
    top = search(owner, bot, "batteries are consumables")[0]
    assert (top["title"], top["page"]) == ("Warranty terms", 2)


def test_faq_sets_are_named_and_their_pairs_edited_and_reindexed(owner, bot, server) -> None:
    unnamed = owner.ok("POST", docs_path(owner, bot) + "/faq", 202,
                       json={"items": [{"question": "Is there parking?", "answer": "Yes, behind the shop."}]})
    assert unnamed["title"] == "Frequently asked questions"
    items = [{"question": "Do you ship to Norway?", "answer": "Yes, in 4 to 6 days."}]
    doc = owner.ok("POST", docs_path(owner, bot) + "/faq", 202, json={"title": "Shipping questions", "items": items})
    assert doc["title"] == "Shipping questions"
    wait_done(owner, bot, doc["id"])
    assert owner.ok("GET", doc_url(owner, bot, doc["id"]))["items"] == items
    edited = [{"question": "Do you ship to Norway?", "answer": "Yes, in 2 to 3 days since March."},
              {"question": "Do you ship to Iceland?", "answer": "No, not yet."}]
    queued = owner.ok("PATCH", doc_url(owner, bot, doc["id"]), json={"items": edited})
    assert queued["status"] in ("queued", "processing")
    done = wait_done(owner, bot, doc["id"])
    assert done["status"] == "indexed" and done["chunk_count"] == 2
    assert owner.ok("GET", doc_url(owner, bot, doc["id"]))["items"] == edited
    top = search(owner, bot, "shipping to norway")[0]
    assert top["answer"] == "Yes, in 2 to 3 days since March." and top["title"] == "Shipping questions"
    assert count_rows(server.settings, "SELECT count(*) FROM chunks WHERE document_id = ?", (doc["id"],)) == 2


def test_text_documents_are_edited_and_reindexed(owner, bot) -> None:
    doc = add_text(owner, bot, "Opening hours", "The shop opens at nine on weekdays.")
    wait_done(owner, bot, doc["id"])
    owner.ok("PATCH", doc_url(owner, bot, doc["id"]),
             json={"title": "Opening times", "text": "From June the shop opens at ten and closes at six."})
    done = wait_done(owner, bot, doc["id"])
    assert done["status"] == "indexed" and done["title"] == "Opening times"
    detail = owner.ok("GET", doc_url(owner, bot, doc["id"]), params={"chunks": 1})
    assert detail["text"] == "From June the shop opens at ten and closes at six."
    assert [c["title"] for c in detail["chunks"]] == ["Opening times"]
    assert "nine" not in " ".join(r["text"] for r in search(owner, bot, "when does the shop open"))


@pytest.mark.parametrize("body, field", [
    ({"title": "   "}, "title"),
    ({"title": "x" * 201}, "title"),
    ({"items": [{"question": "Q?", "answer": "A."}]}, "items"),     # a text document has no pairs
    ({"text": "   "}, "text"),
    ({"text": "a", "items": []}, "items"),
    ({"colour": "red"}, "colour"),
])
def test_bad_edits_are_400_naming_the_field_and_change_nothing(owner, bot, body, field) -> None:
    doc = wait_done(owner, bot, add_text(owner, bot, "Lighthouse", "The keeper lights the lamp at dusk.")["id"])
    response = owner.patch(doc_url(owner, bot, doc["id"]), json=body)
    assert response.status_code == 400, response.text
    assert field in response.text
    after = owner.ok("GET", doc_url(owner, bot, doc["id"]))
    assert (after["title"], after["text"], after["status"]) == ("Lighthouse", "The keeper lights the lamp at dusk.",
                                                                "indexed")


def test_faq_edits_are_checked_like_new_pairs(owner, bot) -> None:
    doc = owner.ok("POST", docs_path(owner, bot) + "/faq", 202,
                   json={"items": [{"question": "Is there parking?", "answer": "Yes."}]})
    response = owner.patch(doc_url(owner, bot, doc["id"]), json={"items": [{"question": "Q?", "answer": " "}]})
    assert response.status_code == 400 and response.json()["error"]["details"][0]["field"] == "items[0].answer"
    assert owner.patch(doc_url(owner, bot, doc["id"]), json={"text": "plain"}).status_code == 400


def test_viewers_cannot_edit(owner, bot, client_factory) -> None:
    viewer = client_factory()
    owner.invite_and_join(viewer, "viewer@example.com", "viewer")
    doc = add_text(owner, bot, "Lighthouse", "The keeper lights the lamp at dusk.")
    response = viewer.patch(f"/api/v1/workspaces/{owner.ws}/chatbots/{bot}/documents/{doc['id']}",
                            json={"title": "Mine now"})
    assert response.status_code == 403


def closed_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def test_addresses_that_cannot_work_fail_at_once_with_the_reason(intranet, site: Site) -> None:
    live, api, bot = intranet
    live.app.state["worker"].backoff = (30,)  # a retry would leave the document queued past the wait below
    cases = {
        f"http://127.0.0.1:{closed_port()}/help": "connection refused",
        "http://no-such-host.invalid/help": "does not exist",
        f"{site.base}/missing": "HTTP 404 (page not found)",
    }
    docs = {url: api.ok("POST", docs_path(api, bot) + "/url", 202, json={"url": url}) for url in cases}
    for url, reason in cases.items():
        done = wait_done(api, bot, docs[url]["id"], timeout=20, statuses=("error",))
        assert reason in done["error"], done
    assert site.hits["/missing"] == 1
    assert count_rows(live.settings, "SELECT count(*) FROM jobs WHERE status = 'queued'") == 0  # no retry due
