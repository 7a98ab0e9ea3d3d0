"""Nagios and Icinga: one status line with perfdata, and the plugin exit code.

With ``--nagios`` (testinfra's flag, which opscheck takes over; ini ``opscheck_nagios =
true``, env ``OPSCHECK_NAGIOS=1``) pytest's terminal output is diverted (by testinfra)
and stdout carries a monitoring plugin's output::

    OPSCHECK CRITICAL - 1 failed, 1 warning, 12 ok (wave) | 'wave-redis memory used'=91.2%;75;90
    CRITICAL: wave-redis: test_redis_memory_used[wave-redis]: wave-redis memory used 91.2% ≥ …
    WARNING: …

One line per check that is not OK, worst first, naming the component and the check (a
Redis that is down gives one line per check it stopped, each saying which).

The exit code is the run's verdict: 0 OK (everything passed, was remediated or waived),
1 WARNING (a warning level crossed), 2 CRITICAL (a check failed), 3 UNKNOWN (a check
could not run, or no check ran); CRITICAL wins over UNKNOWN over WARNING. Perfdata has
one ``'label'=value[UOM];warn;crit`` per measured value; units Nagios does not know are
left out of the UOM. A bad inventory, waivers file or option is one
``OPSCHECK UNKNOWN - FILE: key: problem; fix`` line and exit 3 (:mod:`opscheck.guard`), as
is a run outside the suite: in Nagios mode every outcome is a status line and a code 0-3.
"""

from __future__ import annotations

import os
import sys
from typing import Any

import pytest
from _pytest.config import create_terminal_writer

from opscheck import secrets
from opscheck.plugin import inventory_of, inventory_path
from opscheck.reporting.records import RANK, STATUS, records, verdict
from opscheck.settings import get, on_controller
from opscheck.thresholds import fmt

UOMS = {"s", "ms", "us", "%", "B", "KB", "MB", "GB", "TB", "c"}
WORDS = {"passed": "ok", "could not run": "could not run"}


ENABLED = pytest.StashKey[bool]()


def enabled(config: pytest.Config) -> bool:
    return config.stash.get(ENABLED, False) and on_controller(config)


@pytest.hookimpl(tryfirst=True)
def pytest_configure(config: pytest.Config) -> None:
    """``--nagios`` is testinfra's flag; this module's output replaces testinfra's (which knows
    only OK and CRITICAL, and would divert the terminal after xdist has taken hold of it)."""
    config.stash[ENABLED] = bool(get(config, "nagios"))
    if config.stash[ENABLED]:
        config.option.nagios = False


@pytest.hookimpl(tryfirst=True)
def pytest_sessionstart(session: pytest.Session) -> None:
    """Send pytest's terminal output nowhere, before anything prints: stdout carries the
    plugin output alone.

    The reporter's writer is retargeted rather than the reporter replaced, so everything
    that holds the reporter (xdist's progress lines) goes quiet too; pytest has no public
    way to do that, ``_tw`` is the writer every plugin reaches through the reporter.
    """
    config = session.config
    reporter = config.pluginmanager.get_plugin("terminalreporter")
    if enabled(config) and reporter is not None:
        sink = open(os.devnull, "w", encoding="utf-8")  # noqa: SIM115 - closed at cleanup
        config.add_cleanup(sink.close)
        reporter._tw = create_terminal_writer(config, sink)


def _label(text: str) -> str:
    return "'" + text.replace("'", "''").replace("=", "-") + "'"


def _number(value: float | None) -> str:
    return "" if value is None else fmt(value)


def _level(m: dict[str, Any], name: str) -> str:
    """A perfdata warn/crit field: the level's number, or a band in Nagios range syntax."""
    return _number(m.get(name)) or str(m.get(f"{name}_range") or "")


def perfdata(recs: list[dict[str, Any]]) -> str:
    """``'component metric'=value[UOM];warn;crit`` per measured value (labels made unique)."""
    items, seen = [], set()
    for rec in recs:
        for m in rec["measurements"]:
            name = f"{m['component'] or rec['component'] or rec['check']} {m['metric']}"
            if name in seen:
                name += f" [{rec['params'] or rec['check']}]"
            seen.add(name)
            uom = m["unit"] if m["unit"] in UOMS else ""
            items.append(f"{_label(name)}={fmt(m['value'])}{uom};{_level(m, 'warning')};"
                         f"{_level(m, 'critical')}")
    return " ".join(items)


def _default_noted(config: pytest.Config) -> str:
    """A job that named no inventory checks the machine it runs on: the status line says so,
    so that a cron or NRPE line missing its ``--inventory`` is not read as the stack's OK."""
    return ", default inventory: this machine" if inventory_path(config)[1] == "default" else ""


def output(config: pytest.Config) -> tuple[int, str]:
    """(exit code, plugin output: the status line, then one line per check not OK)."""
    recs = records(config)
    code = verdict(recs)
    counted: dict[str, int] = {}
    for rec in recs:
        counted[rec["state"]] = counted.get(rec["state"], 0) + 1
    order = ("failed", "could not run", "warning", "remediated", "waived", "passed", "skipped")
    text = ", ".join(f"{counted[s]} {WORDS.get(s, s)}" for s in order if counted.get(s))
    line = (f"OPSCHECK {STATUS[code]} - {text or 'no checks ran'} "
            f"({inventory_of(config).system.name}{_default_noted(config)})")
    data = perfdata(recs)
    lines = [f"{line} | {data}" if data else line]
    bad = sorted((r for r in recs if r["code"]), key=lambda r: -RANK[r["code"]])
    lines += [check_line(rec) for rec in bad]
    return code, "\n".join(lines)


def check_line(rec: dict[str, Any]) -> str:
    """``UNKNOWN: cache: test_redis_memory_used[cache]: could not run: cache unreachable``:
    the state, the component, the check, its verdict (so no two checks read alike)."""
    name = f"{rec['check']}[{rec['params']}]" if rec["params"] else rec["check"]
    where = f"{rec['component']}: " if rec["component"] else ""
    return f"{STATUS[rec['code']]}: {where}{name}: {rec['message'] or 'no message'}"


@pytest.hookimpl(trylast=True)
def pytest_sessionfinish(session: pytest.Session) -> None:
    config = session.config
    if not enabled(config) or session.exitstatus == pytest.ExitCode.USAGE_ERROR:
        return  # a usage error is the guard's one UNKNOWN line (opscheck.guard)
    code, text = output(config)
    sys.stdout.write(secrets.redact(text) + "\n")
    sys.stdout.flush()
    session.exitstatus = code
