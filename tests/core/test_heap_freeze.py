"""What lives as long as the process leaves the garbage collector's reach (core/memory.freeze_heap):
a full collection walks every tracked object while the event loop waits, and once LiteLLM was
imported that was ~416,000 objects, a ~250 ms pause for every stream in flight whenever one ran.
Counted in a fresh interpreter: the objects a collection would walk, and those frozen."""

from __future__ import annotations

import json
import os
import subprocess
import sys

CHILD = r"""
import gc, json, sys
what = sys.argv[1]
if what == "litellm":
    from modelpilot.providers.llm import litellm_module
    litellm_module()
else:
    from modelpilot.rag.embedder import get_embedder_sync
    get_embedder_sync()
print(json.dumps({"walked": len(gc.get_objects()), "frozen": gc.get_freeze_count()}))
"""


def counts(what: str) -> dict:
    done = subprocess.run([sys.executable, "-c", CHILD, what], capture_output=True, text=True, timeout=120,
                          env={**os.environ, "LITELLM_OFFLINE_MODE": "true"})
    assert done.returncode == 0, done.stderr
    return json.loads(done.stdout.strip().splitlines()[-1])


def test_litellm_s_objects_are_frozen_once_it_is_imported():
    found = counts("litellm")
    assert found["frozen"] > 300_000
    assert found["walked"] < 20_000  # what a collection still walks: what the program made since


def test_the_embedding_model_s_objects_are_frozen_once_it_is_loaded():
    found = counts("embedder")
    assert found["frozen"] > 50_000
    assert found["walked"] < 20_000
