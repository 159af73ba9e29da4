"""LiteLLM (~150 MB resident) is imported only when a bot needs it: an instance whose bots use
the built-in model or OpenAI models through the direct client chats, and prices its chats,
without it. Each scenario runs in a fresh Python process, since an import is process-wide."""

from __future__ import annotations

import json
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from modelpilot.providers.llm import litellm_module
from tests.support import make_settings

ROOT = Path(__file__).resolve().parents[2]

CHILD = textwrap.dedent("""
    import json, sys, time
    from pathlib import Path
    from tests.support import Api, make_settings, start_server
    from tests.fakes.llm import start_fake_llm

    def wait_import(seconds):
        deadline = time.monotonic() + seconds
        while "litellm" not in sys.modules and time.monotonic() < deadline:
            time.sleep(0.05)
        return "litellm" in sys.modules

    data_dir, step, database_url = Path(sys.argv[1]), sys.argv[2], sys.argv[3]
    fake = start_fake_llm()
    live = start_server(make_settings(data_dir, llm_preload=True, database_url=database_url))
    out = {}
    with Api(live.url) as api:
        if step == "first":
            api.setup_owner()
            api.add_provider(api.ws, "openai", "sk-test-0123456789abcdef", fake.url)
            bot = api.create_bot(api.ws, model="openai/gpt-4o-mini")
            events = api.chat(api.ws, bot["id"], "What do you sell?")
            out["done"] = events[-1]
            time.sleep(2.0)  # past the start-up preload (1 s after start)
            out["imported_after_direct_chat"] = "litellm" in sys.modules
            api.add_provider(api.ws, "anthropic", "sk-ant-test-0123456789abcdef")
            api.create_bot(api.ws, model="anthropic/claude-3-5-haiku-20241022")
            out["imported_after_anthropic_bot"] = wait_import(30)
        else:
            out["imported_at_start_with_anthropic_bot"] = wait_import(30)
    live.stop()
    fake.stop()
    print("RESULT " + json.dumps(out))
""")


def _run(data_dir: Path, step: str, database_url: str) -> dict:
    done = subprocess.run([sys.executable, "-c", CHILD, str(data_dir), step, database_url], cwd=ROOT, capture_output=True,
                          text=True, timeout=180)
    line = next((l for l in done.stdout.splitlines() if l.startswith("RESULT ")), None)
    assert line, done.stdout[-2000:] + done.stderr[-4000:]
    return json.loads(line.removeprefix("RESULT "))


def test_litellm_is_imported_only_for_a_bot_that_needs_it(tmp_path):
    database_url = make_settings(tmp_path / "data").database_url  # both processes share it (Postgres too)
    first = _run(tmp_path / "data", "first", database_url)
    done = first["done"]
    assert done.get("done") is True, done
    # Priced from the catalog file, at LiteLLM's own price for the model (not "unpriced").
    prompt, completion = litellm_module().cost_per_token(model="openai/gpt-4o-mini", prompt_tokens=done["tokens_in"],
                                                         completion_tokens=done["tokens_out"])
    assert done["cost"] > 0 and done["cost"] == pytest.approx(prompt + completion), done
    assert first["imported_after_direct_chat"] is False
    # A bot on a provider only LiteLLM speaks: imported in the background right after saving it.
    assert first["imported_after_anthropic_bot"] is True
    # After a restart, the start-up preload sees that bot and imports LiteLLM early again.
    assert _run(tmp_path / "data", "again", database_url)["imported_at_start_with_anthropic_bot"] is True
