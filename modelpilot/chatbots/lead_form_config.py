"""A bot's lead form: defaults, and the checks msgspec types cannot express (unique names,
options only for selects, an http(s) privacy link). Shapes: chatbots/schemas.LeadFormSettings.

`name`, `email`, `phone` and `company` are the standard fields, stored on the contact; any other
name is a custom field, kept in the contact's `fields`.
"""

from __future__ import annotations

import re
from urllib.parse import urlsplit

from modelpilot.core.errors import FieldErrors

STANDARD_FIELDS = ("name", "email", "phone", "company")
WHEN = ("before_chat", "after_messages", "on_handoff", "when_unanswered")
FIELD_TYPES = ("text", "email", "phone", "select")
MAX_FIELDS = 12
CUSTOM_NAME = re.compile(r"^[a-z][a-z0-9_]{0,39}$")
DEFAULT_LEAD_FORM = {
    "enabled": False,
    "when": "before_chat",
    "after_messages": 3,
    "fields": [{"name": "email", "label": "Email", "type": "email", "required": True, "options": []}],
    "consent_text": "",
    "privacy_url": None,
}


def with_defaults(stored: dict | None) -> dict:
    """The stored object (possibly partial or empty) completed with the defaults."""
    form = {**DEFAULT_LEAD_FORM, **(stored or {})}
    form["fields"] = [{"required": False, "options": [], **f} for f in form["fields"]]
    return form


def _check_field(index: int, field: dict, seen: set[str], errors: FieldErrors) -> dict:
    path = f"lead_form.fields[{index}]"
    name = field["name"].strip()
    label = field["label"].strip()
    options = list(dict.fromkeys(o.strip() for o in field.get("options") or [] if o.strip()))
    if not CUSTOM_NAME.match(name):
        errors.add(f"{path}.name", "must start with a lower-case letter and hold only a-z, 0-9 and _ "
                                   "(at most 40 characters), e.g. email or order_number")
    elif name in seen:
        errors.add(f"{path}.name", f"{name!r} is used by another field; each field needs its own name")
    seen.add(name)
    if not 1 <= len(label) <= 80:
        errors.add(f"{path}.label", "must be 1-80 characters")
    if field["type"] == "select" and not 1 <= len(options) <= 50:
        errors.add(f"{path}.options", "a select field needs 1-50 options")
    if field["type"] != "select" and options:
        errors.add(f"{path}.options", "only a select field has options")
    return {"name": name, "label": label, "type": field["type"], "required": bool(field["required"]),
            "options": options if field["type"] == "select" else []}


def _check_privacy_url(value: str | None, errors: FieldErrors) -> str | None:
    value = (value or "").strip()
    if not value:
        return None
    try:
        parts = urlsplit(value)
    except ValueError:
        parts = None
    if parts is None or parts.scheme not in ("http", "https") or not parts.netloc or not value.isprintable():
        errors.add("lead_form.privacy_url", "must be an http(s) link such as https://www.example.com/privacy")
    return value


def clean_lead_form(values: dict, errors: FieldErrors) -> dict:
    """Strip and check what the types let through; every problem goes to `errors`."""
    fields = values.get("fields") or []
    if not fields:
        errors.add("lead_form.fields", "must have at least one field")
    if len(fields) > MAX_FIELDS:
        errors.add("lead_form.fields", f"can have at most {MAX_FIELDS} fields")
    seen: set[str] = set()
    return {
        "enabled": bool(values["enabled"]),
        "when": values["when"],
        "after_messages": int(values["after_messages"]),
        "fields": [_check_field(i, f, seen, errors) for i, f in enumerate(fields[:MAX_FIELDS])],
        "consent_text": values["consent_text"].strip(),
        "privacy_url": _check_privacy_url(values.get("privacy_url"), errors),
    }


def widget_view(form: dict) -> dict | None:
    """What the widget's config shows of it (camelCase, as the rest of the widget config); None
    when the form is off."""
    if not form["enabled"]:
        return None
    return {"when": form["when"], "afterMessages": form["after_messages"], "fields": form["fields"],
            "consentText": form["consent_text"], "privacyUrl": form["privacy_url"]}
