"""LiteLLM's bundled model catalog (prices, tool calling), read from its JSON file without
importing LiteLLM.

Importing LiteLLM costs ~150 MB of resident memory and ~2 s of CPU. An instance whose bots
use only the built-in model or OpenAI-style providers (served by the direct client) needs from
it just two facts per model: its price per token, and whether it calls tools. Both come from
the JSON file LiteLLM ships (the same file it reads itself: LITELLM_LOCAL_MODEL_COST_MAP is set),
kept here in a compact form (~5 MB, ~70 ms to read once).

Prices computed here are LiteLLM's own for the names the direct client sends: "openai/<model>"
with input and output prices per token, and the tiered prices above a prompt size
(tests/providers/test_price_map.py compares every such catalog entry with
litellm.cost_per_token). Anything else (fine-tuned "ft:" names, entries priced otherwise, other
providers, which go through LiteLLM anyway) is LiteLLM's to price: `quick_price` says so.
"""

from __future__ import annotations

import importlib.util
import json
import logging
import re
import threading
from pathlib import Path
from typing import Any

import anyio

log = logging.getLogger("modelpilot.providers.price_map")

CATALOG_FILE = "model_prices_and_context_window_backup.json"
# What is kept of each entry: the rest (context sizes, cache and batch prices, regions) is not read.
_KEPT = ("input_cost_per_token", "output_cost_per_token", "supports_function_calling", "mode", "litellm_provider")
_TIER = re.compile(r"^(?:input|output)_cost_per_token_above_(\d+)k_tokens$")
ASK_LITELLM = object()  # quick_price's answer when only LiteLLM can price the model

_catalog: dict[str, dict] | None = None
_lock = threading.Lock()


def catalog_path() -> Path | None:
    """LiteLLM's catalog file, found without importing the package (also inside the binary)."""
    spec = importlib.util.find_spec("litellm")
    for folder in (spec.submodule_search_locations or []) if spec else []:
        path = Path(folder) / CATALOG_FILE
        if path.is_file():
            return path
    return None


def _compact(entry: dict) -> dict:
    kept = {key: entry[key] for key in _KEPT if key in entry}
    kept.update((key, value) for key, value in entry.items() if _TIER.match(key))
    return kept


def catalog_sync() -> dict[str, dict]:
    """The compact catalog, read once (blocking: call from a thread, or via load_catalog)."""
    global _catalog
    if _catalog is None:
        with _lock:
            if _catalog is None:
                path = catalog_path()
                found: dict[str, dict] = {}
                if path is None:
                    log.warning("LiteLLM's model catalog (%s) was not found: prices and tool support "
                                "come from LiteLLM itself", CATALOG_FILE)
                else:
                    raw = json.loads(path.read_bytes())
                    found = {name: _compact(entry) for name, entry in raw.items()
                             if isinstance(entry, dict) and name != "sample_spec"}
                _catalog = found
    return _catalog


async def load_catalog() -> dict[str, dict]:
    if _catalog is not None:
        return _catalog
    return await anyio.to_thread.run_sync(catalog_sync)


def loaded() -> dict[str, dict] | None:
    """The catalog if it has been read (never reads it: callers on the event loop)."""
    return _catalog


def _rates(entry: dict, tokens_in: int) -> tuple[float, float]:
    """Input and output price per token; over a tier's prompt size, that tier's (the highest passed)."""
    rate_in, rate_out = float(entry["input_cost_per_token"]), float(entry["output_cost_per_token"])
    passed = [int(m.group(1)) for key in entry if (m := _TIER.match(key)) and tokens_in > int(m.group(1)) * 1000]
    if passed:
        tier = max(passed)
        rate_in = float(entry.get(f"input_cost_per_token_above_{tier}k_tokens", rate_in))
        rate_out = float(entry.get(f"output_cost_per_token_above_{tier}k_tokens", rate_out))
    return rate_in, rate_out


def quick_price(model: str, tokens_in: int, tokens_out: int) -> Any:
    """The cost in dollars; None for a model nobody prices (a local one); ASK_LITELLM where only
    LiteLLM knows (see the module's docstring)."""
    catalog = catalog_sync()
    name = model.removeprefix("openai/")
    if not catalog or name == model or "/" in name or name.startswith("ft:"):
        return ASK_LITELLM
    entry = catalog.get(model) or catalog.get(name)
    if entry is None:
        return None
    if entry.get("input_cost_per_token") is None or entry.get("output_cost_per_token") is None:
        return ASK_LITELLM
    rate_in, rate_out = _rates(entry, tokens_in)
    return tokens_in * rate_in + tokens_out * rate_out
