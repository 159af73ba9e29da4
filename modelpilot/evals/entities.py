"""Test sets and their runs as the rest of the code sees them: typed, immutable rows."""

from __future__ import annotations

import json

import msgspec


class EvalSet(msgspec.Struct, frozen=True, kw_only=True):
    id: str
    workspace_id: str
    chatbot_id: str
    name: str
    cases: list  # [{question, expect_source, expect_page, expect_text: [...]}], cleaned by schemas' rules
    auto_run: bool
    created_at: str
    updated_at: str

    @classmethod
    def from_row(cls, row) -> "EvalSet":
        return cls(**{**{k: row[k] for k in EVAL_SET_FIELDS}, "cases": json.loads(row["cases"]),
                      "auto_run": bool(row["auto_run"])})

    def public(self) -> dict:
        fields = msgspec.structs.asdict(self)
        del fields["workspace_id"]
        fields["case_count"] = len(self.cases)
        return fields


class EvalRun(msgspec.Struct, frozen=True, kw_only=True):
    id: str
    workspace_id: str
    chatbot_id: str
    eval_set_id: str
    status: str        # queued | running | done | error
    reason: str        # manual | knowledge (after a knowledge change)
    top_k: int
    total: int
    done: int          # cases answered so far (progress while running)
    passed: int
    with_source: int   # cases that name an expected source: Recall@k's denominator
    found: int         # of those, how many had it within the top k
    results: list
    error: str | None
    created_at: str
    started_at: str | None
    finished_at: str | None

    @classmethod
    def from_row(cls, row) -> "EvalRun":
        return cls(**{**{k: row[k] for k in EVAL_RUN_FIELDS}, "results": json.loads(row["results"])})

    @property
    def pass_rate(self) -> float | None:
        return round(self.passed / self.total, 4) if self.total and self.status == "done" else None

    @property
    def recall_at_k(self) -> float | None:
        return round(self.found / self.with_source, 4) if self.with_source and self.status == "done" else None

    def public(self, with_results: bool = True) -> dict:
        fields = msgspec.structs.asdict(self)
        del fields["workspace_id"]
        if not with_results:
            del fields["results"]
        fields.update(pass_rate=self.pass_rate, recall_at_k=self.recall_at_k)
        return fields


EVAL_SET_FIELDS = tuple(f.name for f in msgspec.structs.fields(EvalSet))
EVAL_RUN_FIELDS = tuple(f.name for f in msgspec.structs.fields(EvalRun))
