"""The direct client's chats are priced from LiteLLM's catalog file without importing LiteLLM:
the prices must be LiteLLM's own, for every model the direct client can send."""

from __future__ import annotations

import logging

import pytest

from modelpilot.providers import price_map
from modelpilot.providers.llm import Usage, litellm_module, price
from modelpilot.providers.service import needs_litellm

# A short prompt, one over 128k, over 200k and over 272k tokens (the catalog's price tiers).
TOKEN_COUNTS = ((1_000, 500), (150_000, 3_000), (250_000, 2_000), (300_000, 4_000))


def _litellm_cost(litellm, model: str, tokens_in: int, tokens_out: int) -> float | None:
    try:
        prompt, completion = litellm.cost_per_token(model=model, prompt_tokens=tokens_in,
                                                     completion_tokens=tokens_out)
    except Exception:  # ModelNotMappedError: LiteLLM prices it at nothing
        return None
    return prompt + completion


def test_every_openai_chat_model_is_priced_as_litellm_prices_it():
    litellm = litellm_module()
    logging.getLogger("LiteLLM").setLevel(logging.CRITICAL)
    catalog = price_map.catalog_sync()
    models = [f"openai/{name}" for name, entry in catalog.items()
              if entry.get("litellm_provider") == "openai" and entry.get("mode") == "chat" and "/" not in name]
    assert len(models) > 50  # the catalog was found and read
    priced = 0
    for model in models:
        for tokens_in, tokens_out in TOKEN_COUNTS:
            ours = price_map.quick_price(model, tokens_in, tokens_out)
            if ours is price_map.ASK_LITELLM:
                continue
            theirs = _litellm_cost(litellm, model, tokens_in, tokens_out)
            assert (ours is None) == (theirs is None), model
            if ours is not None:
                assert ours == pytest.approx(theirs, rel=1e-9, abs=1e-15), (model, tokens_in, tokens_out)
                priced += 1
    assert priced > 200


@pytest.mark.parametrize("model", ["openai/llama3.1:8b", "openai/my-local-model", "openai/qwen2.5-7b-instruct"])
def test_models_nobody_prices_are_free_with_a_note(model):
    assert _litellm_cost(litellm_module(), model, 1000, 100) is None  # LiteLLM does not know them either
    cost, note = price(None, model, Usage(tokens_in=1000, tokens_out=100))
    assert cost == 0.0 and note == "no price known for this model; counted as free"


def test_a_tier_price_applies_over_its_prompt_size():
    catalog = price_map.catalog_sync()
    tiered = next(name for name, entry in catalog.items() if entry.get("litellm_provider") == "openai"
                  and "input_cost_per_token_above_272k_tokens" in entry and "/" not in name)
    entry = catalog[tiered]
    below = price_map.quick_price(f"openai/{tiered}", 272_000, 0)
    above = price_map.quick_price(f"openai/{tiered}", 272_001, 0)
    assert below == pytest.approx(272_000 * entry["input_cost_per_token"])
    assert above == pytest.approx(272_001 * entry["input_cost_per_token_above_272k_tokens"])


@pytest.mark.parametrize("model", ["openai/ft:gpt-4o-mini-2024-07-18:org::abc", "anthropic/claude-3-5-haiku-20241022",
                                   "openai/openai/container"])
def test_what_the_map_cannot_price_is_left_to_litellm(model):
    assert price_map.quick_price(model, 10, 10) is price_map.ASK_LITELLM


def test_which_bots_need_litellm():
    assert not needs_litellm("builtin/extractive", True)
    assert not needs_litellm("openai/gpt-4o-mini", True)
    assert not needs_litellm("openai_compatible/llama3", True)  # a local server: unpriced, no LiteLLM
    assert needs_litellm("openai/gpt-4o-mini", False)           # the direct client switched off
    assert needs_litellm("anthropic/claude-3-5-haiku-20241022", True)
    assert needs_litellm("openai/o3-mini", True)                 # LiteLLM rewrites its parameters
    assert needs_litellm("openai/ft:gpt-4o-mini-2024-07-18:org::abc", True)  # only LiteLLM prices fine-tunes
