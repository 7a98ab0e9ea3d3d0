"""A bounded ``SCAN MATCH`` over a Redis keyspace: the keys counted, or their values read.

Only read-only commands: ``SCAN`` pages through the keyspace (``COUNT`` keys examined per
round trip), ``MGET`` reads the matching keys' values in batches, and ``TYPE`` asks about a
key that MGET answered nil for (gone since the scan, or not a string). Every reply is bounded
by the client's socket timeout and the whole scan by the entry's ``seconds``; past it, or past
``max_keys`` matching keys, :class:`~opscheck.errors.CouldNotRun` says which bound to raise.
"""

from __future__ import annotations

import fnmatch
import time
from typing import Any

from opscheck.errors import CheckFailed, CouldNotRun
from opscheck.readings import Judged, Reading, aggregate
from opscheck.readings.jsonquery import ValueProblem, number
from opscheck.readings.keyscan import KeyScan

BATCH = 500  # keys per MGET


class ScanProblem(CheckFailed):
    """The matching keys cannot give the entry a number; ``str()`` says which key and why."""


def matching_keys(client: Any, entry: KeyScan, seconds: float) -> list[str]:
    """Every key matching ``entry.match`` and none of its excludes, within the bounds."""
    deadline = time.monotonic() + seconds
    cursor, examined = 0, 0
    keys: set[str] = set()
    while True:
        cursor, page = client.scan(cursor=cursor, match=entry.match, count=entry.count)
        examined += entry.count
        keys.update(k for k in page if not any(fnmatch.fnmatchcase(k, x) for x in entry.exclude))
        if len(keys) > entry.max_keys:
            raise CouldNotRun(f"could not run: more than max_keys {entry.max_keys} keys match "
                              f"{entry.match}; raise max_keys or narrow match")
        if int(cursor) == 0:
            return sorted(keys)
        if time.monotonic() > deadline:
            raise CouldNotRun(f"could not run: SCAN MATCH {entry.match} not done within "
                              f"{seconds:g} s (about {examined} keys examined); raise seconds "
                              "on the entry")


def judge(client: Any, entry: KeyScan, keys: list[str]) -> Judged:
    """The entry's value: the count of the matching ``keys``, or their values aggregated."""
    if entry.aggregate == "count":
        return Judged(float(len(keys)), [Reading(k, 1.0) for k in keys])
    readings = []
    for start in range(0, len(keys), BATCH):
        batch = keys[start:start + BATCH]
        for key, raw in zip(batch, client.mget(batch), strict=True):
            if raw is None:
                kind = client.type(key)
                if kind in ("none", b"none"):
                    continue  # expired or deleted since the scan
                raise ScanProblem(f"key {key} is a {kind}, not a number (GET gives nothing)")
            try:
                readings.append(Reading(key, number(raw, f"key {key}: ")))
            except ValueProblem as exc:
                raise ScanProblem(str(exc)) from None
    value = aggregate(readings, entry.aggregate)
    if value is None or not readings:
        if entry.missing == "zero":
            return Judged(0.0, [])
        raise ScanProblem(f"no key matches {entry.match}; expected at least one (set missing "
                          "= \"zero\" if none means 0)")
    return Judged(value, readings)
