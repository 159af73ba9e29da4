"""The inbox's own logic, run in Chromium from the modules the server sends: the order of the
inbox, the ticking wait, business-hours parsing and inserting a saved reply at the caret."""

from __future__ import annotations

import pytest

pytestmark = pytest.mark.browser


@pytest.fixture
def page(server, tab):
    tab.goto(f"{server.url}/api-docs.html")
    return tab


def run(page, module: str, body: str, arg=None):
    return page.evaluate(f"async (arg) => {{ const m = await import('/js/pages/{module}'); {body} }}", arg)


def test_waiting_first_oldest_on_top_then_mine_then_the_rest_by_last_message(page) -> None:
    items = [
        {"id": "bot-old", "status": "bot", "assignee": None, "last_message_at": "2026-01-01T10:00:00Z"},
        {"id": "wait-short", "status": "waiting", "wait_seconds": 30, "assignee": None},
        {"id": "other-human", "status": "human", "assignee": {"id": "u2", "name": "Ben"}, "last_message_at": "2026-01-01T12:00:00Z"},
        {"id": "mine", "status": "human", "assignee": {"id": "me", "name": "Anna"}, "last_message_at": "2026-01-01T09:00:00Z"},
        {"id": "wait-long", "status": "waiting", "wait_seconds": 900, "assignee": None},
    ]
    got = run(page, "inbox.js", "const p = m.partition(arg, 'me'); return [p.waiting, p.mine, p.others].map(l => l.map(c => c.id));", items)
    assert got == [["wait-long", "wait-short"], ["mine"], ["other-human", "bot-old"]]


def test_wait_time_reads_as_people_say_it(page) -> None:
    got = run(page, "inbox.js", "return arg.map(m.formatWait);", [0, 59.9, 65, 3599, 3600 + 3 * 60, 50 * 3600, -4])
    assert got == ["0 s", "59 s", "1 min 05 s", "59 min 59 s", "1 h 03 min", "2 days", "0 s"]


def test_business_hours_parse_round_trip_and_refuse_nonsense(page) -> None:
    good = run(page, "bot_handoff.js", "return arg.map(m.parseRanges);",
               ["09:00-17:00", " 9:00 – 12:30 , 13:00-17:00 ", "", "08:00 to 24:00"])
    assert good == [[["09:00", "17:00"]], [["09:00", "12:30"], ["13:00", "17:00"]], [], [["08:00", "24:00"]]]
    bad = run(page, "bot_handoff.js", "return arg.map(m.parseRanges);", ["17:00-09:00", "9-5", "25:00-26:00", "09:00-17:00,", "closed"])
    assert bad == [None] * 5
    assert run(page, "bot_handoff.js", "return m.formatRanges(m.parseRanges(arg));", "9:00-12:00, 13:00-17:00") == "09:00-12:00, 13:00-17:00"


def test_saved_reply_goes_in_at_the_caret(page) -> None:
    got = run(page, "inbox_conversation.js", """
      const t = document.createElement('textarea'); document.body.append(t);
      const out = [];
      t.value = 'Hello! Best regards'; t.setSelectionRange(6, 6);
      m.insertAtCaret(t, 'We open at 9.'); out.push([t.value, t.selectionStart, document.activeElement === t]);
      t.value = 'Replace THIS please'; t.setSelectionRange(8, 12);
      m.insertAtCaret(t, 'that'); out.push([t.value, t.selectionStart, true]);
      t.value = ''; m.insertAtCaret(t, 'Hi'); out.push([t.value, t.selectionStart, true]);
      return out;""")
    assert got == [["Hello! We open at 9. Best regards", 20, True], ["Replace that please", 12, True], ["Hi", 2, True]]
