"""Date-range query parameters (`from`, `to`) as sortable ISO 8601 UTC text bounds."""

from __future__ import annotations

from datetime import date, datetime, timedelta, timezone

from modelpilot.core.errors import invalid


def _iso(moment: datetime) -> str:
    moment = moment.astimezone(timezone.utc)
    return moment.strftime("%Y-%m-%dT%H:%M:%S.") + f"{moment.microsecond // 1000:03d}Z"


# The day after 9999-12-31 does not exist in Python: an end bound on that day means "no end".
LAST_MOMENT = "9999-12-31T23:59:59.999Z"


def parse_bound(value: str | None, field: str, *, end: bool) -> str | None:
    """A date (YYYY-MM-DD; as an end bound it includes that whole day) or an ISO datetime."""
    if value is None or not value.strip():
        return None
    text = value.strip()
    try:
        if len(text) == 10:
            day = date.fromisoformat(text)
            start = datetime(day.year, day.month, day.day, tzinfo=timezone.utc)
            if end and day == date.max:
                return LAST_MOMENT
            return _iso(start + timedelta(days=1) if end else start)
        moment = datetime.fromisoformat(text.replace("Z", "+00:00"))
        if moment.tzinfo is None:
            moment = moment.replace(tzinfo=timezone.utc)
        return _iso(moment)
    except ValueError:
        raise invalid(field, "must be a date (YYYY-MM-DD) or an ISO 8601 date-time") from None
    except OverflowError:  # a time zone offset pushes it past year 1 or 9999
        raise invalid(field, "must be between the years 1 and 9999 in UTC") from None


def parse_range(start: str | None, end: str | None) -> tuple[str | None, str | None]:
    """[from, to) bounds; `to` must not come before `from`."""
    lower, upper = parse_bound(start, "from", end=False), parse_bound(end, "to", end=True)
    if lower and upper and upper < lower:
        raise invalid("to", "must not be before from")
    return lower, upper
