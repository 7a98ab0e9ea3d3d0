"""Timestamps of log lines: each format a parser from a line to epoch seconds (or None).

- ``iso``: ISO 8601 / RFC 3339 (``2026-01-07T10:00:00Z``, ``2026-01-07 10:00:00,123``,
  Python logging, most JSON logs), the first one within a line's first 100 characters;
- ``syslog``: ``Jan  7 10:00:00`` at the line's start (after an optional ``<PRI>``); the
  format has no year: the host's current year, or the year before when that date would lie
  more than a day in the future;
- ``epoch``: seconds since 1970 at the line's start (``1767780000.123 …``, journalctl's
  ``short-unix``);
- ``clf``: the Common Log Format's ``[07/Jan/2026:10:00:00 +0000]`` (nginx, Apache access).

A time without a zone is in ``timezone`` (``local``: the zone of the machine opscheck runs
on; ``UTC``; or an IANA name such as ``Pacific/Auckland``).
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Callable
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

HEAD = 100  # characters of a line searched for an iso timestamp
MONTHS = {m: i for i, m in enumerate(("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug",
                                       "Sep", "Oct", "Nov", "Dec"), start=1)}
ISO = re.compile(r"(\d{4})-(\d\d)-(\d\d)[T ](\d\d):(\d\d):(\d\d)(?:[.,](\d+))?"
                 r" ?(Z|[+-]\d\d:?\d\d)?")
SYSLOG = re.compile(r"^(?:<\d+>)?([A-Z][a-z]{2}) +(\d{1,2}) (\d\d):(\d\d):(\d\d)")
EPOCH = re.compile(r"^\s*(\d{9,11}(?:\.\d+)?)\b")
CLF = re.compile(r"\[(\d\d)/([A-Z][a-z]{2})/(\d{4}):(\d\d):(\d\d):(\d\d) ([+-]\d{4})\]")
FORMATS = ("iso", "syslog", "epoch", "clf", "mtime")

Parser = Callable[[str], float | None]


def zone(name: str) -> dt.tzinfo | None:
    """The tzinfo of ``name`` (None for ``local``); ValueError when there is no such zone."""
    if name == "local":
        return None
    if name.upper() == "UTC":
        return dt.UTC
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        raise ValueError(f"timezone {name!r} is not known; use \"local\", \"UTC\" or an IANA "
                         "name such as \"Europe/Berlin\"") from None


def _offset(text: str | None, default: dt.tzinfo | None) -> dt.tzinfo | None:
    if not text:
        return default
    if text == "Z":
        return dt.UTC
    sign = -1 if text[0] == "-" else 1
    digits = text[1:].replace(":", "")
    return dt.timezone(sign * dt.timedelta(hours=int(digits[:2]), minutes=int(digits[2:])))


def _epoch(moment: dt.datetime) -> float:
    # a naive datetime's timestamp() is taken in the local zone, as "local" means
    return moment.timestamp()


def parser(fmt: str, timezone: str = "local", now: float | None = None) -> Parser:
    """The parser of ``fmt`` (one of FORMATS but ``mtime``, which dates by the file)."""
    tz = zone(timezone)

    def iso(line: str) -> float | None:
        m = ISO.search(line, 0, HEAD)
        if m is None:
            return None
        y, mo, d, h, mi, s, frac, off = m.groups()
        micro = int((frac or "0")[:6].ljust(6, "0"))
        try:
            moment = dt.datetime(int(y), int(mo), int(d), int(h), int(mi), int(s), micro,
                                 tzinfo=_offset(off, tz))
        except ValueError:
            return None
        return _epoch(moment)

    def syslog(line: str) -> float | None:
        m = SYSLOG.match(line)
        if m is None or m.group(1) not in MONTHS:
            return None
        today = dt.datetime.fromtimestamp(now or dt.datetime.now().timestamp(), tz)
        mon, day, h, mi, s = MONTHS[m.group(1)], *map(int, m.groups()[1:])
        try:
            moment = dt.datetime(today.year, mon, day, h, mi, s, tzinfo=tz)
        except ValueError:
            return None
        if _epoch(moment) > today.timestamp() + 86400:
            moment = moment.replace(year=today.year - 1)
        return _epoch(moment)

    def epoch(line: str) -> float | None:
        m = EPOCH.match(line)
        return float(m.group(1)) if m else None

    def clf(line: str) -> float | None:
        m = CLF.search(line, 0, 2 * HEAD)
        if m is None or m.group(2) not in MONTHS:
            return None
        d, mon, y, h, mi, s, off = m.groups()
        moment = dt.datetime(int(y), MONTHS[mon], int(d), int(h), int(mi), int(s),
                             tzinfo=_offset(off, tz))
        return _epoch(moment)

    parsers: dict[str, Parser] = {"iso": iso, "syslog": syslog, "epoch": epoch, "clf": clf}
    return parsers[fmt]
