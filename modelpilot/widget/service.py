"""Widget service: the public face of a published bot, and the daily message cap.

A widget request names only a bot id. The bot's workspace is looked up once; everything after
that is scoped to that workspace, exactly as for a logged-in member.
"""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

from typing import AsyncIterator

from modelpilot.chatbots.entities import Bot
from modelpilot.chat import handoff
from modelpilot.chat import service as chat_service
from modelpilot.chatbots import service as chatbots
from modelpilot.core.db import Database
from modelpilot.core.events import EventBus
from modelpilot.core.ratelimit import Throttle
from modelpilot.core.errors import ApiError, invalid, not_found
from modelpilot.settings import Settings
from modelpilot.widget import repo

MAX_BOT_ID_CHARS = 64


async def find_public_bot(db: Database, bot_id: str) -> Bot:
    """The bot behind a widget call; 404 unless it exists and is published."""
    if not bot_id or len(bot_id) > MAX_BOT_ID_CHARS:
        raise not_found("chatbot")
    workspace_id = await chatbots.workspace_of_bot(db, bot_id)
    if workspace_id is None:
        raise not_found("chatbot")
    bot = await chatbots.get_bot(db, workspace_id, bot_id)
    if not bot.published:
        raise not_found("chatbot")
    return bot


def public_config(bot: Bot, settings: Settings) -> dict:
    """What any visitor may see: looks and words, never the prompt, model or origins list."""
    return {
        "botId": bot.id,
        "botName": bot.name,
        "greeting": bot.greeting,
        "accentColor": bot.accent_color,
        "position": bot.position,
        "starterQuestions": bot.starter_questions,
        "maxMessageChars": settings.widget_max_message_chars,
        "handoff": ({"enabled": True, "button_label": bot.handoff["button_label"]}
                    if bot.handoff["enabled"] else None),
    }


def _utc_now() -> datetime:
    return datetime.now(timezone.utc)


def seconds_until_tomorrow(now: datetime) -> int:
    tomorrow = (now + timedelta(days=1)).replace(hour=0, minute=0, second=0, microsecond=0)
    return max(1, int((tomorrow - now).total_seconds()))


async def count_daily_message(db: Database, bot: Bot, cap: int) -> None:
    """Count one widget message for the bot today, or refuse with 429 once the cap is reached."""
    now = _utc_now()
    async with db.write() as conn:
        counted = await repo.count_message_within_cap(conn, bot.workspace_id, bot.id, now.strftime("%Y-%m-%d"), cap)
    if not counted:
        raise ApiError(429, "daily_limit_reached",
                       "This assistant has answered all the messages it can today. Please come back tomorrow.",
                       headers={"Retry-After": str(seconds_until_tomorrow(now))})


def check_message(text: str, settings: Settings) -> str:
    message = text.strip()
    if not message:
        raise invalid("message", "must not be empty")
    if len(message) > settings.widget_max_message_chars:
        limit = settings.widget_max_message_chars
        raise ApiError(413, "message_too_long", f"message: must be at most {limit} characters",
                       [{"field": "message", "message": f"must be at most {limit} characters"}])
    return message


def reply(db: Database, settings: Settings, bot: Bot, session_id: str, message: str,
          visitor_ip_hash: str, bus: EventBus | None = None, page_url: str | None = None,
          throttle: Throttle | None = None) -> AsyncIterator[dict]:
    """The answer's SSE events, from the chat domain, saved as a widget conversation (or, while a
    person has the conversation, the message saved for them: see chat/handoff.py)."""
    return chat_service.stream_reply(db, settings, workspace_id=bot.workspace_id, bot=bot, session_id=session_id,
                                     message=message, channel="widget", visitor_ip_hash=visitor_ip_hash, bus=bus,
                                     page_url=page_url, throttle=throttle)


def check_call_id(call_id: str) -> str:
    if not call_id or len(call_id) > 64 or not call_id.isprintable():
        raise invalid("confirm.call_id", "must be the call_id of the action waiting for approval")
    return call_id


def confirm(db: Database, settings: Settings, bot: Bot, session_id: str, call_id: str, approve: bool,
            visitor_ip_hash: str, bus: EventBus | None = None, throttle: Throttle | None = None) -> AsyncIterator[dict]:
    """The visitor approved or declined an action: the chat domain runs it (or not) and answers on."""
    return chat_service.stream_confirm(db, settings, workspace_id=bot.workspace_id, bot=bot, session_id=session_id,
                                       call_id=call_id, approve=approve, channel="widget",
                                       visitor_ip_hash=visitor_ip_hash, bus=bus, throttle=throttle)


# status "partial": the visitor stopped the answer (or left) before it was finished.
HISTORY_FIELDS = ("id", "role", "content", "status", "sources", "feedback", "created_at")


async def history(db: Database, bot: Bot, session_id: str) -> dict:
    """The session's messages (operators' with their names) and its handoff state; last_event_id
    is where the widget's event stream should resume from."""
    messages = await chat_service.session_history(db, bot.workspace_id, bot.id, "widget", session_id)
    state = await handoff.visitor_state(db, bot, session_id)
    shown = [{**{name: getattr(message, name) for name in HISTORY_FIELDS},
              "author_name": state["authors"].get(message.id)} for message in messages]
    return {"messages": shown, "status": state["status"], "assignee_name": state["assignee_name"],
            "last_event_id": state["last_event_id"]}


async def request_handoff(db: Database, bus: EventBus | None, bot: Bot, session_id: str, visitor_ip_hash: str,
                          page_url: str | None) -> dict:
    reply = await handoff.request_handoff(db, bus, bot, session_id, channel="widget", visitor_ip_hash=visitor_ip_hash,
                                          page_url=page_url)
    reply.pop("conversation_id", None)
    return reply


async def feedback(db: Database, bot: Bot, session_id: str, message_id: str, rating: int) -> None:
    await chat_service.set_feedback(db, bot.workspace_id, bot.id, "widget", session_id, message_id, rating)
