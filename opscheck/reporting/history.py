"""What changed since the last run: each check's history, carried from the previous summary.

The previous run is its JSON summary: ``--report-previous PATH`` (ini
``opscheck_report_previous``, env ``OPSCHECK_REPORT_PREVIOUS``), or else this run's own
JSON summary file, read when the run starts, before this run replaces it. So a report
folder that is kept (``--report-dir reports`` run after run) keeps the record by itself.

Each check of the new summary carries its ``history``, made from the previous one's and
this run's result: ``states`` (its last :data:`KEEP` states, oldest first, this run's
last), ``since`` (when the check entered its condition: OK, or not OK) and ``values``
(per measured metric, its last :data:`KEEP` values: the HTML row's sparkline). Only the
previous summary is read: the history rides on from summary to summary.

A check is *OK* when its state's Nagios code is 0 (passed, remediated, waived), not OK
when it is 1 to 3 (warning, failed, could not run); a skipped check is not judged and
changes nothing. Compared with its last judged state before, a check is a **new
failure** (not OK now: OK before, never seen, or worse now), a **recovery** (OK now, not
OK before) or **still failing** (not OK before and now, no worse; ``since`` says from
when). A check **flaps** when its code changed in at least :data:`FLAP_SHARE` of the
runs kept, and at least twice (Nagios's flap detection, unweighted).
"""

from __future__ import annotations

import itertools
import json
import math
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest

from opscheck import settings
from opscheck.plugin import inventory_of
from opscheck.reporting import iso, path_of, started
from opscheck.reporting.records import CODES, RANK, records
from opscheck.settings import on_controller

KEEP = 20  # runs kept per check: its states and each metric's values
FLAP_SHARE = 0.25
KINDS = ("new_failures", "recoveries", "still_failing")


@dataclass
class Previous:
    """The previous run, as its summary tells it (``checks`` by id), or why there is none."""

    path: Path | None = None
    started: str | None = None
    status: str | None = None
    system: str | None = None
    checks: dict[str, dict[str, Any]] = field(default_factory=dict)
    note: str = ""  # why nothing is compared, when nothing is

    @property
    def found(self) -> bool:
        return self.started is not None


PREVIOUS = pytest.StashKey[Previous]()


def source(config: pytest.Config) -> tuple[Path | None, bool]:
    """(the previous summary's path, named by the setting?); (None, False) when no report
    keeps a record."""
    if settings.get(config, "report_previous"):
        return settings.path(config, "report_previous")[0], True
    return path_of(config, "json"), False


def previous(config: pytest.Config) -> Previous:
    """The previous run, read once per process (first asked for at the run's start)."""
    if PREVIOUS not in config.stash:
        config.stash[PREVIOUS] = read(*source(config))
    return config.stash[PREVIOUS]


def read(path: Path | None, named: bool) -> Previous:
    """The summary at ``path``. Not there: nothing to compare (the first run). Not a
    summary: a usage error when the setting named it, else a note (it is replaced)."""
    if path is None:
        return Previous(note="no JSON summary is written, so no run is compared")
    try:
        doc = json.loads(path.read_text(encoding="utf-8"))
        checks = {c["id"]: c for c in doc["checks"] if isinstance(c["state"], str)}
        return Previous(path, str(doc["started"]), str(doc.get("status")),
                        str(doc.get("system")), checks)
    except FileNotFoundError:
        return Previous(path, note=f"no previous summary at {path}: the next run compares "
                                   "with this one")
    except (OSError, ValueError, KeyError, TypeError) as exc:
        problem = (f"{path}: not an opscheck JSON summary ({type(exc).__name__}: "
                   f"{str(exc)[:120]})")
        if named:
            raise pytest.UsageError(f"report_previous {problem}; name the summary.json of "
                                    "an earlier run, or leave the setting out") from None
        return Previous(path, note=f"{problem}: not compared, this run's summary replaces it")


COMPARED = pytest.StashKey[Previous]()


def compared(config: pytest.Config) -> Previous:
    """The previous run if it checked the same system, else an empty one saying why."""
    if COMPARED not in config.stash:
        prev = previous(config)
        system = inventory_of(config).system.name
        if prev.found and prev.system != system:
            prev = Previous(prev.path, note=f"the previous summary {prev.path} is of system "
                                            f"{prev.system!r}, this run checks {system!r}: "
                                            "not compared")
        config.stash[COMPARED] = prev
    return config.stash[COMPARED]


def _past(check: dict[str, Any] | None, when: str | None) -> dict[str, Any] | None:
    """A previous check's history; a summary without one (schema 1 before histories) gives
    its own run as the only one."""
    if check is None:
        return None
    hist = check.get("history")
    if isinstance(hist, dict) and isinstance(hist.get("states"), list):
        return hist
    values = {_key(check, m): [m["value"]] for m in check.get("measurements") or []
              if isinstance(m, dict) and "metric" in m}
    return {"states": [check.get("state")], "since": when, "values": values}


def _key(rec: dict[str, Any], m: dict[str, Any]) -> str:
    """A measured value's name within its check (its component's, when not the check's)."""
    owner = m.get("component")
    return str(m["metric"]) if owner in (None, rec.get("component")) else f"{owner} {m['metric']}"


def _numbers(values: Any) -> list[float]:
    if not isinstance(values, list):
        return []
    return [float(v) for v in values if isinstance(v, int | float) and math.isfinite(v)]


def _judged(states: list[Any]) -> list[int]:
    """The codes of the judged states (skipped and unknown words left out)."""
    return [CODES[s] for s in states if isinstance(s, str) and CODES.get(s) is not None]


def carry(past: dict[str, Any] | None, rec: dict[str, Any], now: str) -> dict[str, Any]:
    """The check's history after this run (``rec``, started at ``now``)."""
    before = _judged(past["states"]) if past else []
    code = rec["code"]
    since = str(past.get("since") or now) if past else now
    if code is not None and (not before or (before[-1] == 0) != (code == 0)):
        since = now
    values = {k: _numbers(v) for k, v in (past or {}).get("values", {}).items()} \
        if past and isinstance(past.get("values"), dict) else {}
    measured = {}
    for m in rec["measurements"]:
        value = m.get("value")
        if isinstance(value, int | float) and math.isfinite(value):
            key = _key(rec, m)
            measured[key] = [*values.get(key, []), float(value)][-KEEP:]
    states = [*(past["states"] if past else []), rec["state"]][-KEEP:]
    return {"states": states, "since": since, "values": measured or values}


def change(past: dict[str, Any] | None, rec: dict[str, Any]) -> str | None:
    """``new_failures``, ``recoveries``, ``still_failing`` or None for a check."""
    code = rec["code"]
    before = _judged(past["states"]) if past else []
    was = before[-1] if before else None
    if code is None:
        return None
    if code != 0:
        if was is None or was == 0 or RANK[code] > RANK[was]:
            return "new_failures"
        return "still_failing"
    return "recoveries" if was not in (None, 0) else None


def flaps(hist: dict[str, Any]) -> int:
    """How many times the check's code changed in the runs kept, when that is flapping;
    else 0."""
    codes = _judged(hist["states"])
    turns = sum(a != b for a, b in itertools.pairwise(codes))
    return turns if turns >= 2 and turns >= FLAP_SHARE * (len(codes) - 1) else 0


def was(past: dict[str, Any] | None) -> str | None:
    """The check's last judged state before this run."""
    states = [s for s in (past or {}).get("states", []) if CODES.get(s) is not None]
    return states[-1] if states else None


@dataclass
class Entry:
    """One check's place in the run's history: for the HTML row and the Allure tags."""

    history: dict[str, Any]
    change: str | None
    flaps: int
    was: str | None


def entry(config: pytest.Config, rec: dict[str, Any]) -> Entry:
    prev = compared(config)
    past = _past(prev.checks.get(rec["id"]), prev.started)
    hist = carry(past, rec, iso(started(config)))
    if not prev.found:  # the first run kept: nothing is new, nothing recovered
        return Entry(hist, None, 0, None)
    return Entry(hist, change(past, rec), flaps(hist), was(past))


def annotate(config: pytest.Config, recs: list[dict[str, Any]]) -> dict[str, Any]:
    """Give every record its ``history``; return the run's ``changes`` (the summary's)."""
    prev = compared(config)
    out: dict[str, Any] = {"previous": None, **{kind: [] for kind in KINDS}, "flapping": []}
    if prev.found:
        out["previous"] = {"file": str(prev.path), "started": prev.started,
                           "status": prev.status}
    for rec in sorted(recs, key=lambda r: -RANK.get(r["code"], -1)):
        found = entry(config, rec)
        rec["history"] = found.history
        if not prev.found:
            continue
        if found.change == "still_failing":
            out["still_failing"].append({"id": rec["id"], "state": rec["state"],
                                         "since": found.history["since"]})
        elif found.change:
            out[found.change].append({"id": rec["id"], "state": rec["state"],
                                      "was": found.was})
        if found.flaps:
            out["flapping"].append({"id": rec["id"], "state": rec["state"],
                                    "changes": found.flaps,
                                    "runs": len(_judged(found.history["states"]))})
    return out


WORDS = {"new_failures": "new failure", "recoveries": "recovered",
         "still_failing": "still failing", "flapping": "flapping"}


def lines(changes: dict[str, Any], shown: int = 10) -> list[str]:
    """The changes as terminal lines: one per new failure, recovery and flapping check, one
    per "still failing since" (naming ``shown`` checks at most)."""
    out = []
    for kind in ("new_failures", "recoveries"):
        out += [f"{WORDS[kind]}: {item['id']}: {item['state']} (was "
                f"{item['was'] or 'not seen'})" for item in changes[kind]]
    since: dict[str, list[str]] = {}
    for item in changes["still_failing"]:
        since.setdefault(item["since"], []).append(item["id"])
    for stamp, ids in sorted(since.items()):
        more = f", +{len(ids) - shown} more" if len(ids) > shown else ""
        out.append(f"still failing since {stamp} ({len(ids)}): {', '.join(ids[:shown])}{more}")
    out += [f"flapping ({item['changes']} changes in {item['runs']} runs): {item['id']}: "
            f"{item['state']}" for item in changes["flapping"]]
    return out


@pytest.hookimpl(trylast=True)
def pytest_configure(config: pytest.Config) -> None:
    """Read the previous summary now, before any writer replaces it (a named one that is
    not a summary stops the run here, exit 4)."""
    if on_controller(config) and source(config)[0] is not None:
        previous(config)


def pytest_terminal_summary(terminalreporter: Any, config: pytest.Config) -> None:
    if not on_controller(config) or source(config)[0] is None or not records(config):
        return
    prev = compared(config)
    if not prev.found:
        terminalreporter.section("opscheck: changed since the last run")
        terminalreporter.line(prev.note)
        return
    changes = annotate(config, records(config))
    terminalreporter.section(f"opscheck: changed since the last run ({prev.started}, "
                             f"{prev.status})")
    for line in lines(changes) or ["nothing changed"]:
        terminalreporter.line(line)
