"""Usage figures aggregated in the database: sums, counts and nearest-rank percentiles.

Only the grouped figures come back, never the messages themselves: a busy month is thousands of
rows that Python has no need to see. Percentiles use window functions (ROW_NUMBER and COUNT over
each group), which SQLite and Postgres both run.
"""

from __future__ import annotations

from modelpilot.core.db import Connection, fetch_all

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
        " MAX(b.name) AS chatbot_name FROM messages m"
        " LEFT JOIN chatbots b ON b.id = m.chatbot_id AND b.workspace_id = m.workspace_id"
        f" WHERE {where} GROUP BY grp ORDER BY grp",
        [workspace_id, *params],
    )


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
