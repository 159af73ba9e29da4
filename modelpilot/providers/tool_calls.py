"""Tool calls as a streamed answer delivers them: pieces by index, put together once it ends.

OpenAI-style streams (and LiteLLM's chunks, which copy them) send a call's id and function name
in its first delta and its arguments as JSON text spread over any number of later deltas, all
keyed by `index`; several calls may interleave. Both clients feed the pieces here, and the
complete calls are read after the stream has ended.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import msgspec


@dataclass(frozen=True)
class ToolCall:
    id: str          # the provider's id, echoed back in the tool result message
    name: str
    arguments: str   # JSON text as the model wrote it (may be invalid: the caller checks)


@dataclass
class _Partial:
    id: str = ""
    name: str = ""
    arguments: list[str] = field(default_factory=list)


class ToolCallAssembler:
    def __init__(self) -> None:
        self._calls: dict[int, _Partial] = {}

    def feed(self, index: int | None, call_id: str | None, name: str | None, arguments: str | None) -> None:
        partial = self._calls.setdefault(index if index is not None else len(self._calls), _Partial())
        if call_id:
            partial.id = call_id
        if name and not partial.name:
            partial.name = name
        if arguments:
            partial.arguments.append(arguments)

    def calls(self) -> list[ToolCall]:
        done = []
        for number, (index, partial) in enumerate(sorted(self._calls.items())):
            if partial.name:
                done.append(ToolCall(partial.id or f"call_{number}_{index}", partial.name,
                                     "".join(partial.arguments) or "{}"))
        return done


def assistant_message(text: str, calls: list[ToolCall]) -> dict:
    """The assistant's turn that asked for the calls, as it goes back to the model."""
    return {"role": "assistant", "content": text or None, "tool_calls": [
        {"id": call.id, "type": "function", "function": {"name": call.name, "arguments": call.arguments}}
        for call in calls]}


def tool_message(call: ToolCall, content: str) -> dict:
    return {"role": "tool", "tool_call_id": call.id, "content": content}


def call_to_dict(call: ToolCall) -> dict:
    return {"id": call.id, "name": call.name, "arguments": call.arguments}


def call_from_dict(data: dict) -> ToolCall:
    return ToolCall(str(data["id"]), str(data["name"]), str(data["arguments"]))


def parse_arguments(call: ToolCall) -> dict | str:
    """The call's arguments as an object, or why they are not one (told to the model)."""
    try:
        value = msgspec.json.decode(call.arguments or "{}")
    except msgspec.DecodeError:
        return "the arguments are not valid JSON"
    if not isinstance(value, dict):
        return "the arguments must be a JSON object"
    return value
