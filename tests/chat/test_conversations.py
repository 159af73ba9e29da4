"""Conversation logs: list (filters, search, cursor pages), detail, CSV/JSONL export, session API."""

from __future__ import annotations

import asyncio
import csv
import io
import json

import pytest

from modelpilot.chat import service as chat_service
from modelpilot.core.database import open_database
from modelpilot.core.errors import ApiError
from tests.support import Api


def conv_path(api: Api, suffix: str = "") -> str:
    return f"/api/v1/workspaces/{api.ws}/conversations{suffix}"


@pytest.fixture
def logs(owner) -> dict:
    """Two bots; five conversations (the third one mentions zebras), the last with two turns."""
    bots = [owner.create_bot(owner.ws, name="One"), owner.create_bot(owner.ws, name="Two")]
    ids = []
    for number in range(5):
        text = "Do you sell zebras?" if number == 2 else f"Question {number} about opening hours"
        ids.append(owner.chat(owner.ws, bots[number % 2]["id"], text, session_id=f"s{number}")[-1]["conversation_id"])
    owner.chat(owner.ws, bots[0]["id"], "And a follow-up", session_id="s4")
    return {"bots": bots, "ids": ids}


def test_list_is_newest_first_and_pages_with_a_cursor(owner, logs):
    seen, cursor = [], None
    while True:
        params = {"limit": 2, **({"cursor": cursor} if cursor else {})}
        page = owner.ok("GET", conv_path(owner), params=params)
        assert len(page["items"]) <= 2
        seen += [item["id"] for item in page["items"]]
        cursor = page["next_cursor"]
        if not cursor:
            break
    assert seen == list(reversed(logs["ids"]))
    first = owner.ok("GET", conv_path(owner), params={"limit": 1})["items"][0]
    assert first["message_count"] == 4 and first["preview"] == "Question 4 about opening hours"
    assert first["chatbot_name"] == "One" and first["channel"] == "preview"


def test_conversation_search_ignores_accents_both_ways(owner):
    bot = owner.create_bot(owner.ws, name="Cafe")["id"]
    accented = owner.chat(owner.ws, bot, "Is the crème brûlée café open?", session_id="a")[-1]["conversation_id"]
    plain = owner.chat(owner.ws, bot, "Is the creme brulee cafe open?", session_id="b")[-1]["conversation_id"]
    for query in ("creme brulee", "CRÈME BRÛLÉE", "cafe"):
        found = {c["id"] for c in owner.ok("GET", conv_path(owner), params={"q": query})["items"]}
        assert found == {accented, plain}, query


def test_filters_by_bot_text_and_dates(owner, logs):
    two = logs["bots"][1]["id"]
    by_bot = owner.ok("GET", conv_path(owner), params={"chatbot_id": two})["items"]
    assert {c["id"] for c in by_bot} == {logs["ids"][1], logs["ids"][3]}
    found = owner.ok("GET", conv_path(owner), params={"q": "ZEBRAS"})["items"]
    assert [c["id"] for c in found] == [logs["ids"][2]]
    assert owner.ok("GET", conv_path(owner), params={"q": 'zebra" OR *'})["items"] == []
    assert owner.ok("GET", conv_path(owner), params={"from": "2000-01-01", "to": "2000-12-31"})["items"] == []
    today = owner.ok("GET", conv_path(owner, "/" + logs["ids"][0]))["started_at"][:10]
    assert len(owner.ok("GET", conv_path(owner), params={"from": today, "to": today})["items"]) == 5


@pytest.mark.parametrize("params, field", [({"cursor": "garbage!"}, "cursor"), ({"from": "yesterday"}, "from"),
                                           ({"from": "2025-02-01", "to": "2025-01-01"}, "to"),
                                           ({"limit": 0}, "limit")])
def test_bad_list_parameters_are_400_naming_the_field(owner, params, field):
    response = owner.get(conv_path(owner), params=params)
    assert response.status_code == 400, response.text
    assert field in response.text


def test_detail_has_every_message_with_metadata(owner, logs):
    detail = owner.ok("GET", conv_path(owner, "/" + logs["ids"][4]))
    assert detail["session_id"] == "s4" and detail["chatbot_id"] == logs["bots"][0]["id"]
    assert [m["role"] for m in detail["messages"]] == ["user", "assistant", "user", "assistant"]
    answer = detail["messages"][1]
    assert {"sources", "tokens_in", "tokens_out", "cost", "latency_first_ms", "latency_total_ms", "feedback",
            "model", "status"} <= set(answer)
    assert answer["model"] == "builtin/extractive" and answer["status"] == "complete"
    assert owner.get(conv_path(owner, "/nope")).status_code == 404


def test_export_csv_and_jsonl_hold_every_message(owner, logs):
    response = owner.get(conv_path(owner, "/export"), params={"format": "csv"})
    assert response.status_code == 200 and response.headers["content-type"].startswith("text/csv")
    assert "attachment" in response.headers["content-disposition"]
    rows = list(csv.DictReader(io.StringIO(response.text)))
    assert len(rows) == 12 and {r["role"] for r in rows} == {"user", "assistant"}
    assert rows[0]["conversation_id"] == logs["ids"][4] and rows[0]["content"] == "Question 4 about opening hours"
    lines = owner.get(conv_path(owner, "/export"), params={"format": "jsonl", "q": "zebras"}).text.splitlines()
    records = [json.loads(line) for line in lines]
    assert [r["role"] for r in records] == ["user", "assistant"] and records[0]["content"] == "Do you sell zebras?"
    assert isinstance(records[1]["sources"], list)
    assert owner.get(conv_path(owner, "/export"), params={"format": "xml"}).status_code == 400


def test_export_defuses_spreadsheet_formulas(owner):
    bot = owner.create_bot(owner.ws)
    owner.chat(owner.ws, bot["id"], "=HYPERLINK(\"http://evil\")")
    rows = list(csv.DictReader(io.StringIO(owner.get(conv_path(owner, "/export")).text)))
    assert rows[0]["content"].startswith("'=")


def test_session_history_and_feedback_for_the_widget(owner, server):
    bot = owner.create_bot(owner.ws)
    done = owner.chat(owner.ws, bot["id"], "hello", session_id="visitor-1")[-1]

    async def scenario() -> tuple[list, list]:
        db = open_database(server.settings, readers=1)
        await db.open()
        try:
            # The chat above came from the dashboard: its session lives in the preview channel.
            await chat_service.set_feedback(db, owner.ws, bot["id"], "preview", "visitor-1", done["message_id"], -1)
            history = [message.public() for message in
                       await chat_service.session_history(db, owner.ws, bot["id"], "preview", "visitor-1")]
            refusals = []
            for args in [("preview", "visitor-2", done["message_id"], 1), ("preview", "visitor-1", "unknown", 1),
                         ("preview", "visitor-1", history[0]["id"], 1), ("preview", "visitor-1", done["message_id"], 5),
                         ("widget", "visitor-1", done["message_id"], 1)]:
                try:
                    await chat_service.set_feedback(db, owner.ws, bot["id"], *args)
                except ApiError as exc:
                    refusals.append(exc.status)
            return history, refusals
        finally:
            await db.close()

    history, refusals = asyncio.run(scenario())
    assert [(m["role"], m["content"]) for m in history][0] == ("user", "hello")
    assert history[1]["id"] == done["message_id"] and history[1]["feedback"] == -1
    assert refusals == [404, 404, 404, 400, 404]  # the widget channel does not see a preview session


def test_csv_export_says_its_charset_once_and_prints_costs_as_fixed_decimals(owner, logs, server):
    from modelpilot.core.database import connect_sync_for

    conn = connect_sync_for(server.settings)
    try:  # a real price per message is a tiny float, which repr() prints in exponent form
        conn.execute("UPDATE messages SET cost = 6.0899999999999996e-05 WHERE role = 'assistant'")
    finally:
        conn.close()
    response = owner.get(conv_path(owner, "/export"), params={"format": "csv"})
    assert response.headers["content-type"] == "text/csv; charset=utf-8"
    costs = {row["role"]: row["cost"] for row in csv.DictReader(io.StringIO(response.text))}
    assert costs["assistant"] == "0.00006090", costs
    assert costs["user"] in ("", "0.00000000"), costs
