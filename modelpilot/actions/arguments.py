"""An action's JSON Schema and templates: checking them when saved, filling them when called.

The model's arguments are validated against the action's schema before any request is made;
what fails is told to the model as the tool's result, never sent. Placeholders are `{param}`
(the model's argument) or `{visitor.<claim>}` (the verified visitor's claim, which the model
cannot set: its arguments are a separate namespace and never fill a visitor placeholder).
Values placed in the URL are percent-encoded whole (`a/b c` → `a%2Fb%20c`), so an argument can
never add a path segment, a query or a fragment of its own.
"""

from __future__ import annotations

import json
import re
from typing import Any
from urllib.parse import quote

from jsonschema import Draft202012Validator
from jsonschema.exceptions import SchemaError

PLACEHOLDER = re.compile(r"\{(visitor\.[A-Za-z0-9_]{1,64}|[A-Za-z_][A-Za-z0-9_-]{0,63})\}")
MAX_SCHEMA_BYTES = 20_000
MAX_ERROR_CHARS = 300


def schema_problem(schema: Any) -> str | None:
    """Why `schema` cannot be an action's parameters, or None."""
    if not isinstance(schema, dict) or schema.get("type") != "object":
        return 'must be a JSON Schema object with "type": "object"'
    if not isinstance(schema.get("properties", {}), dict):
        return 'its "properties" must be an object'
    if len(json.dumps(schema)) > MAX_SCHEMA_BYTES:
        return f"must be at most {MAX_SCHEMA_BYTES} bytes of JSON"
    try:
        Draft202012Validator.check_schema(schema)
    except SchemaError as exc:
        return f"is not a valid JSON Schema: {exc.message[:MAX_ERROR_CHARS]}"
    return None


_validators: dict[str, Draft202012Validator] = {}


def argument_problem(schema: dict, arguments: dict) -> str | None:
    """Why the arguments do not fit the schema (every problem, in plain words), or None.
    A schema that cannot be used (a remote MCP server's may be broken) checks nothing here:
    that server checks its own input."""
    key = json.dumps(schema, sort_keys=True)
    validator = _validators.get(key)
    if validator is None:
        if len(_validators) > 2048:
            _validators.clear()
        validator = _validators[key] = Draft202012Validator(schema)
    try:
        errors = sorted(validator.iter_errors(arguments), key=lambda e: [str(p) for p in e.path])
    except (SchemaError, RecursionError, TypeError, ValueError):
        return None
    problems = []
    for error in errors:
        where = "/".join(str(p) for p in error.path) or "arguments"
        problems.append(f"{where}: {error.message[:MAX_ERROR_CHARS]}")
        if len(problems) >= 5:
            break
    return "; ".join(problems) or None


def placeholders(template: Any) -> set[str]:
    """Every placeholder name in a URL template or a JSON body template."""
    if isinstance(template, str):
        return set(PLACEHOLDER.findall(template))
    if isinstance(template, dict):
        return set().union(*(placeholders(v) for v in template.values())) if template else set()
    if isinstance(template, list):
        return set().union(*(placeholders(v) for v in template)) if template else set()
    return set()


def unknown_placeholders(template: Any, schema: dict) -> list[str]:
    known = set((schema.get("properties") or {}).keys())
    return sorted(name for name in placeholders(template) if not name.startswith("visitor.") and name not in known)


def visitor_claims_needed(*templates: Any) -> list[str]:
    return sorted({name.split(".", 1)[1] for t in templates for name in placeholders(t) if name.startswith("visitor.")})


def _text(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, (dict, list)):
        return json.dumps(value, separators=(",", ":"))
    return str(value)


def _lookup(name: str, arguments: dict, claims: dict) -> Any:
    if name.startswith("visitor."):
        return claims.get(name.split(".", 1)[1])
    return arguments.get(name)


def fill_url(template: str, arguments: dict, claims: dict) -> str:
    return PLACEHOLDER.sub(lambda m: quote(_text(_lookup(m.group(1), arguments, claims)), safe=""), template)


def fill_body(template: Any, arguments: dict, claims: dict) -> Any:
    """Strings that are one placeholder become the value itself (a number stays a number);
    placeholders inside longer strings are replaced by the value's text."""
    if isinstance(template, str):
        whole = PLACEHOLDER.fullmatch(template)
        if whole:
            return _lookup(whole.group(1), arguments, claims)
        return PLACEHOLDER.sub(lambda m: _text(_lookup(m.group(1), arguments, claims)), template)
    if isinstance(template, dict):
        return {key: fill_body(value, arguments, claims) for key, value in template.items()}
    if isinstance(template, list):
        return [fill_body(value, arguments, claims) for value in template]
    return template


def shown_arguments(arguments: dict, claims: dict, needed: list[str]) -> dict:
    """What the visitor is asked to approve: the model's arguments and the claims that will be sent."""
    return {**arguments, **{f"visitor.{claim}": claims.get(claim) for claim in needed}}
