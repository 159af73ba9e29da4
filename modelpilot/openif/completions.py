"""POST /v1/chat/completions: an OpenAI Chat Completions call, answered by a chatbot's own turn.

The request becomes a chat turn (chat/service.answer_with_history): the last message is the
question, the earlier user and assistant messages the history (trimmed to the same token budget
as a saved session's). The bot's system prompt replaces any system or developer message the
client sends: the bot's prompt, knowledge and tools are what the workspace configured, and an
integration that wants other instructions configures another bot. Each call is saved as a
conversation on channel `api`, one per `X-Session-Id` header, else per `user` field, else per
call. The turn's events are then shaped as OpenAI's: one `chat.completion`, or
`chat.completion.chunk` SSE lines ending with `data: [DONE]`.
"""

from __future__ import annotations

import hashlib
import re
import time
from dataclasses import dataclass, field
from typing import Any, AsyncIterator, Mapping

import anyio
import msgspec

from modelpilot.chat import service as chat
from modelpilot.chatbots import service as chatbots
from modelpilot.chatbots.entities import Bot
from modelpilot.core.access import WorkspaceAccess
from modelpilot.core.db import Database
from modelpilot.core.errors import ApiError, invalid
from modelpilot.core.ids import epoch_from_iso, new_id
from modelpilot.openif.errors import error_frame
from modelpilot.openif.schemas import ChatMessage, CompletionRequest
from modelpilot.providers.llm import rough_tokens
from modelpilot.settings import Settings

KNOWN_ROLES = {"system", "developer", "user", "assistant", "tool", "function"}
HISTORY_ROLES = {"user", "assistant"}  # tool calls and results of the client's own tools are not the bot's
MAX_SESSION = 100
_AT_FIELD = re.compile(r"at `\$\.([^`]+)`")
_MISSING = re.compile(r"missing required field `([^`]+)`")
_encode = msgspec.json.Encoder().encode
DONE_FRAME = b"data: [DONE]\n\n"


@dataclass
class Completion:
    """One checked request, ready to answer."""
    bot: Bot
    question: str
    history: list[dict]
    session_id: str
    stream: bool
    include_usage: bool
    id: str = field(default_factory=lambda: "chatcmpl-" + new_id())
    created: int = field(default_factory=lambda: int(time.time()))


def parse_request(raw: bytes) -> CompletionRequest:
    try:
        return msgspec.json.decode(raw, type=CompletionRequest)
    except msgspec.ValidationError as exc:
        text = str(exc)
        named = _AT_FIELD.search(text) or _MISSING.search(text)
        raise invalid(named.group(1) if named else "body", text.split(" - at ")[0]) from None
    except (msgspec.DecodeError, RecursionError, UnicodeDecodeError):
        raise ApiError(400, "invalid_json", "We could not parse the JSON body of your request.",
                       [{"field": "body", "message": "is not valid JSON"}]) from None


def model_not_found(model: str) -> ApiError:
    return ApiError(404, "model_not_found", f"The model `{model[:100]}` does not exist or you do not have access "
                    "to it.", [{"field": "model", "message": "names no chatbot of this workspace"}])


def text_of(message: ChatMessage) -> str:
    """A message's text: the string, or its text parts joined (images and audio are not read)."""
    if isinstance(message.content, str):
        return message.content
    parts = message.content or []
    return "\n".join(str(p.get("text", "")) for p in parts if isinstance(p, dict) and p.get("type") == "text")


def split_messages(messages: list[ChatMessage], settings: Settings) -> tuple[str, list[dict]]:
    """(question, history): the last message is the question, the earlier turns the history."""
    if not messages:
        raise invalid("messages", "must hold at least one message")
    for index, message in enumerate(messages):
        if message.role not in KNOWN_ROLES:
            raise invalid(f"messages[{index}].role", "must be system, developer, user, assistant or tool")
    if messages[-1].role != "user":
        raise invalid("messages", "must end with a user message: its text is the question")
    question = text_of(messages[-1]).strip()
    if not question:
        raise invalid("messages", "must end with a user message that has text")
    if len(question) > settings.chat_max_message_chars:
        raise invalid("messages", f"must end with a question of at most {settings.chat_max_message_chars} characters")
    turns = [{"role": m.role, "content": text} for m in messages[:-1]
             if m.role in HISTORY_ROLES and (text := text_of(m).strip())]
    return question, within_budget(turns, settings.chat_history_tokens)


def within_budget(turns: list[dict], budget_tokens: int) -> list[dict]:
    """The newest turns that fit the budget, starting with a question (as a saved session's)."""
    used, start = 0, len(turns)
    while start > 0:
        cost = rough_tokens(turns[start - 1]["content"]) + 4
        if used + cost > budget_tokens:
            break
        used, start = used + cost, start - 1
    kept = turns[start:]
    while kept and kept[0]["role"] != "user":
        kept.pop(0)
    return kept


def session_of(headers: Mapping[str, str], user: str | None) -> str:
    """X-Session-Id, else `user`, else a new session per call. Our own header must be a session
    id as the chat API takes one; `user` is whatever the client's app uses for a person (OpenAI
    takes long ones), so one too long for a session id stands in by its hash, still one per person."""
    header = headers.get("x-session-id")
    if header is not None and header != "":
        header = header.strip()
        if not header or len(header) > MAX_SESSION or not header.isprintable():
            raise invalid("X-Session-Id", f"must be 1-{MAX_SESSION} printable characters")
        return header
    user = (user or "").strip()
    if not user:
        return new_id()
    if len(user) > MAX_SESSION or not user.isprintable():
        return "user-" + hashlib.sha256(user.encode()).hexdigest()[:40]
    return user


async def check_completion(db: Database, settings: Settings, access: WorkspaceAccess, headers: Mapping[str, str],
                           raw: bytes) -> Completion:
    """Every refusal that comes before the turn: 400, 403, 404 (the bot's own checks, and the
    quota's 402, follow when the turn starts)."""
    body = parse_request(raw)
    if body.n is not None and body.n != 1:
        raise invalid("n", "must be 1: a chatbot gives one answer per request")
    chat.require_chat_role(access)
    bot = await chatbots.find_bot(db, access.workspace_id, body.model.strip())
    if bot is None:
        raise model_not_found(body.model)
    question, history = split_messages(body.messages, settings)
    include_usage = bool(body.stream_options and body.stream_options.include_usage)
    return Completion(bot, question, history, session_of(headers, body.user), bool(body.stream), include_usage)


def turn_events(db: Database, settings: Settings, access: WorkspaceAccess, call: Completion) -> AsyncIterator[dict]:
    return chat.answer_with_history(db, settings, workspace_id=access.workspace_id, bot=call.bot,
                                    session_id=call.session_id, message=call.question, history=call.history)


def upstream_error(event: dict) -> ApiError:
    """A turn that failed before any text: the model's failure as an HTTP error (429 when the
    provider rate-limits the workspace's key, else 502)."""
    error = event["error"]
    status = 429 if error.get("code") == "provider_rate_limited" else 502
    return ApiError(status, error.get("code") or "upstream_error", error.get("message") or "The model call failed.")


def usage_of(done: dict) -> dict:
    return {"prompt_tokens": done["tokens_in"], "completion_tokens": done["tokens_out"],
            "total_tokens": done["tokens_in"] + done["tokens_out"]}


def extra_of(done: dict) -> dict:
    """The `modelpilot` field beside OpenAI's: where the answer came from and where it is logged."""
    return {"sources": done["sources"], "conversation_id": done["conversation_id"],
            "message_id": done["message_id"], "session_id": done["session_id"]}


NO_ANSWER = {"error": {"code": "empty_reply", "message": "No answer was produced."}}


async def turn_end(first: dict, events: AsyncIterator[dict]) -> AsyncIterator[dict]:
    """The turn's text events, then its last one (done or error) and nothing after it. Events
    OpenAI's shape has no place for (a server-side tool's progress) are left out."""
    event: dict | None = first
    while event is not None:
        if "text" in event or "done" in event or "error" in event:
            yield event
            if "text" not in event:
                return
        event = await anext(events, None)
    yield NO_ANSWER


async def collect(first: dict, events: AsyncIterator[dict], call: Completion) -> dict:
    """The whole answer as one `chat.completion` (non-stream)."""
    parts: list[str] = []
    try:
        async for event in turn_end(first, events):
            if "text" in event:
                parts.append(event["text"])
    finally:
        with anyio.CancelScope(shield=True):
            await events.aclose()  # type: ignore[attr-defined]
    if "done" not in event:
        raise upstream_error(event)
    return {"id": call.id, "object": "chat.completion", "created": call.created, "model": call.bot.slug,
            "system_fingerprint": None,
            "choices": [{"index": 0, "message": {"role": "assistant", "content": "".join(parts), "refusal": None},
                         "logprobs": None, "finish_reason": "stop"}],
            "usage": usage_of(event), "modelpilot": extra_of(event)}


class ChunkFrames:
    """`chat.completion.chunk` SSE lines, the constant head of each encoded once per call."""

    def __init__(self, call: Completion) -> None:
        self.call = call
        self.head = (b'data: {"id":"' + call.id.encode() + b'","object":"chat.completion.chunk","created":'
                     + str(call.created).encode() + b',"model":' + _encode(call.bot.slug)
                     + b',"system_fingerprint":null,"choices":[')
        self.choice = b'{"index":0,"delta":'

    def opening(self) -> bytes:
        return self.head + self.choice + b'{"role":"assistant","content":""},"logprobs":null,"finish_reason":null}]}\n\n'

    def piece(self, text: str) -> bytes:
        return self.head + self.choice + b'{"content":' + _encode(text) + b'},"logprobs":null,"finish_reason":null}]}\n\n'

    def closing(self, done: dict) -> bytes:
        frame = (self.head + self.choice + b'{},"logprobs":null,"finish_reason":"stop"}],"modelpilot":'
                 + _encode(extra_of(done)) + b"}\n\n")
        if self.call.include_usage:
            frame += self.head + b'],"usage":' + _encode(usage_of(done)) + b"}\n\n"
        return frame + DONE_FRAME


async def chunk_stream(first: dict, events: AsyncIterator[dict], call: Completion) -> AsyncIterator[bytes]:
    """The stream: role, pieces, finish (with `modelpilot`), usage when asked, [DONE]. A failure
    after the stream began is one OpenAI error event, and no [DONE] (as OpenAI ends one)."""
    frames = ChunkFrames(call)
    try:
        yield frames.opening()
        async for event in turn_end(first, events):
            if "text" in event:
                yield frames.piece(event["text"])
            elif "done" in event:
                yield frames.closing(event)
            else:
                yield error_frame(upstream_error(event))
    finally:
        # Close the turn now (not at garbage collection): its clean-up saves it, client gone or not.
        with anyio.CancelScope(shield=True):
            await events.aclose()  # type: ignore[attr-defined]


def models_list(bots: list[Bot]) -> dict[str, Any]:
    return {"object": "list", "data": [model_of(bot) for bot in bots]}


def model_of(bot: Bot) -> dict[str, Any]:
    return {"id": bot.slug, "object": "model", "created": int(epoch_from_iso(bot.created_at)),
            "owned_by": "modelpilot", "modelpilot": {"chatbot_id": bot.id, "name": bot.name}}
