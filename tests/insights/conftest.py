from __future__ import annotations

import pytest

from modelpilot.rag import retrieve as rag
from tests.inbox.conftest import desk, desk_factory  # noqa: F401 (fixtures: a help desk with a widget bot)


@pytest.fixture
def knows_opening_hours(monkeypatch) -> None:
    """Retrieval finds a passing chunk only for questions about opening hours."""
    found = rag.RetrievedChunk(chunk_id="c1", document_id="d1", title="Opening hours", score=0.9,
                               text="We open at 9 and close at 17 on weekdays.")

    async def retrieve(db, workspace_id, bot, query, *, top_k=None):
        return [found] if "hours" in query else []

    monkeypatch.setattr(rag, "retrieve", retrieve)
