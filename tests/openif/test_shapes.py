"""The pieces between a chat turn's events and OpenAI's shapes, without a server: history from
the client's messages, and events OpenAI has no place for (a server-side tool's progress)."""

from __future__ import annotations

import json

import anyio
import pytest

from modelpilot.chatbots.entities import Bot
from modelpilot.core.errors import ApiError
from modelpilot.openif.completions import Completion, chunk_stream, collect, session_of, split_messages, within_budget
from modelpilot.openif.schemas import ChatMessage
from modelpilot.settings import load_settings

SETTINGS = load_settings(env={})
BOT = Bot(id="B1", workspace_id="w1", name="Helper", slug="helper", system_prompt="", model="m", temperature=0,
          max_tokens=10, greeting="", accent_color="#000000", position="bottom-right", starter_questions=[],
          allowed_origins=[], published=False, top_k=5, score_threshold=0, created_at="", updated_at="")
DONE = {"done": True, "message_id": "M", "conversation_id": "C", "session_id": "S", "tokens_in": 3, "tokens_out": 2,
        "sources": [{"title": "Doc"}]}


async def events(*items):
    for item in items:
        yield item


def call(**kwargs) -> Completion:
    return Completion(BOT, "q", [], "S", stream=True, include_usage=kwargs.get("include_usage", False))


def test_tool_progress_events_are_left_out_of_both_shapes() -> None:
    turn = [{"tool": {"name": "lookup", "status": "running"}}, {"text": "b"},
            {"tool": {"name": "lookup", "status": "done"}}, DONE]

    async def run():
        frames = [f async for f in chunk_stream({"text": "a"}, events(*turn), call(include_usage=True))]
        whole = await collect({"text": "a"}, events(*turn), call())
        return b"".join(frames).decode(), whole

    raw, whole = anyio.run(run)
    blocks = [b for b in raw.split("\n\n") if b]
    assert blocks[-1] == "data: [DONE]"
    chunks = [json.loads(b[6:]) for b in blocks[:-1]]
    assert "".join(c["choices"][0]["delta"].get("content", "") for c in chunks if c["choices"]) == "ab"
    assert chunks[-1]["usage"] == {"prompt_tokens": 3, "completion_tokens": 2, "total_tokens": 5}
    assert chunks[-2]["modelpilot"]["sources"] == [{"title": "Doc"}]
    assert whole["choices"][0]["message"]["content"] == "ab" and whole["modelpilot"]["conversation_id"] == "C"


def test_a_turn_that_ends_without_done_is_an_error() -> None:
    async def run():
        return await collect({"text": "a"}, events(), call())

    with pytest.raises(ApiError) as failed:
        anyio.run(run)
    assert failed.value.status == 502


def test_history_is_the_earlier_user_and_assistant_turns_within_the_budget() -> None:
    messages = [ChatMessage("system", "be a pirate"), ChatMessage("assistant", "Hi, how can I help?"),
                ChatMessage("user", "one"), ChatMessage("assistant", None), ChatMessage("tool", "{}"),
                ChatMessage("assistant", [{"type": "text", "text": "two"}, {"type": "image_url"}]),
                ChatMessage("user", [{"type": "text", "text": "three"}])]
    question, history = split_messages(messages, SETTINGS)
    assert question == "three"
    assert history == [{"role": "user", "content": "one"}, {"role": "assistant", "content": "two"}]
    long = [{"role": "user", "content": "word " * 400}, {"role": "assistant", "content": "ok"},
            {"role": "user", "content": "short"}, {"role": "assistant", "content": "fine"}]
    assert within_budget(long, 100) == long[2:]
    for bad in ([], [ChatMessage("user", "  ")], [ChatMessage("robot", "x"), ChatMessage("user", "x")]):
        with pytest.raises(ApiError):
            split_messages(bad, SETTINGS)


def test_the_session_is_the_header_else_the_user_else_new() -> None:
    assert session_of({"x-session-id": " crm-9 "}, "ada") == "crm-9"
    assert session_of({}, "ada") == "ada"
    long = "someone@example.com/" + "x" * 200
    assert session_of({}, long) == session_of({}, long) and len(session_of({}, long)) <= 100
    assert session_of({}, long) != session_of({}, long + "y")
    assert session_of({}, None) != session_of({}, "")
    with pytest.raises(ApiError) as bad:
        session_of({"x-session-id": "x" * 101}, "ada")
    assert bad.value.details[0]["field"] == "X-Session-Id"
