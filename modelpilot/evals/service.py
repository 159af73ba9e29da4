"""Test sets of a bot: create, list, change, delete, append cases; start and list runs.

Editors and admins write and start runs (a run spends the bot's model like a chat does);
viewers and agents read. Another workspace's bot, set or run is 404. Runs themselves are jobs on
the durable queue (evals/runner.py), so a POST answers 202 at once and the work survives a restart.
"""

from __future__ import annotations

import msgspec

from modelpilot.chatbots import service as bots
from modelpilot.core.access import WorkspaceAccess
from modelpilot.core.cursors import decode_cursor, encode_cursor
from modelpilot.core.db import Database, IntegrityError
from modelpilot.core.errors import ApiError, invalid, invalid_fields, not_found
from modelpilot.core.ids import new_id, utc_now_iso
from modelpilot.evals import repo
from modelpilot.evals.entities import EvalRun, EvalSet
from modelpilot.evals.runner import RUN_JOB, Evals, new_run
from modelpilot.evals.schemas import MAX_CASES, AppendCasesBody, CaseBody, EvalSetBody, EvalSetPut
from modelpilot.scheduler import jobs

READ_ROLE = "viewer"
WRITE_ROLE = "editor"


def clean_cases(cases: list[CaseBody], field: str = "cases") -> list[dict]:
    """The cases as stored: trimmed text, blank words dropped; every problem named at once."""
    problems, cleaned = [], []
    for index, case in enumerate(cases):
        where = f"{field}[{index}]"
        question = case.question.strip()
        source = (case.expect_source or "").strip() or None
        words = list(dict.fromkeys(word.strip() for word in case.expect_text if word.strip()))
        if not question:
            problems.append((f"{where}.question", "must not be empty"))
        if case.expect_page is not None and source is None:
            problems.append((f"{where}.expect_page", "needs expect_source: the document the page belongs to"))
        cleaned.append({"question": question, "expect_source": source, "expect_page": case.expect_page,
                        "expect_text": words})
    if problems:
        raise invalid_fields(problems)
    return cleaned


def _check_count(count: int, had: int = 0) -> None:
    if had + count > MAX_CASES:
        detail = f"; the set has {had} and this adds {count}" if had else f"; this has {count}"
        raise invalid("cases", f"must be at most {MAX_CASES} per set{detail}")


def _clean_name(name: str) -> str:
    name = name.strip()
    if not name:
        raise invalid("name", "must not be empty")
    return name


async def _get_set(db: Database, access: WorkspaceAccess, bot_id: str, set_id: str) -> EvalSet:
    async with db.read() as conn:
        found = await repo.get_set(conn, access.workspace_id, bot_id, set_id)
    if found is None:
        await bots.get_bot(db, access.workspace_id, bot_id)  # an unknown bot says so
        raise not_found("test set")
    return found


async def list_sets(db: Database, access: WorkspaceAccess, bot_id: str, cursor: str | None, limit: int) -> dict:
    access.require(READ_ROLE)
    await bots.get_bot(db, access.workspace_id, bot_id)
    after = decode_cursor(cursor) if cursor else None
    async with db.read() as conn:
        sets = await repo.set_page(conn, access.workspace_id, bot_id, after, limit + 1)
    more, sets = len(sets) > limit, sets[:limit]
    next_cursor = encode_cursor(sets[-1].created_at, sets[-1].id) if more and sets else None
    return {"items": [s.public() for s in sets], "next_cursor": next_cursor}


async def get_set(db: Database, access: WorkspaceAccess, bot_id: str, set_id: str) -> dict:
    access.require(READ_ROLE)
    return (await _get_set(db, access, bot_id, set_id)).public()


async def create_set(db: Database, access: WorkspaceAccess, bot_id: str, body: EvalSetBody) -> dict:
    access.require(WRITE_ROLE)
    name = _clean_name(body.name)
    _check_count(len(body.cases))
    cases = clean_cases(body.cases)
    await bots.get_bot(db, access.workspace_id, bot_id)
    now = utc_now_iso()
    values = {"id": new_id(), "chatbot_id": bot_id, "name": name, "cases": cases, "auto_run": body.auto_run,
              "created_at": now, "updated_at": now}
    try:
        async with db.write() as conn:
            await repo.insert_set(conn, access.workspace_id, values)
            created = await repo.get_set(conn, access.workspace_id, bot_id, values["id"])
    except IntegrityError:
        raise not_found("chatbot") from None  # deleted a moment ago
    return created.public()


async def replace_set(db: Database, access: WorkspaceAccess, bot_id: str, set_id: str, body: EvalSetPut) -> dict:
    """PUT: the name, the whole case list and auto_run; a field left out keeps its value."""
    access.require(WRITE_ROLE)
    changes: dict = {"updated_at": utc_now_iso()}
    if body.name is not msgspec.UNSET:
        changes["name"] = _clean_name(body.name)
    if body.cases is not msgspec.UNSET:
        _check_count(len(body.cases))
        changes["cases"] = clean_cases(body.cases)
    if body.auto_run is not msgspec.UNSET:
        changes["auto_run"] = body.auto_run
    await _get_set(db, access, bot_id, set_id)
    async with db.write() as conn:
        await repo.update_set(conn, access.workspace_id, set_id, changes)
        updated = await repo.get_set(conn, access.workspace_id, bot_id, set_id)
    if updated is None:
        raise not_found("test set")
    return updated.public()


async def append_cases(db: Database, access: WorkspaceAccess, bot_id: str, set_id: str,
                       body: AppendCasesBody) -> dict:
    """More cases at the end of the set; the count and the append are one write (two imports at
    once cannot pass the limit together)."""
    access.require(WRITE_ROLE)
    if not body.cases:
        raise invalid("cases", "must hold at least one case")
    _check_count(len(body.cases))
    cases = clean_cases(body.cases)
    await _get_set(db, access, bot_id, set_id)
    async with db.write() as conn:
        current = await repo.get_set(conn, access.workspace_id, bot_id, set_id)
        if current is None:
            raise not_found("test set")
        _check_count(len(cases), len(current.cases))
        await repo.update_set(conn, access.workspace_id, set_id, {"cases": [*current.cases, *cases],
                                                                   "updated_at": utc_now_iso()})
        updated = await repo.get_set(conn, access.workspace_id, bot_id, set_id)
    return updated.public()


async def delete_set(db: Database, access: WorkspaceAccess, bot_id: str, set_id: str) -> None:
    """The set and its runs (cascade); a run in progress loses its job and stops."""
    access.require(WRITE_ROLE)
    await _get_set(db, access, bot_id, set_id)
    async with db.write() as conn:
        await jobs.delete_for_ref(conn, access.workspace_id, set_id)
        await repo.delete_set(conn, access.workspace_id, set_id)


def run_in_progress(run: EvalRun) -> ApiError:
    return ApiError(409, "run_in_progress", "This test set is being run already; wait for that run to finish.",
                    {"run_id": run.id})


async def start_run(evals: Evals, access: WorkspaceAccess, bot_id: str, set_id: str) -> dict:
    """202: the run is queued; GET .../runs shows it moving from queued to running to done."""
    access.require(WRITE_ROLE)
    db = evals.db
    bot = await bots.get_bot(db, access.workspace_id, bot_id)
    await _get_set(db, access, bot_id, set_id)
    async with db.write() as conn:
        current = await repo.get_set(conn, access.workspace_id, bot_id, set_id)
        if current is None:
            raise not_found("test set")
        if not current.cases:
            raise ApiError(409, "no_cases", "This test set has no cases yet; add a question first.")
        active = await repo.active_run(conn, access.workspace_id, set_id)
        if active is not None:
            raise run_in_progress(active)
        run = new_run(current, bot.top_k, "manual")
        await repo.insert_run(conn, access.workspace_id, run)
        await jobs.enqueue(conn, access.workspace_id, RUN_JOB, run["id"], {"eval_set_id": set_id})
        created = await repo.get_run(conn, access.workspace_id, run["id"])
    evals.wake()
    return created.public()


async def list_runs(db: Database, access: WorkspaceAccess, bot_id: str, set_id: str, cursor: str | None,
                    limit: int, with_results: bool) -> dict:
    access.require(READ_ROLE)
    await _get_set(db, access, bot_id, set_id)
    after = decode_cursor(cursor) if cursor else None
    async with db.read() as conn:
        runs = await repo.run_page(conn, access.workspace_id, set_id, after, limit + 1, with_results)
    more, runs = len(runs) > limit, runs[:limit]
    next_cursor = encode_cursor(runs[-1].created_at, runs[-1].id) if more and runs else None
    return {"items": [run.public(with_results) for run in runs], "next_cursor": next_cursor}


async def get_run(db: Database, access: WorkspaceAccess, bot_id: str, set_id: str, run_id: str) -> dict:
    access.require(READ_ROLE)
    await _get_set(db, access, bot_id, set_id)
    async with db.read() as conn:
        run = await repo.get_run(conn, access.workspace_id, run_id)
    if run is None or run.eval_set_id != set_id:
        raise not_found("run")
    return run.public()
