"""Usage analytics from the message log: sums that match the messages exactly.

Each answered message (an assistant row) counts once, in the group of its day (UTC), model or
chatbot. Latency percentiles are over the total answer time and the time to the first piece.
The database does the aggregation (analytics/repo.py); this shapes the report.

Answer quality (issue 21; the rule is core/answer_quality.py's, the same the conversation log's
`unanswered` and `resolved` filters apply):
- `unanswered`: the group's answers that are weak (no source over the threshold, fallback, thumbs
  down, followed by a handoff or by the same question again);
- `resolved`: the group's conversations (those with an answer in it) that are resolved: an answer,
  none weak, no handoff, judged over the whole conversation;
- `resolution_rate`: resolved / conversations, 0..1 rounded to 4 places (None with no conversation);
- `handoffs`: requests for a person (conversation.waiting events) in the group.
"""

from __future__ import annotations

from modelpilot.analytics import repo
from modelpilot.core.dates import parse_range
from modelpilot.core.db import Connection, Database

SUMS = ("messages", "conversations", "tokens_in", "tokens_out", "cost", "feedback_up", "feedback_down", "errors",
        "unanswered")


def resolution_rate(resolved: int, conversations: int) -> float | None:
    return round(resolved / conversations, 4) if conversations else None


async def _report(conn: Connection, workspace_id: str, key: str, lower, upper, chatbot_id) -> list[dict]:
    sums = await repo.usage_sums(conn, workspace_id, key, lower, upper, chatbot_id)
    total = await repo.usage_percentiles(conn, workspace_id, key, "latency_total_ms", lower, upper, chatbot_id)
    first = await repo.usage_percentiles(conn, workspace_id, key, "latency_first_ms", lower, upper, chatbot_id)
    resolved = await repo.resolved_counts(conn, workspace_id, key, lower, upper, chatbot_id)
    out = []
    for row in sums:
        entry = {"key": row["grp"], **{name: row[name] for name in SUMS}}
        entry["cost"] = float(entry["cost"])
        entry["unanswered"] = int(entry["unanswered"])
        entry["resolved"] = resolved.get(row["grp"], 0)
        entry["resolution_rate"] = resolution_rate(entry["resolved"], int(entry["conversations"]))
        entry["latency_p50_ms"], entry["latency_p95_ms"] = total.get(row["grp"], (None, None))
        entry["first_token_p50_ms"], entry["first_token_p95_ms"] = first.get(row["grp"], (None, None))
        entry["chatbot_name"] = row["chatbot_name"]
        out.append(entry)
    return out


def _empty_totals() -> dict:
    return {**{name: 0 for name in SUMS}, "cost": 0.0, "resolved": 0, "resolution_rate": None,
            "latency_p50_ms": None, "latency_p95_ms": None, "first_token_p50_ms": None, "first_token_p95_ms": None}


HANDOFF_FIGURES = ("handoffs", "human_handled", "first_human_reply_seconds_p50")


async def _handoff_figures(conn: Connection, workspace_id: str, grouping: str, lower, upper,
                           chatbot_id) -> dict[str, dict]:
    if grouping not in repo.HANDOFF_KEYS:
        return {}
    counts = await repo.handoff_counts(conn, workspace_id, grouping, lower, upper, chatbot_id)
    medians = await repo.first_human_reply_p50(conn, workspace_id, grouping, lower, upper, chatbot_id)
    return {key: {**counts.get(key, {"handoffs": 0, "human_handled": 0}),
                  "first_human_reply_seconds_p50": medians.get(key)} for key in set(counts) | set(medians)}


def _with_handoffs(entries: list[dict], figures: dict[str, dict], blank: dict) -> list[dict]:
    """Each group gains the handoff figures; a group with handoffs but no bot answers is added."""
    by_key = {entry["key"]: entry for entry in entries}
    for key in figures.keys() - by_key.keys():
        by_key[key] = {"key": key, **blank}
    for key, entry in by_key.items():
        entry.update(figures.get(key, {"handoffs": 0, "human_handled": 0, "first_human_reply_seconds_p50": None}))
    return sorted(by_key.values(), key=lambda entry: str(entry["key"]))


async def usage(db: Database, workspace_id: str, group_by: str, start: str | None, end: str | None,
                chatbot_id: str | None = None) -> dict:
    lower, upper = parse_range(start, end)
    async with db.read() as conn:
        groups = await _report(conn, workspace_id, repo.GROUP_KEYS[group_by], lower, upper, chatbot_id)
        totals = await _report(conn, workspace_id, repo.TOTAL_KEY, lower, upper, chatbot_id)
        group_figures = await _handoff_figures(conn, workspace_id, group_by, lower, upper, chatbot_id)
        total_figures = await _handoff_figures(conn, workspace_id, "total", lower, upper, chatbot_id)
    blank = {**_empty_totals(), "chatbot_name": None}
    groups = _with_handoffs(groups, group_figures, blank)
    totals = _with_handoffs(totals, total_figures, blank)
    for entry in groups:
        if group_by != "chatbot":
            del entry["chatbot_name"]  # None once the bot is deleted, and only meaningful per bot
    summary = totals[0] if totals else {**_empty_totals(), "handoffs": 0, "human_handled": 0,
                                        "first_human_reply_seconds_p50": None}
    summary.pop("key", None)
    summary.pop("chatbot_name", None)
    return {"group_by": group_by, "from": lower, "to": upper, "groups": groups, "totals": summary}


async def tools(db: Database, workspace_id: str, start: str | None, end: str | None,
                chatbot_id: str | None = None) -> dict:
    """Per tool: how often it was called, how often that failed, and its median latency."""
    lower, upper = parse_range(start, end)
    async with db.read() as conn:
        counts = await repo.tool_counts(conn, workspace_id, lower, upper, chatbot_id)
        medians = await repo.tool_latency_p50(conn, workspace_id, lower, upper, chatbot_id)
    return {"from": lower, "to": upper, "items": [
        {"type": row["type"], "name": row["name"], "calls": int(row["calls"]), "failures": int(row["failures"] or 0),
         "p50_latency_ms": medians.get((row["type"], row["name"]))} for row in counts]}
