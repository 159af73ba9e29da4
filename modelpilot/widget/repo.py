"""Widget rows: the per-bot daily message counter. Every query names its workspace."""

from __future__ import annotations

from modelpilot.core.db import fetch_one_sync


def count_message_within_cap_sync(conn, workspace_id: str, bot_id: str, day: str, cap: int) -> bool:
    """Count one message for (bot, day) unless the day's cap is reached; True when counted.

    One statement, so two requests racing for the last slot cannot both get it.
    """
    row = fetch_one_sync(
        conn,
        "INSERT INTO widget_daily_usage (workspace_id, chatbot_id, day, messages) VALUES (?, ?, ?, 1)"
        " ON CONFLICT (chatbot_id, day) DO UPDATE SET messages = widget_daily_usage.messages + 1"
        " WHERE widget_daily_usage.messages < ? AND widget_daily_usage.workspace_id = excluded.workspace_id"
        " RETURNING messages",
        (workspace_id, bot_id, day, cap),
    )
    return row is not None
