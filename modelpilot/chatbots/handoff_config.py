"""A bot's human-handoff settings: defaults, validation, and whether a person is there right now.

Business hours are local times in an IANA time zone (zoneinfo; the system's tz database, or the
`tzdata` package where the system has none). `hours: None` means always open.
"""

from __future__ import annotations

import re
from datetime import datetime, timezone
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from modelpilot.core.errors import FieldErrors

DAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
DEFAULT_HANDOFF = {
    "enabled": False,
    "button_label": "Talk to a person",
    "keywords": ["human", "agent", "talk to someone", "real person"],
    "hours": None,
    "offline_message": "Nobody is available right now. Please leave your question and we will get back to you.",
}
_CLOCK = re.compile(r"^([01]\d|2[0-3]):[0-5]\d$|^24:00$")


def with_defaults(stored: dict | None) -> dict:
    """The stored object (possibly partial or empty) completed with the defaults."""
    return {**DEFAULT_HANDOFF, **(stored or {})}


def _check_zone(name: str, errors: FieldErrors) -> None:
    try:
        ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        errors.add("handoff.hours.timezone", f"The time zone {name!r} is not known; use a name such as Europe/Berlin")


def _check_ranges(day: str, ranges: list, errors: FieldErrors) -> list[list[str]]:
    field = f"handoff.hours.weekly.{day}"
    kept = []
    for pair in ranges:
        if len(pair) != 2 or not all(_CLOCK.match(v) for v in pair):
            errors.add(field, 'Each range must be ["HH:MM", "HH:MM"], e.g. ["09:00", "17:00"]')
        elif pair[0] >= pair[1]:
            errors.add(field, f"A range must end after it starts ({pair[0]} to {pair[1]})")
        else:
            kept.append([pair[0], pair[1]])
    return sorted(kept)


def clean_handoff(values: dict, errors: FieldErrors) -> dict:
    """Strip and check what the types let through; every problem goes to `errors`."""
    out = dict(values)
    out["button_label"] = out["button_label"].strip() or DEFAULT_HANDOFF["button_label"]
    out["keywords"] = list(dict.fromkeys(k.strip().lower() for k in out["keywords"] if k.strip()))
    out["offline_message"] = out["offline_message"].strip()
    hours = out.get("hours")
    if hours is not None:
        _check_zone(hours["timezone"], errors)
        unknown = sorted(set(hours["weekly"]) - set(DAYS))
        if unknown:
            errors.add("handoff.hours.weekly", f"The day {unknown[0]!r} is not known; days are {', '.join(DAYS)}")
        out["hours"] = {"timezone": hours["timezone"],
                        "weekly": {day: _check_ranges(day, hours["weekly"][day], errors)
                                   for day in DAYS if day in hours["weekly"]}}
    return out


def is_open(hours: dict | None, now: datetime | None = None) -> bool:
    """True when `now` falls inside one of today's ranges in the bot's own time zone."""
    if hours is None:
        return True
    local = (now or datetime.now(timezone.utc)).astimezone(ZoneInfo(hours["timezone"]))
    clock = local.strftime("%H:%M")
    return any(start <= clock < end for start, end in hours["weekly"].get(DAYS[local.weekday()], []))


def matches_keyword(text: str, keywords: list[str]) -> bool:
    """A keyword or phrase as whole words, case-insensitively ("human" in "a human please", not in
    "humane"). Works for any script: word edges are where letters/digits stop."""
    folded = text.casefold()
    for keyword in keywords:
        phrase = r"\s+".join(re.escape(part) for part in keyword.casefold().split())
        if phrase and re.search(rf"(?<!\w){phrase}(?!\w)", folded):
            return True
    return False
