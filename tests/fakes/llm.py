"""A small OpenAI-compatible chat server on 127.0.0.1: real HTTP, real SSE, usage in the last chunk.

It stands in for LLM providers in tests and benchmarks. Behaviour is chosen by magic words in the
last user message (so one running server serves every test):
  [[echo]]      answer with the JSON of the messages it received
  [[fail500]]   answer HTTP 500 with an OpenAI-style error body
  [[stall]]     send the response headers, then nothing (until the client goes away)
  [[stallmid]]  send two pieces, then nothing
  [[drop]]      send two pieces, then drop the connection without finishing the stream
  [[errorchunk]] send two pieces, then an OpenAI-style error object as an SSE event
  [[cutshort]]  send two pieces, then end the response cleanly with no finish reason and no [DONE]
  [[nodone]]    a whole answer with its finish reason and usage, but no closing [DONE] line
  [[slow]]      forty pieces, 100 ms apart
  [[paced]]     ten pieces, 30 ms apart (a short answer from a fast model: bench/fleet.py)
  [[long]]      two hundred pieces at once
  [[tool:NAME {"arg": 1}]]  when the request offers tools and no tool result follows the last user
                message: say TOOL_PREAMBLE, then call NAME with those arguments (id, name and the
                argument JSON split over several chunks); several [[tool:...]] are several calls in
                one turn. Once tool results follow the question: answer TOOL_ANSWER.
  [[toolloop:NAME {...}]]  call NAME whenever tools are offered, whatever came back (max rounds)
A key containing "wrong" is refused with 401. `requests` keeps what each call received.
POST /v1/embeddings answers OpenAI's shape with `fake_embedding` vectors (words hashed into the
`dimensions` asked for, default 1536; `text-embedding-ada-002` always 1536, like the real one);
`embedding_requests` keeps each request's body; `embeddings_down = True` makes it answer 503, and
`embeddings_fail_containing = "word"` only requests with a text containing that word; a model
named `unknown...` is 404.
GET /v1/models lists MODELS the way OpenAI-compatible servers do (and /api/tags the way Ollama
does); `model_list_requests` counts those calls, so tests can see the dashboard's cache work.
"""

from __future__ import annotations

import asyncio
import hashlib
import json
import math
import re
import socket
import threading
import time
from dataclasses import dataclass, field
from typing import Any

import uvicorn

ANSWER = "Hello from the fake model. It answers every question with these same few words."
TOOL_PREAMBLE = "Let me check. "
TOOL_ANSWER = "Here is what the tool found."
_TOOL_WORD = re.compile(r"\[\[(tool|toolloop):([A-Za-z0-9_-]+)(?:\s+(\{.*?\}))?\]\]")
DEFAULT_PIECES = 8
MODELS = ("fake-model", "fake-large")


_EMBED_WORD = re.compile(r"[a-z0-9]+")
FIXED_SIZE_MODELS = {"text-embedding-ada-002": 1536}


def fake_embedding(text: str, dimensions: int) -> list[float]:
    """A deterministic unit vector: each word adds +-1 at a place its hash picks, so texts that
    share words are close and texts that share none are (almost) orthogonal."""
    vector = [0.0] * dimensions
    for word in _EMBED_WORD.findall(text.lower()):
        digest = hashlib.sha256(word.encode()).digest()
        vector[int.from_bytes(digest[:4], "big") % dimensions] += 1.0 if digest[4] & 1 else -1.0
    if not any(vector):
        vector[0] = 1.0
    norm = math.sqrt(sum(x * x for x in vector))
    return [x / norm for x in vector]


def _words(text: str) -> int:
    return max(1, len(text.split()))


def _last_user_text(messages: list[dict]) -> str:
    for message in reversed(messages):
        if message.get("role") == "user":
            content = message.get("content")
            return content if isinstance(content, str) else json.dumps(content)
    return ""


def _split(text: str, pieces: int) -> list[str]:
    size = max(1, -(-len(text) // pieces))
    return [text[i:i + size] for i in range(0, len(text), size)]


def _after_question(messages: list[dict]) -> list[dict]:
    last = max((i for i, m in enumerate(messages) if m.get("role") == "user"), default=-1)
    return messages[last + 1:]


def wanted_tool_calls(request: dict, said: str) -> list[tuple[str, str]]:
    """(name, arguments JSON) the fake should call now: only when tools are offered."""
    if not request.get("tools"):
        return []
    answered = any(m.get("role") == "tool" for m in _after_question(request.get("messages", [])))
    return [(name, args or "{}") for kind, name, args in _TOOL_WORD.findall(said)
            if kind == "toolloop" or not answered]


def tool_call_chunks(model: str, calls: list[tuple[str, str]]) -> list[bytes]:
    """Each call as OpenAI streams it: id and name first, the arguments in three pieces after."""
    chunks = []
    for index, (name, args) in enumerate(calls):
        chunks.append(_chunk(model, {"tool_calls": [{"index": index, "id": f"call_fake_{index}", "type": "function",
                                                     "function": {"name": name, "arguments": ""}}]}))
        third = max(1, len(args) // 3)
        for piece in (args[:third], args[third:2 * third], args[2 * third:]):
            if piece:
                chunks.append(_chunk(model, {"tool_calls": [{"index": index, "function": {"arguments": piece}}]}))
    return chunks


def _chunk(model: str, delta: dict, finish: str | None = None, usage: dict | None = None) -> bytes:
    body: dict[str, Any] = {"id": "chatcmpl-fake", "object": "chat.completion.chunk", "created": int(time.time()),
                            "model": model, "choices": [] if usage else [{"index": 0, "delta": delta,
                                                                         "finish_reason": finish}]}
    if usage:
        body["usage"] = usage
    return b"data: " + json.dumps(body).encode() + b"\n\n"


class FakeLLM:
    """The ASGI app. One instance per server; `requests` records received bodies."""

    def __init__(self) -> None:
        self.requests: list[dict] = []
        self.model_list_requests = 0
        self.embedding_requests: list[dict] = []
        self.embeddings_down = False
        self.embeddings_fail_containing: str | None = None

    async def __call__(self, scope: dict, receive, send) -> None:
        if scope["type"] == "lifespan":
            while True:
                message = await receive()
                if message["type"] == "lifespan.startup":
                    await send({"type": "lifespan.startup.complete"})
                elif message["type"] == "lifespan.shutdown":
                    await send({"type": "lifespan.shutdown.complete"})
                    return
        body = b""
        while True:
            message = await receive()
            body += message.get("body", b"")
            if not message.get("more_body"):
                break
        headers = {k.decode().lower(): v.decode() for k, v in scope["headers"]}
        if scope["method"] == "GET" and scope["path"].endswith(("/models", "/api/tags")):
            return await self._models(scope["path"], headers, send)
        if scope["method"] == "POST" and scope["path"].endswith("/embeddings"):
            return await self._embeddings(headers, body, send)
        if not scope["path"].endswith("/chat/completions"):
            return await self._json(send, 404, {"error": {"message": "not found", "type": "invalid_request_error"}})
        if "wrong" in headers.get("authorization", ""):
            return await self._json(send, 401, {"error": {"message": "Incorrect API key provided.",
                                                          "type": "invalid_request_error", "code": "invalid_api_key"}})
        request = json.loads(body or b"{}")
        self.requests.append(request)
        await self._answer(request, receive, send)

    async def _embeddings(self, headers: dict, body: bytes, send) -> None:
        if "wrong" in headers.get("authorization", ""):
            return await self._json(send, 401, {"error": {"message": "Incorrect API key provided.",
                                                          "type": "invalid_request_error"}})
        request = json.loads(body or b"{}")
        self.embedding_requests.append(request)
        texts = request.get("input", [])
        texts = [texts] if isinstance(texts, str) else texts
        word = self.embeddings_fail_containing
        if self.embeddings_down or (word and any(word in text for text in texts)):
            return await self._json(send, 503, {"error": {"message": "The fake embedder is down.",
                                                          "type": "server_error"}})
        model = request.get("model", "")
        if "unknown" in model:
            return await self._json(send, 404, {"error": {"message": f"The model `{model}` does not exist.",
                                                          "type": "invalid_request_error"}})
        size = FIXED_SIZE_MODELS.get(model) or int(request.get("dimensions") or 1536)
        data = [{"object": "embedding", "index": i, "embedding": fake_embedding(t, size)} for i, t in enumerate(texts)]
        await self._json(send, 200, {"object": "list", "model": model, "data": data,
                                     "usage": {"prompt_tokens": sum(map(_words, texts)), "total_tokens": 0}})

    async def _models(self, path: str, headers: dict, send) -> None:
        self.model_list_requests += 1
        if "wrong" in headers.get("authorization", ""):
            return await self._json(send, 401, {"error": {"message": "Incorrect API key provided.",
                                                          "type": "invalid_request_error"}})
        if path.endswith("/api/tags"):
            return await self._json(send, 200, {"models": [{"name": f"{m}:latest", "model": f"{m}:latest"}
                                                           for m in MODELS]})
        return await self._json(send, 200, {"object": "list", "data": [
            {"id": m, "object": "model", "created": 0, "owned_by": "fake"} for m in MODELS]})

    async def _answer(self, request: dict, receive, send) -> None:
        messages = request.get("messages", [])
        said = _last_user_text(messages)
        if "[[fail500]]" in said:
            return await self._json(send, 500, {"error": {"message": "The fake model fell over.", "type": "server_error"}})
        text, pieces, delay = ANSWER, DEFAULT_PIECES, 0.0
        calls = wanted_tool_calls(request, said)
        if calls:
            return await self._tool_stream(request, calls, send)
        if _TOOL_WORD.search(said) and any(m.get("role") == "tool" for m in _after_question(messages)):
            text = TOOL_ANSWER
        if "[[echo]]" in said:
            text = json.dumps(messages)
        elif "[[slow]]" in said:
            pieces, delay = 40, 0.1
        elif "[[paced]]" in said:
            pieces, delay = 10, 0.03
        elif "[[long]]" in said:
            text, pieces = ANSWER * 25, 200
        usage = {"prompt_tokens": sum(_words(str(m.get("content", ""))) for m in messages),
                 "completion_tokens": _words(text)}
        usage["total_tokens"] = usage["prompt_tokens"] + usage["completion_tokens"]
        if not request.get("stream"):
            reply = {"id": "chatcmpl-fake", "object": "chat.completion", "created": int(time.time()),
                     "model": request.get("model", "fake"), "usage": usage,
                     "choices": [{"index": 0, "finish_reason": "stop",
                                  "message": {"role": "assistant", "content": text}}]}
            return await self._json(send, 200, reply)
        await self._stream(request, said, _split(text, pieces), delay, usage, receive, send)

    async def _stream(self, request, said, parts, delay, usage, receive, send) -> None:
        model = request.get("model", "fake")
        await send({"type": "http.response.start", "status": 200,
                    "headers": [(b"content-type", b"text/event-stream"), (b"cache-control", b"no-cache")]})
        if "[[stall]]" in said:
            return await self._wait_for_disconnect(receive)
        for index, part in enumerate(parts):
            if index == 2 and "[[stallmid]]" in said:
                return await self._wait_for_disconnect(receive)
            if index == 2 and "[[drop]]" in said:
                raise ConnectionAbortedError("fake model drops the connection mid-stream")
            if index == 2 and "[[errorchunk]]" in said:
                error = b'data: {"error": {"message": "The fake model overloaded.", "type": "server_error"}}\n\n'
                return await send({"type": "http.response.body", "body": error, "more_body": False})
            if index == 2 and "[[cutshort]]" in said:
                return await send({"type": "http.response.body", "body": b"", "more_body": False})
            delta = {"role": "assistant", "content": part} if index == 0 else {"content": part}
            await send({"type": "http.response.body", "body": _chunk(model, delta), "more_body": True})
            if delay:
                await asyncio.sleep(delay)
        tail = _chunk(model, {}, "stop")
        if (request.get("stream_options") or {}).get("include_usage"):
            tail += _chunk(model, {}, usage=usage)
        done = b"" if "[[nodone]]" in said else b"data: [DONE]\n\n"
        await send({"type": "http.response.body", "body": tail + done, "more_body": False})

    async def _tool_stream(self, request: dict, calls: list[tuple[str, str]], send) -> None:
        model = request.get("model", "fake")
        await send({"type": "http.response.start", "status": 200,
                    "headers": [(b"content-type", b"text/event-stream"), (b"cache-control", b"no-cache")]})
        body = [_chunk(model, {"role": "assistant", "content": TOOL_PREAMBLE}), *tool_call_chunks(model, calls),
                _chunk(model, {}, "tool_calls")]
        for part in body:
            await send({"type": "http.response.body", "body": part, "more_body": True})
        usage = {"prompt_tokens": 10, "completion_tokens": 5, "total_tokens": 15}
        tail = _chunk(model, {}, usage=usage) if (request.get("stream_options") or {}).get("include_usage") else b""
        await send({"type": "http.response.body", "body": tail + b"data: [DONE]\n\n", "more_body": False})

    @staticmethod
    async def _wait_for_disconnect(receive) -> None:
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            try:
                message = await asyncio.wait_for(receive(), timeout=1)
            except asyncio.TimeoutError:
                continue
            if message["type"] == "http.disconnect":
                return

    @staticmethod
    async def _json(send, status: int, body: dict) -> None:
        payload = json.dumps(body).encode()
        await send({"type": "http.response.start", "status": status,
                    "headers": [(b"content-type", b"application/json"),
                                (b"content-length", str(len(payload)).encode())]})
        await send({"type": "http.response.body", "body": payload})


@dataclass
class RunningFakeLLM:
    url: str  # base URL to use as api_base, ending in /v1
    app: FakeLLM
    server: uvicorn.Server
    thread: threading.Thread = field(repr=False)

    @property
    def requests(self) -> list[dict]:
        return self.app.requests

    def stop(self) -> None:
        self.server.should_exit = True
        self.thread.join(timeout=10)


def start_fake_llm(port: int = 0) -> RunningFakeLLM:
    """Start the fake provider in a thread (its own event loop); returns once it listens."""
    sock = socket.socket()
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind(("127.0.0.1", port))
    sock.listen(1024)
    app = FakeLLM()
    config = uvicorn.Config(app, log_level="critical", access_log=False, lifespan="on", http="httptools",
                            timeout_graceful_shutdown=1)
    server = uvicorn.Server(config)
    thread = threading.Thread(target=server.run, kwargs={"sockets": [sock]}, daemon=True, name="fake-llm")
    thread.start()
    deadline = time.monotonic() + 15
    while not server.started:
        if not thread.is_alive() or time.monotonic() > deadline:
            raise RuntimeError("fake LLM server did not start")
        time.sleep(0.01)
    return RunningFakeLLM(f"http://127.0.0.1:{sock.getsockname()[1]}/v1", app, server, thread)


if __name__ == "__main__":  # `python -m tests.fakes.llm [port]`: prints its base URL, serves until killed
    import sys

    running = start_fake_llm(int(sys.argv[1]) if len(sys.argv) > 1 else 0)
    print(running.url, flush=True)
    try:
        running.thread.join()
    except KeyboardInterrupt:
        running.stop()
