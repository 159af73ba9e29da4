"""Field errors in plain words, every bad field of a body at once.

msgspec stops at the first problem and words it for programmers ("Expected `float` <= 2.0 - at
`$.temperature`"). A person filling in a form wants every mistake marked at once, each in a
sentence next to its field ("Temperature must be at most 2."). `struct_problems` checks each
field of a request body on its own against the same msgspec types, so the rules stay in one
place (the schema) and nothing here can drift from what the decoder enforces.
"""

from __future__ import annotations

import re
import types
import typing
from typing import Any

import msgspec

Problem = tuple[str, str]  # (field path as the API names it, fragment such as "must be at most 2")

_AT = re.compile(r" - at `\$([^`]*)`$")
_BOUND = re.compile(r"^Expected `(\w+)` (<=|>=|<|>) (-?[\d.e+-]+)$")
_LENGTH = re.compile(r"^Expected `(\w+)` of length (<=|>=) (\d+)$")
_WRONG_TYPE = re.compile(r"^Expected `([^`]+)`, got `(\w+)`$")
_UNKNOWN = re.compile(r"^Object contains unknown field `([^`]+)`")
_MISSING = re.compile(r"^Object missing required field `([^`]+)`")
_KINDS = {"float": "a number", "int": "a whole number", "str": "text", "bool": "true or false",
          "array": "a list", "object": "an object", "null": "empty"}
_BOUND_WORDS = {"<=": "at most", ">=": "at least", "<": "less than", ">": "more than"}


def _number(text: str) -> str:
    value = float(text)
    return str(int(value)) if value.is_integer() else f"{value:g}"


def plain_fragment(raw: str, hint: dict | None = None) -> str:
    """msgspec's message (without its `at` part) as the end of a sentence about the field."""
    hint = hint or {}
    if match := _BOUND.match(raw):
        return f"must be {_BOUND_WORDS[match[2]]} {_number(match[3])}"
    if match := _LENGTH.match(raw):
        kind, op, size = match[1], match[2], int(match[3])
        if kind == "str":
            return "must not be empty" if (op, size) == (">=", 1) else \
                f"must be {_BOUND_WORDS[op]} {size} character{'s' * (size != 1)}"
        return f"can have {_BOUND_WORDS[op]} {size} item{'s' * (size != 1)}"
    if raw.startswith("Expected `str` matching regex"):
        return hint.get("description") or "is not in the expected format"
    if raw.startswith("Invalid enum value"):
        choices = hint.get("choices")
        return "must be one of: " + ", ".join(choices) if choices else "is not one of the allowed values"
    if match := _WRONG_TYPE.match(raw):
        wanted = [_KINDS.get(part.strip(), part.strip()) for part in match[1].split("|")]
        return "must be " + " or ".join(w for w in wanted if w != "empty")
    return raw[0].lower() + raw[1:] if raw else "is not valid"


def split_path(message: str) -> tuple[str, str]:
    """("Expected ...", "[1].answer") from "Expected ... - at `$[1].answer`"."""
    match = _AT.search(message)
    if not match:
        return message, ""
    return message[:match.start()], match[1]


def api_path(field: str, rest: str) -> str:
    return field + rest


def label_for(path: str) -> str:
    """How a form names a field: "starter_questions[6]" → "Starter questions, item 7";
    "items[0].answer" → "Answer 1" (the first pair's answer, as a list of pairs labels it)."""
    parts = re.findall(r"[^.\[\]]+|\[\d+\]", path)
    words: list[str] = []
    for i, part in enumerate(parts):
        if part.startswith("["):
            number = int(part[1:-1]) + 1
            if i + 1 < len(parts) and not parts[i + 1].startswith("["):
                words = words[:-1]  # the list's name gives way to its item's field name
                parts[i + 1] = f"{parts[i + 1]} {number}"
            else:
                words.append(f"item {number}")
        else:
            words.append(part.replace("_", " "))
    text = ", ".join(words) or "the request"
    return text[0].upper() + text[1:]


def sentence(path: str, fragment: str) -> str:
    """A whole sentence naming the field: "Temperature must be at most 2."."""
    text = fragment.strip().rstrip(".")
    if text[:1].isupper():  # already a sentence of its own
        return text + "."
    return f"{label_for(path)} {text}."


def _struct_of(annotation: Any) -> type | None:
    if isinstance(annotation, type) and issubclass(annotation, msgspec.Struct):
        return annotation
    if typing.get_origin(annotation) in (typing.Union, types.UnionType):
        found = [a for a in typing.get_args(annotation) if isinstance(a, type) and issubclass(a, msgspec.Struct)]
        return found[0] if len(found) == 1 else None
    return None


def _hint(type_info: Any) -> dict:
    """What a message needs from a field's type: its description and allowed values."""
    hint: dict = {}
    for info in getattr(type_info, "types", None) or (type_info,):
        extra = getattr(info, "extra_json_schema", None) or {}
        for key in ("description", "title"):
            if extra.get(key):
                hint[key] = extra[key]
        info = getattr(info, "type", info)
        if isinstance(info, msgspec.inspect.LiteralType):
            hint["choices"] = [str(v) for v in info.values]
    return hint


def struct_problems(annotation: Any, data: Any) -> list[Problem]:
    """Every problem of `data` against the request struct in `annotation`, field by field;
    empty when the annotation is not a struct (the caller then keeps msgspec's one error)."""
    struct = _struct_of(annotation)
    if struct is None:
        return []
    if not isinstance(data, dict):
        return [("body", "must be a JSON object")]
    fields = {f.encode_name: f for f in msgspec.structs.fields(struct)}
    infos = {f.encode_name: f.type for f in msgspec.inspect.type_info(struct).fields}
    problems: list[Problem] = [(name, "is required") for name, f in fields.items()
                               if f.required and name not in data]
    for key, value in data.items():
        if key not in fields:
            if struct.__struct_config__.forbid_unknown_fields:
                problems.append((key, "is not a field this request accepts"))
            continue
        try:
            msgspec.convert(value, fields[key].type)
        except msgspec.ValidationError as exc:
            problems.append(_field_problem(key, str(exc), _hint(infos[key])))
    return problems


def _field_problem(key: str, message: str, hint: dict) -> Problem:
    raw, rest = split_path(message)
    for pattern, fragment in ((_UNKNOWN, "is not a field this request accepts"), (_MISSING, "is required")):
        if match := pattern.match(raw):  # inside a nested object: name the object's own field
            return f"{api_path(key, rest)}.{match[1]}", fragment
    fragment = plain_fragment(raw, hint)
    if hint.get("title") and not rest:  # the form's own name for the field reads best
        fragment = f"{hint['title']} {fragment}"
    return api_path(key, rest), fragment


def problems_from_message(message: str, hint: dict | None = None) -> Problem:
    """The field and a plain fragment from one msgspec message (when only that one is known)."""
    raw, rest = split_path(message)
    for pattern, fragment in ((_UNKNOWN, "is not a field this request accepts"), (_MISSING, "is required")):
        if match := pattern.match(raw):
            return api_path(match[1], ""), fragment
    return (rest.lstrip(".") or "body"), plain_fragment(raw, hint)
