"""Running a test set: a job on the durable queue, each case answered by the bot's real answer path.

`eval.run` (ref: the run) answers every case with chat's `answer_without_saving` (the bot's model,
retrieval at its top_k, the same prompt and provider stream; nothing written to the visitor log)
and scores it. A case passes when its expected source is within the top k retrieved chunks (when
it names one), every expected word or phrase is in the answer (whole words, any case) and the
answer did not fail. Recall@k is the share of cases naming a source whose source was found.

`eval.auto` (ref: the set) is how a knowledge change starts a run: every document indexed or
deleted (re)queues it `debounce_seconds` ahead, replacing the one still waiting, and when it
comes due while the bot still has documents waiting to be indexed it puts itself off again. So
a crawl or an upload of 200 files ends in one run, after the last of them. Both kinds run in a
worker of their own (ingestion and webhook slots are never taken), and the queue's claim, leases
and take-over mean each job runs once across a fleet.
"""

from __future__ import annotations

import logging
import re
from dataclasses import dataclass, field
from typing import Any, Sequence

from modelpilot.chat import service as chat
from modelpilot.chatbots import service as bots
from modelpilot.core.db import Connection, Database, run_on
from modelpilot.core.errors import ApiError
from modelpilot.core.ids import new_id, utc_now_iso
from modelpilot.evals import repo
from modelpilot.evals.entities import EvalRun, EvalSet
from modelpilot.knowledge import service as knowledge
from modelpilot.providers.errors import LLMError
from modelpilot.scheduler import jobs
from modelpilot.scheduler.worker import JobWorker
from modelpilot.settings import Settings

log = logging.getLogger("modelpilot.evals")
RUN_JOB = "eval.run"
AUTO_JOB = "eval.auto"
DEBOUNCE_SECONDS = 30.0  # a knowledge change waits this long for the next one before a run starts
SLOTS = 2
PROGRESS_EVERY = 5       # cases between progress writes (results are written once, at the end)


def new_run(eval_set: EvalSet, top_k: int, reason: str) -> dict:
    return {"id": new_id(), "chatbot_id": eval_set.chatbot_id, "eval_set_id": eval_set.id, "status": "queued",
            "reason": reason, "top_k": top_k, "total": len(eval_set.cases), "done": 0, "passed": 0,
            "with_source": 0, "found": 0, "results": [], "error": None, "created_at": utc_now_iso(),
            "started_at": None, "finished_at": None}


def _url_key(value: str | None) -> str:
    return (value or "").strip().rstrip("/").casefold()


def source_matches(case: dict, retrieved: dict) -> bool:
    """The expected source is a document id, a title (any case) or a URL (trailing slash aside);
    with expect_page, the chunk must come from that page too."""
    wanted = case["expect_source"]
    same = (retrieved["document_id"] == wanted or retrieved["title"].strip().casefold() == wanted.casefold()
            or (retrieved["url"] is not None and _url_key(retrieved["url"]) == _url_key(wanted)))
    return same and (case.get("expect_page") is None or retrieved["page"] == case["expect_page"])


def contains_words(answer: str, words: Sequence[str]) -> list[str]:
    """The expected words (or phrases) missing from the answer: whole words, any case."""
    return [word for word in words
            if not re.search(r"(?<!\w)" + re.escape(word) + r"(?!\w)", answer, re.IGNORECASE)]


def score_case(case: dict, chunks: Sequence[Any], answer: str, error: str | None) -> dict:
    retrieved = [{"rank": rank, "document_id": c.document_id, "title": c.title, "url": c.url, "page": c.page,
                  "score": c.score} for rank, c in enumerate(chunks, start=1)]
    found_rank = None
    if case.get("expect_source"):
        found_rank = next((r["rank"] for r in retrieved if source_matches(case, r)), None)
    source_found = None if not case.get("expect_source") else found_rank is not None
    missing = contains_words(answer, case.get("expect_text") or [])
    passed = error is None and source_found is not False and not missing
    return {**case, "retrieved": retrieved, "found_rank": found_rank, "source_found": source_found,
            "answer": answer, "missing_text": missing, "passed": passed, "error": error}


@dataclass
class Tally:
    results: list[dict] = field(default_factory=list)

    def figures(self) -> dict:
        named = [r for r in self.results if r["source_found"] is not None]
        return {"done": len(self.results), "passed": sum(r["passed"] for r in self.results),
                "with_source": len(named), "found": sum(bool(r["source_found"]) for r in named)}


@dataclass
class Evals:
    """The test-set runner of this node: app.state["evals"]."""
    db: Database
    settings: Settings
    debounce_seconds: float = DEBOUNCE_SECONDS  # tests shorten it
    worker: JobWorker | None = None

    def wake(self) -> None:
        if self.worker is not None:
            self.worker.wake()

    async def knowledge_changed(self, conn: Connection, workspace_id: str, chatbot_id: str) -> None:
        """knowledge's on_change: (re)queue each auto-run set's run, debounced, in the change's
        own transaction (a crash cannot lose it)."""
        delay = self.debounce_seconds

        def queue(sync_conn) -> None:
            for set_id in repo.auto_set_ids_sync(sync_conn, workspace_id, chatbot_id):
                jobs.enqueue_sync(sync_conn, workspace_id, AUTO_JOB, set_id, {}, delay_seconds=delay)

        await run_on(conn, queue)

    async def start(self) -> None:
        worker = JobWorker(self.db, slots=SLOTS, node=self.settings.node_name,
                           lease_seconds=self.settings.job_lease_seconds, yield_to=self.db.foreground)
        worker.register(RUN_JOB, self._handle_run, _give_up_run, _run_wanted)
        worker.register(AUTO_JOB, self._handle_auto, wanted=_set_wanted)
        self.worker = worker
        await worker.start()

    async def stop(self) -> None:
        if self.worker is not None:
            await self.worker.stop()

    async def _handle_auto(self, db: Database, job: dict) -> None:
        ws, set_id = job["workspace_id"], job["ref_id"]
        async with db.read() as conn:
            eval_set = await repo.find_set(conn, ws, set_id)
            active = await repo.active_run(conn, ws, set_id) if eval_set else None
        if eval_set is None or not eval_set.auto_run or not eval_set.cases:
            return
        if active is not None and active.status == "queued":
            return  # that run has not started: it will see this change
        if active is not None or await knowledge.documents_pending_in(db, ws, eval_set.chatbot_id):
            await self._put_off(ws, set_id)  # more is coming (or a run is reading older knowledge)
            return
        await self._queue_run(eval_set)

    async def _put_off(self, workspace_id: str, set_id: str) -> None:
        delay = self.debounce_seconds
        await self.db.run_write(lambda conn: jobs.enqueue_sync(conn, workspace_id, AUTO_JOB, set_id, {},
                                                               delay_seconds=delay))

    async def _queue_run(self, eval_set: EvalSet) -> None:
        try:
            bot = await bots.get_bot(self.db, eval_set.workspace_id, eval_set.chatbot_id)
        except ApiError:
            return  # the bot went (its sets go with it)
        run = new_run(eval_set, bot.top_k, "knowledge")
        async with self.db.write() as conn:
            await repo.insert_run(conn, eval_set.workspace_id, run)
            await jobs.enqueue(conn, eval_set.workspace_id, RUN_JOB, run["id"], {"eval_set_id": eval_set.id})
        self.wake()

    async def _handle_run(self, db: Database, job: dict) -> None:
        ws = job["workspace_id"]
        async with db.read() as conn:
            run = await repo.get_run(conn, ws, job["ref_id"])
            eval_set = await repo.find_set(conn, ws, run.eval_set_id) if run else None
        if run is None or eval_set is None:
            return  # deleted meanwhile
        try:
            bot = await bots.get_bot(db, ws, run.chatbot_id)
        except ApiError:
            return
        await self._execute(run, eval_set, bot)

    async def _execute(self, run: EvalRun, eval_set: EvalSet, bot: Any) -> None:
        ws, db = run.workspace_id, self.db
        cases = eval_set.cases  # as they are now: an edit during the run applies to the next one
        async with db.write() as conn:
            await repo.update_run(conn, ws, run.id, {
                "status": "running", "started_at": utc_now_iso(), "top_k": bot.top_k, "total": len(cases),
                "done": 0, "passed": 0, "with_source": 0, "found": 0, "results": [], "error": None})
        tally = Tally()
        for case in cases:
            tally.results.append(await self._answer(ws, bot, case))
            if len(tally.results) % PROGRESS_EVERY == 0:
                async with db.write() as conn:
                    await repo.update_run(conn, ws, run.id, tally.figures())
        async with db.write() as conn:
            await repo.update_run(conn, ws, run.id, {**tally.figures(), "results": tally.results, "status": "done",
                                                     "finished_at": utc_now_iso()})

    async def _answer(self, workspace_id: str, bot: Any, case: dict) -> dict:
        try:
            answer = await chat.answer_without_saving(self.db, self.settings, workspace_id=workspace_id, bot=bot,
                                                      question=case["question"])
        except (ApiError, LLMError) as exc:
            return score_case(case, [], "", exc.message)
        return score_case(case, answer.chunks, answer.text, None)


async def _give_up_run(db: Database, job: dict, message: str) -> None:
    """An unexpected failure: the run says so instead of staying 'running'."""
    async with db.write() as conn:
        await repo.update_run(conn, job["workspace_id"], job["ref_id"], {
            "status": "error", "error": f"The run stopped: {message}", "finished_at": utc_now_iso()})


async def _run_wanted(db: Database, job: dict) -> bool:
    async with db.read() as conn:
        return await repo.get_run(conn, job["workspace_id"], job["ref_id"]) is not None


async def _set_wanted(db: Database, job: dict) -> bool:
    async with db.read() as conn:
        return await repo.find_set(conn, job["workspace_id"], job["ref_id"]) is not None
