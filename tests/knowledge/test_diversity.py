"""At most PER_PAGE chunks of one page in the final top k: a long page whose every section
speaks of the question cannot fill the results when another page matches too."""

from __future__ import annotations

from modelpilot.rag import retrieve
from tests.knowledge.conftest import add_text, search, wait_done

COUNTRIES = ["Germany", "France", "Belgium", "Spain", "Italy", "Austria", "Denmark", "Poland"]
# One section a country, each long enough to be a chunk of its own, all on delivery costs and times.
LONG_PAGE = "\n\n".join(
    f"## Delivery to {country}\n\n"
    f"Delivery to {country} costs 6 euros for a standard parcel and 14 euros for express delivery. "
    f"Standard delivery to {country} takes three to five working days; express delivery takes one to two. "
    f"Parcels to {country} are handed to the local carrier, who tries delivery twice before leaving a card. "
    f"Delivery costs to {country} are waived on orders over 80 euros, and every delivery can be tracked "
    f"online from the day the parcel leaves the warehouse until it is delivered to the door in {country}. "
    f"Large items delivered to {country} travel by pallet, which adds two days to the delivery time."
    for country in COUNTRIES)
OTHER_PAGE = ("Collecting in person: orders can be picked up from the Rotterdam shop the next day, "
              "free of any delivery cost.")
QUESTION = "how much does delivery cost and how long does it take"


def _index(api, bot: str) -> tuple[str, str]:
    long_doc = add_text(api, bot, "Delivery rates", LONG_PAGE)["id"]
    other_doc = add_text(api, bot, "Collecting in person", OTHER_PAGE)["id"]
    assert wait_done(api, bot, long_doc)["chunk_count"] >= 5  # more chunks than any k below
    assert wait_done(api, bot, other_doc)["status"] == "indexed"
    return long_doc, other_doc


def test_a_long_page_cannot_fill_the_top_k(owner, bot, monkeypatch) -> None:
    long_doc, other_doc = _index(owner, bot)
    k = 3
    # Without the limit the long page takes every place: the case the limit is for.
    monkeypatch.setattr(retrieve, "PER_PAGE", None)
    assert [hit["document_id"] for hit in search(owner, bot, QUESTION, k=k)] == [long_doc] * k
    monkeypatch.setattr(retrieve, "PER_PAGE", 2)
    docs = [hit["document_id"] for hit in search(owner, bot, QUESTION, k=k)]
    assert docs.count(long_doc) == 2 and other_doc in docs and len(docs) == k
    monkeypatch.setattr(retrieve, "PER_PAGE", 1)
    assert [hit["document_id"] for hit in search(owner, bot, QUESTION, k=k)] == [long_doc, other_doc]


def test_the_default_limit_holds_in_explain_too(owner, bot) -> None:
    long_doc, other_doc = _index(owner, bot)
    found = owner.ok("GET", f"/api/v1/workspaces/{owner.ws}/chatbots/{bot}/search",
                     params={"q": QUESTION, "k": 5, "explain": 1})
    docs = [hit["document_id"] for hit in found["results"]]
    assert found["per_page"] == retrieve.PER_PAGE
    assert docs.count(long_doc) == retrieve.PER_PAGE and other_doc in docs
    # The long page's best chunks come first, in fused order; the other page keeps its place.
    fused = [hit["fused_score"] for hit in found["results"]]
    assert fused == sorted(fused, reverse=True)


def test_a_search_reads_the_chunks_twice_at_most_when_one_page_fills_the_candidates(owner, bot, monkeypatch) -> None:
    """Every candidate on one page: the page's limit leaves places empty, and the rest of the
    candidates are read in one more read, not a few rows at a time."""
    longer = LONG_PAGE + "\n\n" + LONG_PAGE.replace("Delivery to", "Shipping to")
    doc = add_text(owner, bot, "Delivery rates", longer)["id"]
    assert wait_done(owner, bot, doc)["chunk_count"] >= 12  # a few rows a read would take 4 or more reads
    reads = []
    real = retrieve.store.chunks_by_rowid

    async def counted(conn, workspace_id, rowids):
        reads.append(len(rowids))
        return await real(conn, workspace_id, rowids)

    monkeypatch.setattr(retrieve.store, "chunks_by_rowid", counted)
    hits = search(owner, bot, QUESTION, k=5)
    assert [hit["document_id"] for hit in hits] == [doc] * retrieve.PER_PAGE
    assert len(reads) == 2, reads
