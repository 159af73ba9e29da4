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


def test_one_workspace_stream_for_the_shell_keeps_badge_and_title_and_comes_back(server, owner, tab) -> None:
    """live.js, driven by scripted /events responses: the count in the events sets the badge and
    the tab title; a refused reconnect is retried; moving between pages keeps the one stream."""
    import json
    import re

    from playwright.sync_api import expect

    from tests.support import PASSWORD

    state = {"waiting": 2}
    calls: list[str] = []

    def events(route) -> None:
        calls.append(route.request.url)
        if len(calls) == 2:  # the browser's reconnect is refused; what comes next says 3
            state["waiting"] = 3
            route.fulfill(status=503, body="busy")
            return
        data = {"type": "conversation.waiting", "conversation_id": "c1", "chatbot_id": "b1", "status": "waiting",
                "assignee": None, "counts": {"waiting": state["waiting"], "mine": 0, "human": 0}}
        body = f"retry: 100\nid: {len(calls)}\ndata: {json.dumps(data)}\n\n"
        if len(calls) >= 3:
            body = f"retry: 600000\nid: {len(calls)}\ndata: {json.dumps(data)}\n\n: ping\n\n"
        route.fulfill(status=200, headers={"Content-Type": "text/event-stream"}, body=body)

    def inbox(route) -> None:
        route.fulfill(status=200, content_type="application/json",
                      body=json.dumps({"items": [], "next_cursor": None, "counts": {"waiting": state["waiting"], "mine": 0, "human": 0}}))

    tab.route(re.compile(r"/api/v1/workspaces/[^/]+/events"), events)
    tab.route(re.compile(r"/api/v1/workspaces/[^/]+/inbox\?"), inbox)
    tab.goto(f"{server.url}/#/login")
    tab.get_by_label("Email", exact=True).fill("owner@example.com")
    tab.get_by_label("Password", exact=True).fill(PASSWORD)
    tab.get_by_role("button", name="Log in").click()
    badge = tab.locator(".sidenav [data-badge=inbox]")
    # Checked on every frame: the count is 2 only until live.js has reconnected (a second or so).
    tab.wait_for_function("() => document.title === '(2) Overview · ModelPilot'"
                          " && document.querySelector('.sidenav [data-badge=inbox]').textContent === '2'")
    expect(badge).to_have_text("3")
    expect(tab).to_have_title("(3) Overview · ModelPilot")
    assert len(calls) == 3, calls  # ended, refused, then retried by live.js
    tab.get_by_role("link", name="Chatbots").click()
    expect(tab.get_by_role("heading", level=1)).to_have_text("Chatbots")
    expect(tab).to_have_title("(3) Chatbots · ModelPilot")
    expect(badge).to_have_text("3")
    tab.get_by_role("link", name=re.compile("^Inbox")).click()
    expect(tab.get_by_role("heading", level=1)).to_have_text("Inbox")
    assert len(calls) == 3, "pages share the shell's one stream"
    tab.get_by_role("button", name="Log out").click()
    expect(tab.get_by_role("heading", level=1)).to_have_text(re.compile("Log in"))
    expect(tab).to_have_title(re.compile(r"^Log in"))
