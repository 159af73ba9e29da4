"""LiteLLM as a client (what Open WebUI, LibreChat and n8n setups often put in front): a bot is
`openai/<slug>` with our /v1 as api_base."""

from __future__ import annotations

import os

import anyio

from tests.fakes.llm import ANSWER
from tests.openif.support import connect_fake_llm, new_token
from tests.shared_server import owner, server  # noqa: F401 (module-scoped fixtures)

os.environ.setdefault("LITELLM_OFFLINE_MODE", "true")


def test_litellm_acompletion_stream_and_not(owner, server, fake_llm) -> None:  # noqa: F811
    import litellm

    connect_fake_llm(owner, fake_llm)
    owner.create_bot(owner.ws, name="Lite bot", model="gpt-4o-mini")
    token = new_token(owner)
    common = {"model": "openai/lite-bot", "api_base": f"{server.url}/v1", "api_key": token,
              "messages": [{"role": "user", "content": "Hello?"}]}

    async def both() -> tuple:
        whole = await litellm.acompletion(**common)
        pieces = []
        async for chunk in await litellm.acompletion(**common, stream=True, stream_options={"include_usage": True}):
            pieces.append(chunk.choices[0].delta.content or "" if chunk.choices else "")
        return whole, "".join(pieces)

    whole, streamed = anyio.run(both)
    assert whole.choices[0].message.content == ANSWER and streamed == ANSWER
    assert whole.usage.completion_tokens == len(ANSWER.split()) and whole.usage.prompt_tokens > 0
