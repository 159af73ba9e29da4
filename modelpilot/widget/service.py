"""Widget service: the public face of a published bot, and the daily message cap.

A widget request names only a bot id. The bot's workspace is looked up once; everything after
that is scoped to that workspace, exactly as for a logged-in member.
"""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

from modelpilot.chatbots import repo as chatbots_repo
from modelpilot.core.db import Database
from modelpilot.core.errors import ApiError, not_found
from modelpilot.settings import Settings
from modelpilot.widget import repo

MAX_BOT_ID_CHARS = 64


async def find_public_bot(db: Database, bot_id: str) -> dict:
    """The bot behind a widget call; 404 unless it exists and is published."""
    if not bot_id or len(bot_id) > MAX_BOT_ID_CHARS:
        raise not_found("chatbot")
    async with db.read() as conn:
        workspace_id = await chatbots_repo.workspace_of_bot(conn, bot_id)
        bot = await chatbots_repo.get_bot(conn, workspace_id, bot_id) if workspace_id else None
    if not bot or not bot["published"]:
        raise not_found("chatbot")
    return bot


def public_config(bot: dict, settings: Settings) -> dict:
    """What any visitor may see: looks and words, never the prompt, model or origins list."""
    return {
        "botId": bot["id"],
        "botName": bot["name"],
        "greeting": bot["greeting"],
        "accentColor": bot["accent_color"],
        "position": bot["position"],
        "starterQuestions": bot["starter_questions"],
        "maxMessageChars": settings.widget_max_message_chars,
    }


def _utc_now() -> datetime:
    return datetime.now(timezone.utc)


def seconds_until_tomorrow(now: datetime) -> int:
    tomorrow = (now + timedelta(days=1)).replace(hour=0, minute=0, second=0, microsecond=0)
    return max(1, int((tomorrow - now).total_seconds()))


async def count_daily_message(db: Database, bot: dict, cap: int) -> None:
    """Count one widget message for the bot today, or refuse with 429 once the cap is reached."""
    now = _utc_now()
    async with db.write() as conn:
        counted = await repo.count_message_within_cap(conn, bot["workspace_id"], bot["id"], now.strftime("%Y-%m-%d"), cap)
    if not counted:
        raise ApiError(429, "daily_limit_reached",
                       "This assistant has answered all the messages it can today. Please come back tomorrow.",
                       headers={"Retry-After": str(seconds_until_tomorrow(now))})


async def messages_today(db: Database, bot: dict) -> int:
    async with db.read() as conn:
        return await repo.messages_on(conn, bot["workspace_id"], bot["id"], _utc_now().strftime("%Y-%m-%d"))
