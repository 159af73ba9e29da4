"""The direct OpenAI-compatible client against the fake provider: pieces, usage, cost, every failure.

Chat-level behaviour over both paths is in test_chat.py; these tests drive the stream itself so each
failure mode can be checked for its code, its message and what was streamed before it.
"""

from __future__ import annotations

import asyncio
import json
import logging
import socket

import pytest

from modelpilot.providers.direct import DirectStream, close_shared_client, direct_model_name, model_stream
from modelpilot.providers.errors import LLMError
from modelpilot.providers.llm import LLMCall, ModelStream, litellm_module
from modelpilot.providers.sse_decoder import SSEDecoder
from tests.fakes.llm import ANSWER

GOOD_KEY = "sk-good-0123456789abcdefXYZ"
WRONG_KEY = "sk-wrong-0123456789abcdefXYZ"
MESSAGES = [{"role": "system", "content": "Be brief."}]


def run_stream(base: str, said: str, *, key: str = GOOD_KEY, model: str = "gpt-4o-mini",
               provider: str = "openai", idle: float = 5.0) -> tuple[list[str], DirectStream, LLMError | None]:
    """Stream one answer in a fresh event loop; returns the pieces, the stream and the error, if any."""
    call = LLMCall(model, [*MESSAGES, {"role": "user", "content": said}], key, base, temperature=0.2,
                   max_tokens=123, connect_timeout=2.0, idle_timeout=idle)
    stream = model_stream(call, provider, allow_direct=True)
    assert isinstance(stream, DirectStream)
    pieces: list[str] = []
    failure: list[LLMError] = []

    async def consume() -> None:
        try:
            async for piece in stream:
                pieces.append(piece)
        except LLMError as exc:
            failure.append(exc)
        finally:
            await close_shared_client()

    asyncio.run(consume())
    return pieces, stream, failure[0] if failure else None


def test_pieces_arrive_in_order_with_the_reported_usage_priced_once(fake_llm):
    pieces, stream, error = run_stream(fake_llm.url, "What do you sell?")
    assert error is None and len(pieces) > 1 and "".join(pieces) == ANSWER
    sent = fake_llm.requests[-1]
    assert sent["model"] == "gpt-4o-mini" and sent["stream"] is True
    assert sent["stream_options"] == {"include_usage": True}
    assert sent["max_tokens"] == 123 and sent["temperature"] == 0.2
    assert sent["messages"] == [*MESSAGES, {"role": "user", "content": "What do you sell?"}]
    usage = stream.usage
    assert usage.reported and usage.tokens_in == 2 + 4 and usage.tokens_out == len(ANSWER.split())
    expected = sum(litellm_module().cost_per_token(model="gpt-4o-mini", prompt_tokens=usage.tokens_in,
                                                   completion_tokens=usage.tokens_out))
    assert usage.cost == pytest.approx(expected) and usage.cost > 0 and usage.cost_note == ""


def test_a_finished_answer_without_the_closing_done_line_is_complete(fake_llm):
    pieces, stream, error = run_stream(fake_llm.url, "[[nodone]] hi")
    assert error is None and "".join(pieces) == ANSWER and stream.usage.reported


def test_provider_prefix_is_not_sent_and_unknown_local_models_are_free(fake_llm):
    run_stream(fake_llm.url, "hi", model="openai/gpt-4o-mini")
    assert fake_llm.requests[-1]["model"] == "gpt-4o-mini"
    pieces, stream, error = run_stream(fake_llm.url, "hi", model="openai/acme/local-llama-7b",
                                       provider="openai_compatible")
    assert error is None and "".join(pieces) == ANSWER
    assert fake_llm.requests[-1]["model"] == "acme/local-llama-7b"
    assert stream.usage.cost == 0 and "no price known" in stream.usage.cost_note
    assert stream.usage.tokens_out == len(ANSWER.split())


@pytest.mark.parametrize("said, code, words, streamed", [
    ("[[fail500]] hi", "provider_error", "fell over", 0),
    ("[[drop]] hi", "provider_error", "failed while answering", 2),
    ("[[errorchunk]] hi", "provider_error", "overloaded", 2),
    ("[[cutshort]] hi", "provider_error", "ended early", 2),
    ("[[stall]] hi", "provider_timeout", "sent nothing for 0.5 s", 0),
    ("[[stallmid]] hi", "provider_timeout", "sent nothing for 0.5 s", 2),
])
def test_upstream_failures_end_with_a_plain_error_after_what_was_streamed(fake_llm, said, code, words, streamed):
    pieces, _, error = run_stream(fake_llm.url, said, idle=0.5)
    assert error is not None and error.code == code, error and error.message
    assert words in error.message
    assert len(pieces) == streamed and ANSWER.startswith("".join(pieces))


def test_a_wrong_key_is_refused_in_plain_words_and_never_shown_or_logged(fake_llm, caplog):
    caplog.set_level(logging.DEBUG)
    pieces, _, error = run_stream(fake_llm.url, "hi", key=WRONG_KEY)
    assert pieces == [] and error.code == "provider_auth" and "rejected the API key" in error.message
    for text in (error.message, caplog.text):
        assert "0123456789abcdef" not in text


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def test_an_unreachable_api_base_says_so():
    pieces, _, error = run_stream(f"http://127.0.0.1:{free_port()}/v1", "hi")
    assert pieces == [] and error.code == "provider_unreachable" and "Could not reach" in error.message


@pytest.mark.parametrize("provider, model, sent", [
    ("openai", "gpt-4o-mini", "gpt-4o-mini"),
    ("openai", "openai/gpt-4o", "gpt-4o"),
    ("openai_compatible", "openai/Qwen/Qwen2.5-7B-Instruct", "Qwen/Qwen2.5-7B-Instruct"),
    ("openai", "o3-mini", None),             # LiteLLM rewrites reasoning models' parameters
    ("openai", "openai/gpt-5-mini", None),
    ("anthropic", "anthropic/claude-3-5-haiku-latest", None),
    ("ollama", "ollama_chat/llama3.2", None),
    ("groq", "groq/llama-3.1-8b-instant", None),
])
def test_only_plain_openai_compatible_routes_take_the_direct_client(provider, model, sent):
    assert direct_model_name(provider, model) == sent
    stream = model_stream(LLMCall(model, MESSAGES), provider, allow_direct=True)
    assert isinstance(stream, DirectStream if sent else ModelStream)
    assert isinstance(model_stream(LLMCall(model, MESSAGES), provider, allow_direct=False), ModelStream)


STREAM = (b': keep-alive\r\n\r\n'
          b'data: {"choices":[{"delta":{"content":"H\xc3\xa9llo"}}]}\r\n\r\n'
          b'event: message\nid: 7\ndata: {"choices":\ndata: [{"delta":{"content":" world"}}]}\n\n'
          b'data: [DONE]')
EVENTS = [b'{"choices":[{"delta":{"content":"H\xc3\xa9llo"}}]}',
          b'{"choices":\n[{"delta":{"content":" world"}}]}', b"[DONE]"]


@pytest.mark.parametrize("size", [1, 2, 3, 7, len(STREAM)])
def test_sse_events_survive_any_split_across_reads(size):
    decoder = SSEDecoder()
    events = []
    for start in range(0, len(STREAM), size):
        events += decoder.feed(STREAM[start:start + size])
    events += decoder.close()
    assert events == EVENTS
    assert json.loads(events[1])["choices"][0]["delta"]["content"] == " world"


def test_sse_events_survive_every_single_split_point():
    for cut in range(1, len(STREAM)):
        decoder = SSEDecoder()
        events = decoder.feed(STREAM[:cut]) + decoder.feed(STREAM[cut:]) + decoder.close()
        assert events == EVENTS, cut
