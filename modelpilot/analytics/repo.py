"""Usage figures aggregated in the database: sums, counts and nearest-rank percentiles.

Only the grouped figures come back, never the messages themselves: a busy month is thousands of
rows that Python has no need to see. Percentiles use window functions (ROW_NUMBER and COUNT over
each group), which SQLite and Postgres both run.
"""

from __future__ import annotations

from modelpilot.core import answer_quality
from modelpilot.core.db import Connection, dialect, fetch_all

GROUP_KEYS = {
    "day": "substr(m.created_at, 1, 10)",
    "model": "COALESCE(m.model, '')",
    "chatbot": "m.chatbot_id",
}
TOTAL_KEY = "'*'"  # one group holding every message, for the totals


def _where(lower: str | None, upper: str | None, chatbot_id: str | None) -> tuple[str, list]:
    clauses, params = ["m.workspace_id = ?", "m.role = 'assistant'"], []
    for clause, value in (("m.created_at >= ?", lower), ("m.created_at < ?", upper), ("m.chatbot_id = ?", chatbot_id)):
        if value:
            clauses.append(clause)
            params.append(value)
    return " AND ".join(clauses), params


async def usage_sums(conn: Connection, workspace_id: str, key: str, lower: str | None, upper: str | None,
                     chatbot_id: str | None) -> list[dict]:
    where, params = _where(lower, upper, chatbot_id)
    return await fetch_all(
        conn,
        f"SELECT {key} AS grp, COUNT(*) AS messages, COUNT(DISTINCT m.conversation_id) AS conversations,"
        " COALESCE(SUM(m.tokens_in), 0) AS tokens_in, COALESCE(SUM(m.tokens_out), 0) AS tokens_out,"
        " COALESCE(SUM(m.cost), 0.0) AS cost,"
        " COALESCE(SUM(CASE WHEN m.feedback = 1 THEN 1 ELSE 0 END), 0) AS feedback_up,"
        " COALESCE(SUM(CASE WHEN m.feedback = -1 THEN 1 ELSE 0 END), 0) AS feedback_down,"
        " COALESCE(SUM(CASE WHEN m.status = 'error' THEN 1 ELSE 0 END), 0) AS errors,"
        f" COALESCE(SUM(CASE WHEN {answer_quality.weak_answer('m')} THEN 1 ELSE 0 END), 0) AS unanswered,"
        " MAX(b.name) AS chatbot_name FROM messages m"
        " LEFT JOIN chatbots b ON b.id = m.chatbot_id AND b.workspace_id = m.workspace_id"
        f" WHERE {where} GROUP BY grp ORDER BY grp",
        [workspace_id, *params],
    )


async def resolved_counts(conn: Connection, workspace_id: str, key: str, lower: str | None, upper: str | None,
                          chatbot_id: str | None) -> dict[str, int]:
    """grp -> how many of the group's conversations (those with an answer in it) are resolved, by
    core/answer_quality.py's rule over the whole conversation."""
    where, params = _where(lower, upper, chatbot_id)
    rows = await fetch_all(
        conn,
        f"SELECT g.grp, COUNT(*) AS n FROM (SELECT DISTINCT {key} AS grp, m.conversation_id AS cid"
        f" FROM messages m WHERE {where}) g JOIN conversations c ON c.id = g.cid AND c.workspace_id = ?"
        f" WHERE {answer_quality.resolved('c')} GROUP BY g.grp",
        [workspace_id, *params, workspace_id],
    )
    return {row["grp"]: int(row["n"]) for row in rows}


async def usage_percentiles(conn: Connection, workspace_id: str, key: str, column: str, lower: str | None,
                            upper: str | None, chatbot_id: str | None) -> dict[str, tuple[int | None, int | None]]:
    """grp -> (p50, p95) of `column` (nearest rank: the value at rank ceil(n * p / 100))."""
    assert column in ("latency_total_ms", "latency_first_ms")  # a column name, never input
    where, params = _where(lower, upper, chatbot_id)
    rows = await fetch_all(
        conn,
        f"WITH ranked AS (SELECT {key} AS grp, m.{column} AS v,"
        f" ROW_NUMBER() OVER (PARTITION BY {key} ORDER BY m.{column}) AS rn,"
        f" COUNT(*) OVER (PARTITION BY {key}) AS n"
        f" FROM messages m WHERE {where} AND m.{column} IS NOT NULL)"
        " SELECT grp, MIN(CASE WHEN rn >= (n * 50 + 99) / 100 THEN v END) AS p50,"
        " MIN(CASE WHEN rn >= (n * 95 + 99) / 100 THEN v END) AS p95 FROM ranked GROUP BY grp",
        [workspace_id, *params],
    )
    return {row["grp"]: (row["p50"], row["p95"]) for row in rows}


# Handoff figures (issue 17), grouped like the usage groups: by the day an event happened or its
# bot. The model grouping has none (people, not models, answer these).
HANDOFF_KEYS = {
    "day": "substr({at}, 1, 10)",
    "chatbot": "{table}.chatbot_id",
    "total": TOTAL_KEY,
}
# Seconds between two ISO times stored as text, per dialect.
_SECONDS_BETWEEN = {
    "sqlite": "CAST(ROUND((julianday({end}) - julianday({start})) * 86400) AS INTEGER)",
    "postgres": "CAST(ROUND(EXTRACT(EPOCH FROM (CAST({end} AS timestamptz) - CAST({start} AS timestamptz))))"
                " AS INTEGER)",
}


def _range(column: str, lower: str | None, upper: str | None, chatbot_column: str,
           chatbot_id: str | None) -> tuple[str, list]:
    clauses, params = [], []
    for clause, value in ((f"{column} >= ?", lower), (f"{column} < ?", upper), (f"{chatbot_column} = ?", chatbot_id)):
        if value:
            clauses.append(clause)
            params.append(value)
    return "".join(f" AND {c}" for c in clauses), params


async def handoff_counts(conn: Connection, workspace_id: str, grouping: str, lower: str | None, upper: str | None,
                         chatbot_id: str | None) -> dict[str, dict]:
    """grp -> {handoffs (requests for a person), human_handled (conversations an operator answered)}."""
    event_key = HANDOFF_KEYS[grouping].format(at="e.created_at", table="e")
    message_key = HANDOFF_KEYS[grouping].format(at="m.created_at", table="m")
    where_e, params_e = _range("e.created_at", lower, upper, "e.chatbot_id", chatbot_id)
    where_m, params_m = _range("m.created_at", lower, upper, "m.chatbot_id", chatbot_id)
    handoffs = await fetch_all(
        conn, f"SELECT {event_key} AS grp, COUNT(*) AS n FROM conversation_events e WHERE e.workspace_id = ?"
              f" AND e.type = 'conversation.waiting'{where_e} GROUP BY grp", [workspace_id, *params_e])
    handled = await fetch_all(
        conn, f"SELECT {message_key} AS grp, COUNT(DISTINCT m.conversation_id) AS n FROM messages m"
              f" WHERE m.workspace_id = ? AND m.role = 'operator'{where_m} GROUP BY grp", [workspace_id, *params_m])
    out: dict[str, dict] = {}
    for name, rows in (("handoffs", handoffs), ("human_handled", handled)):
        for row in rows:
            out.setdefault(row["grp"], {"handoffs": 0, "human_handled": 0})[name] = int(row["n"])
    return out


async def first_human_reply_p50(conn: Connection, workspace_id: str, grouping: str, lower: str | None,
                                upper: str | None, chatbot_id: str | None) -> dict[str, int]:
    """grp -> median seconds from a conversation's first request for a person to the first operator
    reply (nearest rank), grouped by the day of the request."""
    key = HANDOFF_KEYS[grouping].format(at="c.handoff_at", table="c")
    seconds = _SECONDS_BETWEEN[dialect(conn)].format(start="c.handoff_at", end="c.first_human_reply_at")
    where, params = _range("c.handoff_at", lower, upper, "c.chatbot_id", chatbot_id)
    rows = await fetch_all(
        conn,
        f"WITH waits AS (SELECT {key} AS grp, {seconds} AS v FROM conversations c WHERE c.workspace_id = ?"
        f" AND c.handoff_at IS NOT NULL AND c.first_human_reply_at IS NOT NULL{where}),"
        " ranked AS (SELECT grp, v, ROW_NUMBER() OVER (PARTITION BY grp ORDER BY v) AS rn,"
        " COUNT(*) OVER (PARTITION BY grp) AS n FROM waits)"
        " SELECT grp, MIN(CASE WHEN rn >= (n * 50 + 99) / 100 THEN v END) AS p50 FROM ranked GROUP BY grp",
        [workspace_id, *params])
    return {row["grp"]: int(row["p50"]) for row in rows if row["p50"] is not None}


# A failed call: the tool answered with an error, the call was refused (limit, unverified
# visitor) or the tool was not there. A declined or still pending call is no failure.
_FAILED = "('error', 'refused', 'unavailable')"


async def tool_counts(conn: Connection, workspace_id: str, lower: str | None, upper: str | None,
                      chatbot_id: str | None) -> list[dict]:
    """Calls and failures per tool (type and name)."""
    where, params = _range("created_at", lower, upper, "chatbot_id", chatbot_id)
    return await fetch_all(
        conn, "SELECT type, name, COUNT(*) AS calls,"
              f" SUM(CASE WHEN status IN {_FAILED} THEN 1 ELSE 0 END) AS failures"
              f" FROM tool_calls WHERE workspace_id = ?{where} GROUP BY type, name ORDER BY type, name",
        (workspace_id, *params))


async def tool_latency_p50(conn: Connection, workspace_id: str, lower: str | None, upper: str | None,
                           chatbot_id: str | None) -> dict[tuple[str, str], int]:
    """(type, name) -> the nearest-rank median latency of the calls that ran."""
    where, params = _range("created_at", lower, upper, "chatbot_id", chatbot_id)
    rows = await fetch_all(
        conn, "SELECT type, name, latency_ms FROM (SELECT type, name, latency_ms,"
              " ROW_NUMBER() OVER (PARTITION BY type, name ORDER BY latency_ms) AS rn,"
              " COUNT(*) OVER (PARTITION BY type, name) AS n FROM tool_calls"
              f" WHERE workspace_id = ? AND latency_ms IS NOT NULL{where}) ranked WHERE rn = (n + 1) / 2",
        (workspace_id, *params))
    return {(row["type"], row["name"]): int(row["latency_ms"]) for row in rows}
