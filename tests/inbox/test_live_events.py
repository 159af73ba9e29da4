"""Live events: the visitor's widget stream and the inbox's workspace stream, over real HTTP."""

from __future__ import annotations

import time

from tests.widget_support import HOST_PAGE_ORIGIN, SESSION, from_page

OTHER = "fedcba9876543210fedcba9876543210"


def wait_until(check, timeout: float = 10.0) -> None:
    deadline = time.monotonic() + timeout
    while not check():
        assert time.monotonic() < deadline, "condition not reached"
        time.sleep(0.05)


def test_an_operator_reply_reaches_the_open_widget_stream(desk) -> None:
    desk.ask_for_person()
    stream = desk.widget_stream()
    assert stream.status == 200
    assert stream.headers["content-type"].startswith("text/event-stream")
    assert stream.headers["access-control-allow-origin"] == HOST_PAGE_ORIGIN
    conversation = desk.waiting_id()
    desk.anna.ok("POST", desk.conv(conversation, "messages"), json={"text": "Hello, this is Anna."})
    status = stream.next()
    assert status["data"] == {"status": "human", "assignee_name": "anna"}
    took_over = stream.next()
    assert took_over["data"]["message"]["role"] == "system" and took_over["data"]["message"]["content"] == "anna took over"
    reply = stream.next()
    message = reply["data"]["message"]
    assert (message["role"], message["content"], message["author_name"]) == ("operator", "Hello, this is Anna.", "anna")
    assert message["id"] and message["created_at"]
    assert status["id"] < took_over["id"] < reply["id"]
    desk.anna.ok("POST", desk.conv(conversation, "release"))
    assert stream.next()["data"] == {"status": "bot", "assignee_name": None}
    assert stream.next()["data"]["message"]["content"] == "Back to the bot"


def test_the_stream_carries_nothing_of_other_sessions_and_pings_when_idle(desk) -> None:
    mine = desk.widget_stream()
    desk.ask_for_person(OTHER)
    desk.anna.ok("POST", desk.conv(desk.waiting_id(), "messages"), json={"text": "For the other visitor"})
    wait_until(lambda: "ping" in mine.comments)
    assert mine.pending() == []


def test_a_reconnected_stream_replays_everything_it_missed_in_order(desk) -> None:
    desk.ask_for_person()
    conversation = desk.waiting_id()
    first = desk.widget_stream()
    desk.anna.ok("POST", desk.conv(conversation, "messages"), json={"text": "one"})
    seen = [first.next(), first.next(), first.next()]
    assert seen[-1]["data"]["message"]["content"] == "one"
    first.close()  # the network drops
    for text in ("two", "three"):
        desk.anna.ok("POST", desk.conv(conversation, "messages"), json={"text": text})
    again = desk.widget_stream(last_event_id=seen[-1]["id"])
    replayed = [again.next(), again.next()]
    assert [f["data"]["message"]["content"] for f in replayed] == ["two", "three"]
    desk.anna.ok("POST", desk.conv(conversation, "messages"), json={"text": "four"})
    live = again.next()
    assert live["data"]["message"]["content"] == "four"
    ids = [f["id"] for f in seen + replayed + [live]]
    assert ids == sorted(set(ids))


def test_the_history_says_where_the_stream_resumes(desk) -> None:
    desk.ask_for_person()
    desk.anna.ok("POST", desk.conv(desk.waiting_id(), "messages"), json={"text": "before the page loaded"})
    history = desk.history()
    assert history["messages"][-1]["content"] == "before the page loaded"
    reader = desk.widget_stream(last_event_id=history["last_event_id"])
    desk.anna.ok("POST", desk.conv(history_conversation(desk), "messages"),
                 json={"text": "after"})
    assert reader.next()["data"]["message"]["content"] == "after"
    reader_by_query = desk.visitor.stream(
        "GET", desk.widget("events"), params={"session_id": SESSION, "last_event_id": "0"}, headers=from_page())
    with reader_by_query as response:
        text = ""
        for chunk in response.iter_text():
            text += chunk
            if "after" in text:
                break
    assert "Asked for a person" in text and "before the page loaded" in text


def history_conversation(desk) -> str:
    return desk.inbox(status="human")["items"][0]["id"]


def test_the_inbox_stream_shows_waiting_messages_and_assignment_live(desk) -> None:
    stream = desk.inbox_stream(desk.anna)
    assert stream.status == 200
    desk.ask_for_person()
    waiting = stream.next()["data"]
    assert waiting["type"] == "conversation.waiting" and waiting["status"] == "waiting"
    assert waiting["chatbot_id"] == desk.bot["id"] and waiting["counts"]["waiting"] == 1
    note = stream.next()["data"]
    assert note["type"] == "conversation.message" and note["message"]["role"] == "system"
    desk.visitor_says("Hello? Anyone?")
    said = stream.next()["data"]
    assert said["type"] == "conversation.message" and said["message"]["role"] == "user"
    assert said["message"]["content"] == "Hello? Anyone?" and said["conversation_id"] == waiting["conversation_id"]
    desk.ben.ok("POST", desk.conv(waiting["conversation_id"], "assign"), json={})
    assigned = stream.next()["data"]
    assert assigned["type"] == "conversation.assigned" and assigned["assignee"]["name"] == "ben"
    assert assigned["counts"] == {"waiting": 0, "mine": 0, "human": 1}
    desk.ben.ok("POST", desk.conv(waiting["conversation_id"], "close"))
    frames = [stream.next()["data"], stream.next()["data"], stream.next()["data"]]
    assert "conversation.closed" in [f["type"] for f in frames]


def test_a_viewer_may_listen_and_another_workspace_may_not(desk) -> None:
    assert desk.inbox_stream(desk.viewer).status == 200
    stranger = desk.inbox_stream(desk.visitor)  # no session at all
    assert stranger.status == 401


def test_a_closed_stream_leaves_no_subscription_behind(desk) -> None:
    bus = desk.live.app.state["events"]
    before = bus.subscriber_count()
    readers = [desk.widget_stream(), desk.widget_stream(OTHER), desk.inbox_stream(desk.anna)]
    wait_until(lambda: bus.subscriber_count() == before + 3)
    for reader in readers:
        reader.close()
    wait_until(lambda: bus.subscriber_count() == before)


def test_a_refused_origin_gets_no_stream(desk) -> None:
    desk.owner.ok("PATCH", f"/api/v1/workspaces/{desk.ws}/chatbots/{desk.bot['id']}",
                  json={"allowed_origins": [HOST_PAGE_ORIGIN]})
    response = desk.visitor.get(desk.widget("events"), params={"session_id": SESSION},
                                headers=from_page("https://evil.example.net"))
    assert response.status_code == 403
    bad = desk.visitor.get(desk.widget("events"), params={"session_id": "short"}, headers=from_page())
    assert bad.status_code == 400 and "session_id" in bad.text
