"""Test-set routes (API.md "Answer quality"): a bot's sets, their cases and their runs."""

from __future__ import annotations

from typing import Annotated

from litestar import delete, get, post, put
from litestar.params import Parameter

from modelpilot.core.access import WorkspaceAccess
from modelpilot.core.db import Database
from modelpilot.evals import service
from modelpilot.evals.runner import Evals
from modelpilot.evals.schemas import AppendCasesBody, EvalSetBody, EvalSetPut

SETS = "/api/v1/workspaces/{ws:str}/chatbots/{bot:str}/evals"
ONE = SETS + "/{eval_id:str}"
RUNS = ONE + "/runs"
Cursor = Annotated[str | None, Parameter(max_length=300)]
Limit = Annotated[int, Parameter(ge=1, le=100)]


@get(SETS, tags=["evals"])
async def list_eval_sets(db: Database, access: WorkspaceAccess, bot: str, cursor: Cursor = None,
                         limit: Limit = 50) -> dict:
    return await service.list_sets(db, access, bot, cursor, limit)


@post(SETS, tags=["evals"], status_code=201)
async def create_eval_set(db: Database, access: WorkspaceAccess, bot: str, data: EvalSetBody) -> dict:
    return await service.create_set(db, access, bot, data)


@get(ONE, tags=["evals"])
async def get_eval_set(db: Database, access: WorkspaceAccess, bot: str, eval_id: str) -> dict:
    return await service.get_set(db, access, bot, eval_id)


@put(ONE, tags=["evals"])
async def replace_eval_set(db: Database, access: WorkspaceAccess, bot: str, eval_id: str,
                           data: EvalSetPut) -> dict:
    return await service.replace_set(db, access, bot, eval_id, data)


@delete(ONE, tags=["evals"], status_code=204)
async def delete_eval_set(db: Database, access: WorkspaceAccess, bot: str, eval_id: str) -> None:
    await service.delete_set(db, access, bot, eval_id)


@post(ONE + "/cases", tags=["evals"], status_code=200)
async def append_eval_cases(db: Database, access: WorkspaceAccess, bot: str, eval_id: str,
                            data: AppendCasesBody) -> dict:
    return await service.append_cases(db, access, bot, eval_id, data)


@post(RUNS, tags=["evals"], status_code=202)
async def start_eval_run(evals: Evals, access: WorkspaceAccess, bot: str, eval_id: str) -> dict:
    return await service.start_run(evals, access, bot, eval_id)


@get(RUNS, tags=["evals"])
async def list_eval_runs(db: Database, access: WorkspaceAccess, bot: str, eval_id: str, cursor: Cursor = None,
                         limit: Limit = 20, results: bool = True) -> dict:
    """Newest first; `results=false` leaves the per-case results out (the history chart)."""
    return await service.list_runs(db, access, bot, eval_id, cursor, limit, results)


@get(RUNS + "/{run_id:str}", tags=["evals"])
async def get_eval_run(db: Database, access: WorkspaceAccess, bot: str, eval_id: str, run_id: str) -> dict:
    return await service.get_run(db, access, bot, eval_id, run_id)


ROUTES = [list_eval_sets, create_eval_set, get_eval_set, replace_eval_set, delete_eval_set, append_eval_cases,
          start_eval_run, list_eval_runs, get_eval_run]
