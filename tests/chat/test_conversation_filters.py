"""The conversation log's rows say what was asked, how it was rated and whether it went
unanswered, and the log filters by feedback and by unanswered."""

from __future__ import annotations

import pytest

from modelpilot.core.database import connect_sync_for
from modelpilot.rag import retrieve as rag


@pytest.fixture
def knows_opening_hours(monkeypatch) -> None:
    """Retrieval finds a passing chunk only for questions about opening hours."""
    found = rag.RetrievedChunk(chunk_id="c1", document_id="d1", title="Opening hours", score=0.9,
                               text="We open at 9 and close at 17 on weekdays.")

    async def retrieve(db, workspace_id, bot, query, *, top_k=None, scope=None):
        return [found] if "hours" in query else []

    monkeypatch.setattr(rag, "retrieve", retrieve)


def conversations(api, **params) -> list[dict]:
    return api.ok("GET", f"/api/v1/workspaces/{api.ws}/conversations", params=params)["items"]


def rate(server, conversation_id: str, rating: int) -> None:
    conn = connect_sync_for(server.settings)
    try:
        conn.execute("UPDATE messages SET feedback = ? WHERE conversation_id = ? AND role = 'assistant'",
                     (rating, conversation_id))
    finally:
        conn.close()


def test_rows_show_first_question_feedback_and_unanswered_and_filter_by_them(owner, server, knows_opening_hours):
    bot = owner.create_bot(owner.ws)
    answered = owner.chat(owner.ws, bot["id"], "What are your opening hours?", session_id="a")[-1]["conversation_id"]
    owner.chat(owner.ws, bot["id"], "And on Sundays, same hours?", session_id="a")
    unanswered = owner.chat(owner.ws, bot["id"], "Do you sell zebras?", session_id="b")[-1]["conversation_id"]
    quiet = owner.chat(owner.ws, bot["id"], "Opening hours at Easter?", session_id="c")[-1]["conversation_id"]
    rate(server, answered, 1)
    rate(server, unanswered, -1)

    rows = {row["id"]: row for row in conversations(owner)}
    assert rows[answered]["first_question"] == "What are your opening hours?"
    assert rows[answered]["message_count"] == 4 and rows[answered]["channel"] == "preview"
    assert (rows[answered]["feedback"], rows[answered]["unanswered"]) == ("up", False)
    assert (rows[unanswered]["feedback"], rows[unanswered]["unanswered"]) == ("down", True)
    assert (rows[quiet]["feedback"], rows[quiet]["unanswered"]) == (None, False)

    assert [r["id"] for r in conversations(owner, feedback="down")] == [unanswered]
    assert [r["id"] for r in conversations(owner, feedback="up")] == [answered]
    assert [r["id"] for r in conversations(owner, feedback="none")] == [quiet]
    assert [r["id"] for r in conversations(owner, unanswered="true")] == [unanswered]
    assert conversations(owner, unanswered="true", feedback="up") == []
    export = owner.get(f"/api/v1/workspaces/{owner.ws}/conversations/export", params={"unanswered": "true"}).text
    assert "zebras" in export and "opening hours" not in export


def test_a_bad_feedback_filter_is_a_400_naming_it(owner):
    response = owner.get(f"/api/v1/workspaces/{owner.ws}/conversations", params={"feedback": "great"})
    assert response.status_code == 400
    assert response.json()["error"]["details"][0]["field"] == "feedback"
