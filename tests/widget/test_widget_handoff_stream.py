"""The widget's event stream (what operators write), driven by scripted responses: after the
stream ends or a reconnect is refused, the widget connects again with ?last_event_id= (a
cross-origin EventSource cannot be relied on to send the Last-Event-ID header), backing off,
and a replayed event shows once."""

from __future__ import annotations

import json

import pytest

from tests.browser_support import HostSite, embed_page, open_widget
from tests.widget_support import make_bot

pytestmark = pytest.mark.browser

SESSION = "ab" * 16


def frame(event_id: int, data: dict) -> str:
    return f"id: {event_id}\ndata: {json.dumps(data)}\n\n"


def operator(message_id: str, text: str) -> dict:
    return {"message": {"id": message_id, "role": "operator", "content": text, "author_name": "Anna",
                        "created_at": "2026-01-01T10:00:00Z"}}


def test_stream_resumes_from_the_last_event_and_shows_each_message_once(server, owner, host_site: HostSite, tab) -> None:
    bot = make_bot(owner, name="Shop helper", allowed_origins=[host_site.origin])
    calls: list[dict] = []

    def events(route) -> None:
        request = route.request
        calls.append(request.url)
        headers = {"Access-Control-Allow-Origin": host_site.origin, "Cache-Control": "no-store"}
        n = len(calls)
        if n == 1:  # the first connection delivers one event, then the connection ends
            body = frame(5, operator("m1", "First reply"))
        elif n == 2:  # the reconnect is refused
            route.fulfill(status=503, headers=headers, body="busy")
            return
        elif n == 3:  # the next one: event 5 again (replayed), then new ones
            body = (frame(5, operator("m1", "First reply")) + frame(6, operator("m2", "Second reply"))
                    + frame(7, {"status": "human", "assignee_name": "Anna"}))
        else:
            body = ": ping\n\n"
        route.fulfill(status=200, headers={**headers, "Content-Type": "text/event-stream"}, body=body)

    def history(route) -> None:
        route.fulfill(status=200, headers={"Access-Control-Allow-Origin": host_site.origin},
                      content_type="application/json", body=json.dumps({"messages": [], "status": "bot", "assignee_name": None}))

    tab.route("**/api/v1/widget/*/events?*", events)
    tab.route("**/api/v1/widget/*/history?*", history)
    tab.add_init_script(f"localStorage.setItem('modelpilot:{bot['id']}:session', '{SESSION}')")
    tab.goto(host_site.page("/", embed_page(server.url, bot["id"])))
    open_widget(tab)
    operators = tab.locator("modelpilot-widget .mp-operator")
    operators.filter(has_text="Second reply").wait_for()
    tab.locator("modelpilot-widget .mp-state", has_text="With Anna").wait_for()
    texts = operators.locator(".mp-bubble").all_text_contents()
    assert texts == ["First reply", "Second reply"], "the replayed event 5 is shown once"
    assert operators.first.locator(".mp-author").text_content() == "Anna"
    assert f"session_id={SESSION}" in calls[0] and "last_event_id" not in calls[0]
    assert "last_event_id=5" in calls[1], "the reconnect says where the stream stopped"
    assert "last_event_id=5" in calls[2], "and so does the one after a refusal"


def test_closing_the_window_closes_the_stream_and_reopening_resumes(server, owner, host_site: HostSite, tab) -> None:
    bot = make_bot(owner, name="Shop helper", allowed_origins=[host_site.origin])
    calls: list[str] = []

    def events(route) -> None:
        calls.append(route.request.url)
        body = frame(3, operator("m1", "Hello there")) if len(calls) == 1 else ": ping\n\n"
        route.fulfill(status=200, headers={"Access-Control-Allow-Origin": host_site.origin, "Content-Type": "text/event-stream"}, body=body)

    tab.route("**/api/v1/widget/*/events?*", events)
    tab.add_init_script(f"localStorage.setItem('modelpilot:{bot['id']}:session', '{SESSION}')")
    tab.goto(host_site.page("/", embed_page(server.url, bot["id"])))
    open_widget(tab)
    tab.locator("modelpilot-widget .mp-operator", has_text="Hello there").wait_for()
    # A stream that ends is followed by one reconnect at a time, each resuming after event 3.
    for _ in range(100):
        if len(calls) >= 2:
            break
        tab.wait_for_timeout(100)
    tab.keyboard.press("Escape")
    tab.locator("modelpilot-widget .mp-window").wait_for(state="hidden")
    closed_at = len(calls)
    tab.wait_for_timeout(2500)  # longer than the backoff: a closed window must not reconnect
    assert len(calls) == closed_at, "the stream stays closed while the window is"
    open_widget(tab)
    for _ in range(100):
        if len(calls) > closed_at:
            break
        tab.wait_for_timeout(100)
    assert len(calls) == closed_at + 1, calls
    assert all("last_event_id=3" in url for url in calls[1:])
    assert tab.locator("modelpilot-widget .mp-operator").count() == 1
