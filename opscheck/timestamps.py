"""Timestamps found in answers (JSON bodies), read so that none is ever misread.

- A **number** is a Unix epoch time in ``epoch_unit`` (``s`` by default; ``ms``, ``us`` and
  ``ns`` when the service writes those). JavaScript's ``Date.now()`` in milliseconds read as
  seconds would be 50,000 years ahead: any time more than :data:`SKEW` in the future is
  refused with the fix (set ``epoch_unit``), never judged.
- A **string** is ISO 8601 with its dashes (``2026-12-01T03:00:00Z``,
  ``2026-12-01 03:00:00+13:00``, ``2026-12-01``). Text without a UTC offset is read in
  ``timezone`` (``"UTC"``, an IANA name such as ``"Pacific/Auckland"``, or ``"local"``) and
  refused when none is set: the same text is 13 hours apart in two zones. A string of digits
  is refused too (``"20261201"`` is a date to ISO 8601 and an epoch to others): convert it
  with JMESPath ``to_number()`` when it is an epoch.
- Booleans, null, objects and lists are not times.
"""

from __future__ import annotations

import re
import time
from datetime import UTC, datetime, tzinfo
from typing import Any, Literal

from opscheck import secrets

EpochUnit = Literal["s", "ms", "us", "ns"]
PER_SECOND = {"s": 1, "ms": 1_000, "us": 1_000_000, "ns": 1_000_000_000}
SKEW = 300.0  # seconds a timestamp may lie in the future (clocks apart) and still read as now
ISO = re.compile(r"^\d{4}-\d{2}-\d{2}([T ].*)?$")
UNITS = {"s": 1.0, "min": 60.0, "h": 3600.0, "d": 86400.0}


class TimestampError(ValueError):
    """A value that cannot be read as a time without guessing; ``str()`` says why and how."""


def zone(name: str | None) -> tzinfo | None:
    """The time zone called ``name`` (``UTC``, ``local``, an IANA name); None for None."""
    if name is None:
        return None
    if name.upper() == "UTC":
        return UTC
    if name == "local":
        return datetime.now().astimezone().tzinfo
    from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        raise TimestampError(f"timezone {name!r} is not a time zone; write \"UTC\", "
                             "\"local\" or an IANA name such as \"Pacific/Auckland\"") from None


def epoch(value: Any, epoch_unit: EpochUnit = "s", timezone: str | None = None) -> float:
    """Seconds since 1970-01-01 UTC for ``value``; TimestampError saying why it is no time."""
    if isinstance(value, bool) or value is None or isinstance(value, dict | list):
        raise TimestampError(f"{_show(value)} is not a time (expected an ISO 8601 string or "
                             "an epoch number)")
    if isinstance(value, int | float):
        if value != value or value in (float("inf"), float("-inf")):
            raise TimestampError(f"{value} is not a time")
        return float(value) / PER_SECOND[epoch_unit]
    text = str(value).strip()
    if not ISO.match(text):
        hint = (" (digits in a string: if it is an epoch time, convert it with to_number())"
                if text.replace(".", "", 1).isdigit() else "")
        raise TimestampError(f"{_show(value)} is not an ISO 8601 time{hint}")
    try:
        when = datetime.fromisoformat(text.replace("z", "Z"))
    except ValueError:
        raise TimestampError(f"{_show(value)} is not an ISO 8601 time") from None
    if when.tzinfo is None:
        where = zone(timezone)
        if where is None:
            raise TimestampError(f"{_show(value)} has no UTC offset; set timezone = \"UTC\" "
                                 "(or the zone the service writes in) on the entry")
        when = when.replace(tzinfo=where)
    return when.timestamp()


def age(value: Any, epoch_unit: EpochUnit = "s", timezone: str | None = None,
        now: float | None = None) -> float:
    """Seconds since ``value``; TimestampError when it lies more than SKEW in the future."""
    now = time.time() if now is None else now
    seconds = now - epoch(value, epoch_unit, timezone)
    if seconds < -SKEW:
        ahead = _span(-seconds)
        hint = ("the service's clock is ahead of this one" if -seconds < 86400 * 366
                else f"it is not epoch {epoch_unit}: set epoch_unit (s, ms, us or ns)")
        raise TimestampError(f"{_show(value)} lies {ahead} in the future: {hint}")
    return max(seconds, 0.0)


def start_of_day(timezone: str | None = None, now: float | None = None) -> float:
    """Epoch seconds of the last midnight in ``timezone`` (default: this machine's zone)."""
    where = zone(timezone) or zone("local")
    today = datetime.fromtimestamp(time.time() if now is None else now, where)
    return today.replace(hour=0, minute=0, second=0, microsecond=0).timestamp()


def iso(seconds: float) -> str:
    """``2026-12-01T03:00:00Z`` for a message."""
    try:
        return datetime.fromtimestamp(seconds, UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
    except (OverflowError, OSError, ValueError):
        return f"epoch {seconds:g}"


def _span(seconds: float) -> str:
    if seconds >= 86400 * 366:
        return f"{seconds / (86400 * 365.25):.0f} years"
    return f"{seconds / 3600:.1f} h" if seconds >= 3600 else f"{seconds:.0f} s"


def _show(value: Any) -> str:
    """``value`` for a message: redacted before it is cut, so no part of a secret shows."""
    import json

    text = secrets.redact(repr(value) if isinstance(value, str) else json.dumps(value))
    return text if len(text) <= 60 else secrets.excerpt(text, 59) + "…"
