"""Which provider serves a model name, worked out without importing LiteLLM where possible.

Bot models are LiteLLM names: `openai/gpt-4o-mini`, `gpt-4o-mini`, `anthropic/claude-...`,
`ollama_chat/llama3.2`; plus `openai_compatible/<name>` for any OpenAI-style server at the
provider's api_base, and `builtin/extractive`, which answers from the knowledge alone.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

BUILTIN_EXTRACTIVE = "builtin/extractive"

# Providers known without asking LiteLLM; anything else must be in litellm.provider_list.
COMMON_PROVIDERS = frozenset({
    "openai", "anthropic", "gemini", "mistral", "groq", "openrouter", "ollama", "openai_compatible",
    "azure", "cohere", "deepseek", "together_ai", "fireworks_ai", "perplexity", "xai", "vertex_ai",
    "bedrock", "hosted_vllm", "lm_studio", "huggingface", "deepinfra", "cerebras",
})
# Providers that usually run on the user's own network and need no key.
KEYLESS_PROVIDERS = frozenset({"ollama", "openai_compatible", "hosted_vllm", "lm_studio"})
# Model prefixes that belong to a provider row of another name.
PREFIX_ALIASES = {"ollama_chat": "ollama"}
PROVIDER_NAME = re.compile(r"^[a-z][a-z0-9_]{1,39}$")

# A cheap model per provider: the default for new bots and for the one-token key test.
DEFAULT_MODELS = {
    "openai": "openai/gpt-4o-mini",
    "anthropic": "anthropic/claude-3-5-haiku-latest",
    "gemini": "gemini/gemini-1.5-flash",
    "mistral": "mistral/mistral-small-latest",
    "groq": "groq/llama-3.1-8b-instant",
    "openrouter": "openrouter/openai/gpt-4o-mini",
    "ollama": "ollama_chat/llama3.2",
    "deepseek": "deepseek/deepseek-chat",
}


@dataclass(frozen=True)
class ModelRoute:
    provider: str        # the provider row that holds the key ("builtin" for the built-in model)
    litellm_model: str   # the name handed to LiteLLM


def route_by_prefix(model: str) -> ModelRoute | None:
    """The provider named by the model's prefix, or None when LiteLLM must decide."""
    if model == BUILTIN_EXTRACTIVE:
        return ModelRoute("builtin", model)
    prefix, slash, rest = model.partition("/")
    if not slash or not rest:
        return None
    if prefix in ("ollama", "ollama_chat"):
        # ollama_chat/ talks to /api/chat; ollama/ flattens the conversation into one prompt.
        return ModelRoute("ollama", f"ollama_chat/{rest}")
    if prefix == "openai_compatible":
        return ModelRoute("openai_compatible", f"openai/{rest}")
    if prefix in COMMON_PROVIDERS:
        return ModelRoute(prefix, model)
    return None


def default_model_for(provider: str) -> str:
    return DEFAULT_MODELS.get(provider, BUILTIN_EXTRACTIVE)


def mask_key(api_key: str) -> str:
    """What the API shows of a key: enough to recognise it, never enough to use it."""
    if not api_key:
        return ""
    if len(api_key) < 12:
        return "..." + api_key[-2:]
    head = api_key[:3]
    return f"{head}...{api_key[-4:]}"
