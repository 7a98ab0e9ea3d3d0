"""The status board every report shows: one record per check, totals, and the run's verdict.

A record is built from a :class:`opscheck.outcomes.Result`; the HTML board, the JSON
summary, the Prometheus metrics and the Nagios line all read the same records, so a
check reads the same everywhere.
"""

from __future__ import annotations

import re
from collections import Counter
from typing import Any

import pytest

from opscheck.outcomes import STATES, Result, results
from opscheck.thresholds import fmt

#: state -> Nagios/Prometheus code: 0 ok, 1 warning, 2 critical, 3 could not run (unknown)
CODES = {"passed": 0, "remediated": 0, "waived": 0, "warning": 1, "failed": 2,
         "could not run": 3}
STATUS = {0: "OK", 1: "WARNING", 2: "CRITICAL", 3: "UNKNOWN"}
#: how bad a code is when codes are combined: critical beats unknown beats warning
RANK = {0: 0, 1: 1, 3: 2, 2: 3}
ACTION = re.compile(r"Action: (.+?)\.?$")
GROUPS = ("tier", "kind", "component")


def split_id(nodeid: str) -> tuple[str, str]:
    """(check, parameters) of a node id: ``test_disk_used``, ``this-host:/``."""
    name = nodeid.rpartition("::")[2]
    check, _, params = name.partition("[")
    return check, params.removesuffix("]")


def action(result: Result) -> str | None:
    """The runbook's action for a check that did not pass: its threshold's, or its message's."""
    if result.state in ("passed", "skipped"):
        return None
    for m in result.measurements:
        if m["state"] != "ok" and m.get("action"):
            return str(m["action"])
    found = ACTION.search(result.message)
    return found.group(1) if found else None


def measurement(m: dict[str, Any]) -> dict[str, Any]:
    keys = ("component", "metric", "value", "unit", "warning", "critical", "direction", "state")
    ranges = {k: m[k] for k in RANGES if m.get(k)}  # a band level's Nagios text
    return {**{k: m.get(k) for k in keys}, **ranges}


def record(result: Result) -> dict[str, Any]:
    """One check as every report shows it (the JSON summary's ``checks`` items)."""
    check, params = split_id(result.nodeid)
    return {
        "id": result.nodeid,
        "check": check,
        "params": params,
        **{key: result.properties.get(key) for key in GROUPS},
        "state": result.state,
        "code": CODES.get(result.state),
        "message": result.message,
        "measurements": [measurement(m) for m in result.measurements],
        "action": action(result),
        "duration": round(result.duration, 4),
        "waiver": result.waiver,
        "remediation": result.remediation,
    }


def records(config: pytest.Config) -> list[dict[str, Any]]:
    """Every check's record, ordered by component, then node id."""
    found = [record(r) for r in results(config).values()]
    return sorted(found, key=lambda r: (r["component"] or "", r["id"]))


def totals(recs: list[dict[str, Any]]) -> dict[str, Any]:
    """Counts per state: overall and per tier, kind and component."""
    out: dict[str, Any] = {"all": _count(recs)}
    for group in GROUPS:
        names = sorted({r[group] for r in recs if r[group]})
        out[group] = {name: _count([r for r in recs if r[group] == name]) for name in names}
    return out


def _count(recs: list[dict[str, Any]]) -> dict[str, int]:
    tally = Counter(r["state"] for r in recs)
    return {state: tally[state] for state in STATES if tally[state]}


def verdict(recs: list[dict[str, Any]]) -> int:
    """The run's code: the worst check's; 3 (unknown) when no check ran at all."""
    codes = [r["code"] for r in recs if r["code"] is not None]
    return max(codes, key=RANK.__getitem__) if codes else 3


def value_text(m: dict[str, Any]) -> str:
    return fmt(m["value"], m.get("unit") or "")


def levels_text(m: dict[str, Any]) -> str:
    unit = m.get("unit") or ""
    parts = [f"{name} {level}" for name in ("warning", "critical")
             if (level := _level(m, name, unit)) is not None]
    return ", ".join(parts)


RANGES = ("warning_range", "critical_range")


def _level(m: dict[str, Any], name: str, unit: str) -> str | None:
    """A measurement's level as text: its number, or its band (Nagios range) with the unit."""
    if m.get(name) is not None:
        return fmt(m[name], unit)
    band = m.get(f"{name}_range")
    if not band:
        return None
    return f"{band}{unit}" if unit == "%" else f"{band} {unit}".rstrip()
