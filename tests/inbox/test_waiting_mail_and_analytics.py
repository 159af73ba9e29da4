"""The e-mail about a conversation waiting too long (real SMTP server), and the handoff figures
in the usage analytics."""

from __future__ import annotations

import time

from modelpilot.core.database import connect_sync_for
from tests.mail_support import body_of, smtp_inbox  # noqa: F401 (fixture)

SECOND = "second-visitor-session-000000001"
THIRD = "third-visitor-session-0000000001"
SUBJECT = "A visitor of Helper is waiting for a person"


def waiting_mails(inbox) -> list:
    return [m for m in inbox.messages if m["Subject"] == SUBJECT]


def test_opted_in_agents_get_one_mail_per_waiting_conversation(desk_factory, smtp_inbox) -> None:
    desk = desk_factory(handoff_notify_minutes=0, handoff_notify_check_seconds=0.5, **smtp_inbox.settings())
    members = f"/api/v1/workspaces/{desk.ws}/members/me"
    desk.anna.ok("PATCH", members, json={"notify_waiting": True})
    desk.viewer.ok("PATCH", members, json={"notify_waiting": True})  # a viewer cannot answer: no mail
    # The message comes first: with a zero-minute threshold the mail may leave the moment the
    # conversation waits, and it must already show what the visitor said.
    desk.visitor_says("My card was charged twice")
    desk.ask_for_person(page_url="https://shop.example.com/checkout")
    conversation = desk.waiting_id()
    deadline = time.monotonic() + 20
    while not waiting_mails(smtp_inbox):
        assert time.monotonic() < deadline, "no waiting mail"
        time.sleep(0.1)
    time.sleep(2)  # four more checks: the same wait is not announced again
    [mail] = waiting_mails(smtp_inbox)
    assert mail["To"] == "anna@example.com"
    body = body_of(mail)
    assert conversation in body and "https://shop.example.com/checkout" in body
    assert "My card was charged twice" in body


def _set_times(desk, conversation_id: str, asked: str, answered: str | None) -> None:
    conn = connect_sync_for(desk.live.settings)
    try:
        conn.execute("UPDATE conversations SET handoff_at = ?, first_human_reply_at = ? WHERE id = ?",
                     (asked, answered, conversation_id))
    finally:
        conn.close()


def test_usage_analytics_count_handoffs_human_handled_and_time_to_reply(desk) -> None:
    desk.ask_for_person()
    desk.ask_for_person(SECOND)
    desk.visitor_says("talk to someone", THIRD)
    items = desk.inbox(status="waiting")["items"]
    first, second, third = (item["id"] for item in items)
    desk.anna.ok("POST", desk.conv(first, "messages"), json={"text": "Hi!"})
    desk.anna.ok("POST", desk.conv(second, "messages"), json={"text": "Hello!"})
    desk.anna.ok("POST", desk.conv(second, "release"))
    desk.ask_for_person(SECOND)  # asks again: a second handoff of the same conversation
    day = items[0]["waiting_since"][:10]
    # Known waits (the clock of a test is too quick to show them): 30 s and 90 s.
    _set_times(desk, first, f"{day}T10:00:00.000Z", f"{day}T10:00:30.000Z")
    _set_times(desk, second, f"{day}T11:00:00.000Z", f"{day}T11:01:30.000Z")
    usage = f"/api/v1/workspaces/{desk.ws}/analytics/usage"
    by_day = desk.owner.ok("GET", usage, params={"group_by": "day"})
    [today] = [g for g in by_day["groups"] if g["key"] == day]
    for figures in (today, by_day["totals"]):
        assert figures["handoffs"] == 4
        assert figures["human_handled"] == 2
        assert figures["first_human_reply_seconds_p50"] == 30  # nearest rank of [30, 90]
    by_bot = desk.owner.ok("GET", usage, params={"group_by": "chatbot"})
    [bot] = by_bot["groups"]
    assert bot["key"] == desk.bot["id"] and bot["handoffs"] == 4 and bot["human_handled"] == 2
    _set_times(desk, third, f"{day}T12:00:00.000Z", f"{day}T12:02:00.000Z")
    again = desk.owner.ok("GET", usage, params={"group_by": "day"})["totals"]
    assert again["first_human_reply_seconds_p50"] == 90  # the middle of [30, 90, 120]
    elsewhere = desk.owner.ok("GET", usage, params={"group_by": "day", "from": "2001-01-01", "to": "2001-01-02"})
    assert elsewhere["groups"] == [] and elsewhere["totals"]["handoffs"] == 0
