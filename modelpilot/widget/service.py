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
from modelpilot.chatbots.lead_form_config import widget_view
from modelpilot.contacts import leads, visitors
from modelpilot.contacts.entities import Visitor
from modelpilot.contacts.service import ContactConversations
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
    bot = await chatbots.bot_by_id_alone(db, bot_id)
    if bot is None or not bot.published:
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
        "leadForm": widget_view(bot.lead_form),
    }


async def check_identity(db: Database, settings: Settings, bot: Bot, token: str | None) -> None:
    """A token sent where no session is named (the config): it must still verify, or 401."""
    if token is not None:
        await visitors.check_token(db, settings, bot, token)


async def visitor_of(db: Database, settings: Settings, bot: Bot, session_id: str,
                     token: str | None) -> tuple[Visitor | None, str]:
    """(who the visitor is, the session to use). With an identity token: the verified contact and
    their canonical session on this bot (401 when the token does not verify); without: the lead
    who sent the form from this session, if any, and the session as sent."""
    if token is not None:
        return await visitors.verified_visitor(db, settings, bot, token)
    return await visitors.session_visitor(db, bot, session_id), session_id


def _utc_now() -> datetime:
    return datetime.now(timezone.utc)


def seconds_until_tomorrow(now: datetime) -> int:
    tomorrow = (now + timedelta(days=1)).replace(hour=0, minute=0, second=0, microsecond=0)
    return max(1, int((tomorrow - now).total_seconds()))


async def count_daily_message(db: Database, bot: Bot, cap: int) -> None:
    """Count one widget message for the bot today, or refuse with 429 once the cap is reached."""
    now = _utc_now()
    # One atomic statement: no write transaction around it (on Postgres, no fleet write lock).
    counted = await db.run_atomic(lambda conn: repo.count_message_within_cap_sync(
        conn, bot.workspace_id, bot.id, now.strftime("%Y-%m-%d"), cap))
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
          throttle: Throttle | None = None, visitor: Visitor | None = None) -> AsyncIterator[dict]:
    """The answer's SSE events, from the chat domain, saved as a widget conversation (or, while a
    person has the conversation, the message saved for them: see chat/handoff.py)."""
    return chat_service.stream_reply(db, settings, workspace_id=bot.workspace_id, bot=bot, session_id=session_id,
                                     message=message, channel="widget", visitor_ip_hash=visitor_ip_hash, bus=bus,
                                     page_url=page_url, throttle=throttle, visitor=visitor)


def check_call_id(call_id: str) -> str:
    if not call_id or len(call_id) > 64 or not call_id.isprintable():
        raise invalid("confirm.call_id", "must be the call_id of the action waiting for approval")
    return call_id


def confirm(db: Database, settings: Settings, bot: Bot, session_id: str, call_id: str, approve: bool,
            visitor_ip_hash: str, bus: EventBus | None = None, throttle: Throttle | None = None,
            visitor: Visitor | None = None) -> AsyncIterator[dict]:
    """The visitor approved or declined an action: the chat domain runs it (or not) and answers on."""
    return chat_service.stream_confirm(db, settings, workspace_id=bot.workspace_id, bot=bot, session_id=session_id,
                                       call_id=call_id, approve=approve, channel="widget",
                                       visitor_ip_hash=visitor_ip_hash, bus=bus, throttle=throttle, visitor=visitor)


# status "partial": the visitor stopped the answer (or left) before it was finished.
HISTORY_FIELDS = ("id", "role", "content", "status", "sources", "feedback", "created_at")


async def history(db: Database, bot: Bot, session_id: str, visitor: Visitor | None = None) -> dict:
    """The session's messages (operators' with their names) and its handoff state; last_event_id
    is where the widget's event stream should resume from. `session_id` is the effective session
    (a verified visitor's canonical one), which the widget adopts; `contact` who we know they are."""
    messages = await chat_service.session_history(db, bot.workspace_id, bot.id, "widget", session_id)
    state = await handoff.visitor_state(db, bot, session_id)
    shown = [{**{name: getattr(message, name) for name in HISTORY_FIELDS},
              "author_name": state["authors"].get(message.id)} for message in messages]
    contact = await visitors.contact_summary(db, bot.workspace_id, visitor.contact_id if visitor else None)
    return {"messages": shown, "status": state["status"], "assignee_name": state["assignee_name"],
            "last_event_id": state["last_event_id"], "session_id": session_id, "contact": contact}


async def request_handoff(db: Database, bus: EventBus | None, bot: Bot, session_id: str, visitor_ip_hash: str,
                          page_url: str | None, visitor: Visitor | None = None) -> dict:
    reply = await handoff.request_handoff(db, bus, bot, session_id, channel="widget", visitor_ip_hash=visitor_ip_hash,
                                          page_url=page_url, contact_id=visitor.contact_id if visitor else None)
    reply.pop("conversation_id", None)
    if reply["status"] == "offline" and chat_service.lead_form_on_handoff(bot, visitor):
        reply["lead_form"] = True
    return reply


async def submit_lead(db: Database, bot: Bot, session_id: str, visitor: Visitor | None, fields: dict,
                      consent: bool, conversations: ContactConversations) -> dict:
    contact_id = await leads.submit_lead(db, bot, session_id, visitor, fields, consent, conversations)
    return {"contact_id": contact_id}


async def feedback(db: Database, bot: Bot, session_id: str, message_id: str, rating: int) -> None:
    await chat_service.set_feedback(db, bot.workspace_id, bot.id, "widget", session_id, message_id, rating)
