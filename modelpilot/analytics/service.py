"""Usage analytics from the message log: sums that match the messages exactly.

Each answered message (an assistant row) counts once, in the group of its day (UTC), model or
chatbot. Latency percentiles are over the total answer time and the time to the first piece.
"""

from __future__ import annotations

from modelpilot.core.dates import parse_range
from modelpilot.core.db import Database, fetch_all

GROUP_KEYS = {
    "day": "substr(m.created_at, 1, 10)",
    "model": "COALESCE(m.model, '')",
    "chatbot": "m.chatbot_id",
}


def percentile(values: list[int], pct: float) -> int | None:
    """Nearest-rank percentile; None for an empty group."""
    if not values:
        return None
    ordered = sorted(values)
    rank = max(1, -(-len(ordered) * pct // 100))
    return ordered[int(rank) - 1]


def _where(workspace_id: str, lower: str | None, upper: str | None, chatbot_id: str | None) -> tuple[str, list]:
    clauses, params = ["m.workspace_id = ?", "m.role = 'assistant'"], [workspace_id]
    for clause, value in (("m.created_at >= ?", lower), ("m.created_at < ?", upper), ("m.chatbot_id = ?", chatbot_id)):
        if value:
            clauses.append(clause)
            params.append(value)
    return " AND ".join(clauses), params


async def _rows(db: Database, workspace_id: str, group_by: str, where: str, params: list) -> list[dict]:
    key = GROUP_KEYS[group_by]
    async with db.read() as conn:
        return await fetch_all(
            conn,
            f"SELECT {key} AS grp, m.conversation_id, m.tokens_in, m.tokens_out, m.cost, m.latency_total_ms,"
            " m.latency_first_ms, m.feedback, m.status, b.name AS chatbot_name FROM messages m"
            " LEFT JOIN chatbots b ON b.id = m.chatbot_id AND b.workspace_id = m.workspace_id"
            f" WHERE {where} ORDER BY grp",
            params,
        )


def _summarise(rows: list[dict]) -> dict:
    return {
        "messages": len(rows),
        "conversations": len({r["conversation_id"] for r in rows}),
        "tokens_in": sum(r["tokens_in"] for r in rows),
        "tokens_out": sum(r["tokens_out"] for r in rows),
        "cost": sum(r["cost"] for r in rows),
        "latency_p50_ms": percentile([r["latency_total_ms"] for r in rows if r["latency_total_ms"] is not None], 50),
        "latency_p95_ms": percentile([r["latency_total_ms"] for r in rows if r["latency_total_ms"] is not None], 95),
        "first_token_p50_ms": percentile([r["latency_first_ms"] for r in rows if r["latency_first_ms"] is not None], 50),
        "first_token_p95_ms": percentile([r["latency_first_ms"] for r in rows if r["latency_first_ms"] is not None], 95),
        "feedback_up": sum(1 for r in rows if r["feedback"] == 1),
        "feedback_down": sum(1 for r in rows if r["feedback"] == -1),
        "errors": sum(1 for r in rows if r["status"] == "error"),
    }


async def usage(db: Database, workspace_id: str, group_by: str, start: str | None, end: str | None,
                chatbot_id: str | None = None) -> dict:
    lower, upper = parse_range(start, end)
    where, params = _where(workspace_id, lower, upper, chatbot_id)
    rows = await _rows(db, workspace_id, group_by, where, params)
    groups: dict[str, list[dict]] = {}
    for row in rows:
        groups.setdefault(row["grp"], []).append(row)
    out = []
    for key, members in groups.items():
        entry = {"key": key, **_summarise(members)}
        if group_by == "chatbot":
            entry["chatbot_name"] = members[0]["chatbot_name"]  # None once the bot is deleted
        out.append(entry)
    return {"group_by": group_by, "from": lower, "to": upper, "groups": out, "totals": _summarise(rows)}
