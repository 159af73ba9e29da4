"""The visitor asks for a person: by the button or a keyword, within business hours or not."""

from __future__ import annotations

from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from tests.widget_support import SESSION, from_page

OTHER = "fedcba9876543210fedcba9876543210"
DAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")


def day_in(zone: str, offset_days: int) -> str:
    return DAYS[(datetime.now(ZoneInfo(zone)) + timedelta(days=offset_days)).weekday()]


def test_the_button_puts_the_conversation_first_in_the_inbox(desk, fake_llm) -> None:
    calls = len(fake_llm.requests)
    assert desk.ask_for_person(page_url="https://shop.example.com/pricing") == {"status": "waiting"}
    inbox = desk.inbox(status="waiting")
    assert inbox["counts"]["waiting"] == 1
    [item] = inbox["items"]
    assert item["status"] == "waiting" and item["assignee"] is None and item["chatbot_name"] == "Helper"
    assert item["wait_seconds"] >= 0 and item["waiting_since"] and item["contact"] is None
    assert item["page_url"] == "https://shop.example.com/pricing"
    assert desk.history()["status"] == "waiting"
    assert len(fake_llm.requests) == calls, "asking for a person must not call the model"


@pytest.mark.parametrize("text", ["Can I talk to someone, please?", "HUMAN!", "Ich möchte eine echte   Person"])
def test_a_keyword_asks_for_a_person_and_the_model_is_not_called(desk, fake_llm, text) -> None:
    calls = len(fake_llm.requests)
    [done] = desk.visitor_says(text)
    assert done["done"] is True and done["status"] == "waiting" and done["conversation_id"]
    assert len(fake_llm.requests) == calls
    history = desk.history()
    assert history["status"] == "waiting"
    assert [(m["role"], m["content"]) for m in history["messages"]][0] == ("user", text)
    assert desk.waiting_id() == done["conversation_id"]


def test_a_keyword_inside_another_word_is_just_a_question(desk, fake_llm) -> None:
    calls = len(fake_llm.requests)
    events = desk.visitor_says("Is your packaging humane?")
    assert "".join(e.get("text", "") for e in events).startswith("Hello from the fake model")
    assert len(fake_llm.requests) == calls + 1
    assert desk.inbox(status="waiting")["items"] == []


def test_dashboard_preview_chat_takes_the_same_keyword_path(desk, fake_llm) -> None:
    calls = len(fake_llm.requests)
    done = desk.owner.chat(desk.ws, desk.bot["id"], "I want to talk to someone", session_id="preview-1")[-1]
    assert done["status"] == "waiting" and len(fake_llm.requests) == calls
    assert desk.waiting_id() == done["conversation_id"]


def test_messages_while_waiting_reach_operators_and_not_the_model(desk, fake_llm) -> None:
    desk.ask_for_person()
    calls = len(fake_llm.requests)
    [done] = desk.visitor_says("Are you there? My order 1234 never came.")
    assert done["status"] == "waiting" and done["message_id"]
    assert len(fake_llm.requests) == calls
    detail = desk.anna.ok("GET", desk.conv(done["conversation_id"]))
    assert detail["status"] == "waiting"
    assert detail["messages"][-1]["content"] == "Are you there? My order 1234 never came."
    assert desk.inbox()["items"][0]["last_message_preview"] == "Are you there? My order 1234 never came."


def test_a_bot_without_handoff_refuses_and_ignores_keywords(desk_factory, fake_llm) -> None:
    desk = desk_factory({"handoff": {"enabled": False}})
    response = desk.visitor.post(desk.widget("handoff"), json={"session_id": SESSION}, headers=from_page())
    assert response.status_code == 409 and response.json()["error"]["code"] == "handoff_disabled"
    assert response.headers["access-control-allow-origin"] == "https://shop.example.com"
    calls = len(fake_llm.requests)
    desk.visitor_says("human")
    assert len(fake_llm.requests) == calls + 1  # an ordinary question for the bot
    assert desk.visitor.ok("GET", desk.widget("config"), headers=from_page())["handoff"] is None


def test_the_widget_config_offers_the_button(desk) -> None:
    config = desk.visitor.ok("GET", desk.widget("config"), headers=from_page())
    assert config["handoff"] == {"enabled": True, "button_label": "Talk to a person"}


def test_outside_business_hours_the_visitor_gets_the_offline_message(desk_factory, fake_llm) -> None:
    zone = "Pacific/Auckland"
    hours = {"timezone": zone, "weekly": {day_in(zone, 1): [["00:00", "24:00"]]}}  # tomorrow only, there
    desk = desk_factory({"handoff": {"hours": hours, "offline_message": "We are back on Monday."}})
    assert desk.ask_for_person() == {"status": "offline", "offline_message": "We are back on Monday."}
    calls = len(fake_llm.requests)
    [done] = desk.visitor_says("talk to someone")
    assert done["status"] == "offline" and done["offline_message"] == "We are back on Monday."
    assert len(fake_llm.requests) == calls
    assert desk.history()["status"] == "bot"
    assert desk.inbox()["items"] == [] and desk.inbox()["counts"]["waiting"] == 0


def test_within_business_hours_the_visitor_waits(desk_factory) -> None:
    zone = "America/New_York"
    hours = {"timezone": zone, "weekly": {day_in(zone, 0): [["00:00", "24:00"]]}}
    desk = desk_factory({"handoff": {"hours": hours}})
    assert desk.ask_for_person() == {"status": "waiting"}


@pytest.mark.parametrize("hours, field, message", [
    ({"timezone": "Mars/Olympus", "weekly": {}}, "handoff.hours.timezone",
     "The time zone 'Mars/Olympus' is not known; use a name such as Europe/Berlin."),
    ({"timezone": "Europe/Berlin", "weekly": {"mon": [["17:00", "09:00"]]}}, "handoff.hours.weekly.mon",
     "A range must end after it starts (17:00 to 09:00)."),
    ({"timezone": "Europe/Berlin", "weekly": {"mon": [["9am", "5pm"]]}}, "handoff.hours.weekly.mon",
     'Each range must be ["HH:MM", "HH:MM"], e.g. ["09:00", "17:00"].'),
    ({"timezone": "Europe/Berlin", "weekly": {"someday": [["09:00", "17:00"]]}}, "handoff.hours.weekly",
     "The day 'someday' is not known; days are mon, tue, wed, thu, fri, sat, sun."),
])
def test_bad_business_hours_are_a_400_naming_the_field(desk, hours, field, message) -> None:
    response = desk.owner.patch(f"/api/v1/workspaces/{desk.ws}/chatbots/{desk.bot['id']}",
                                json={"handoff": {"enabled": True, "hours": hours}})
    assert response.status_code == 400, response.text
    details = {d["field"]: d["message"] for d in response.json()["error"]["details"]}
    assert details.get(field) == message  # a sentence in plain words, not "Handoff, hours, timezone unknown…"


def test_handoff_settings_round_trip(desk) -> None:
    hours = {"timezone": "Europe/Berlin", "weekly": {"mon": [["13:00", "17:00"], ["09:00", "12:00"]]}}
    bot = desk.owner.ok("PATCH", f"/api/v1/workspaces/{desk.ws}/chatbots/{desk.bot['id']}",
                        json={"handoff": {"enabled": True, "keywords": [" Mensch ", "mensch"], "hours": hours,
                                          "button_label": "Chat with us", "offline_message": "Later!"}})
    assert bot["handoff"] == {"enabled": True, "button_label": "Chat with us", "keywords": ["mensch"],
                              "hours": {"timezone": "Europe/Berlin",
                                        "weekly": {"mon": [["09:00", "12:00"], ["13:00", "17:00"]]}},
                              "offline_message": "Later!"}


def test_sessions_are_separate(desk) -> None:
    desk.ask_for_person()
    assert desk.history(OTHER)["status"] == "bot"


def test_business_hours_work_without_the_systems_time_zone_database(tmp_path):
    """Slim containers and the one-file binary may have no /usr/share/zoneinfo: the shipped tzdata
    package answers instead, so an admin's time zone is neither refused nor mis-read."""
    import subprocess
    import sys

    script = ("from datetime import datetime, timezone\n"
              "from modelpilot.chatbots.handoff_config import is_open\n"
              "hours = {'timezone': 'Asia/Kolkata', 'weekly': {'wed': [['09:00', '10:00']]}}\n"
              "print(is_open(hours, datetime(2026, 12, 2, 3, 45, tzinfo=timezone.utc)),"
              " is_open(hours, datetime(2026, 12, 2, 5, 0, tzinfo=timezone.utc)))\n")
    empty = tmp_path / "no-zoneinfo"
    empty.mkdir()
    done = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, timeout=60,
                          env={"PYTHONTZPATH": str(empty), "PATH": "/usr/bin:/bin"})
    assert done.returncode == 0, done.stderr
    assert done.stdout.split() == ["True", "False"]  # 09:15 in Kolkata is open, 10:30 is not
