"""Outcomes: what each check's reports add up to, and the run's summary per component.

A check ends in one state: ``passed``, ``warning`` (passed, a warning level crossed),
``failed`` (a critical level crossed, or broken), ``could not run`` (an error: the
component was unreachable or the check could not start), ``skipped`` (not configured),
``remediated`` (it passed after a remediation acted on it: the report carries the
remediation's ``opscheck.remediation`` record) or ``waived`` (it failed as a waiver or
an xfail marker expected: a known failure, accepted until the waiver expires).
The terminal summary lists every component that was checked with its tally, so an operator
reading ``pytest -m critical`` sees what was covered, not only what broke.
"""

from __future__ import annotations

from collections import Counter, defaultdict
from dataclasses import dataclass, field
from typing import Any

import pytest

from opscheck import text
from opscheck.measure import measurements

STATES = ("passed", "warning", "failed", "could not run", "skipped", "remediated", "waived")
REMEDIATION = "opscheck.remediation"  # user property: the remediation's audit record (a dict)
WAIVER = "opscheck.waiver"  # user property: the waiver that matched the check (a dict)
RESULTS = pytest.StashKey[dict[str, "Result"]]()


@dataclass
class Result:
    nodeid: str
    properties: dict[str, Any] = field(default_factory=dict)
    measurements: list[dict[str, Any]] = field(default_factory=list)
    state: str = "passed"
    message: str = ""
    duration: float = 0.0
    remediation: dict[str, Any] | None = None
    waiver: dict[str, Any] | None = None

    def add(self, report: pytest.TestReport) -> None:
        self.duration += report.duration
        for key, value in report.user_properties:
            if key in ("tier", "kind", "component"):
                self.properties[key] = value
            elif key == REMEDIATION and isinstance(value, dict):
                self.remediation = value
            elif key == WAIVER and isinstance(value, dict):
                self.waiver = value
        if report.when == "call":
            self.measurements = measurements(report.user_properties)
        if report.skipped and hasattr(report, "wasxfail"):
            self.state = "waived"
            self.message = ": ".join(part for part in (report.wasxfail, failure_text(report))
                                     if part)
        elif report.skipped:
            self.state = "skipped"
            self.message = _reason(report)
        elif report.failed:
            failed_state = "failed" if report.when == "call" and getattr(
                report, "opscheck_cause", None) != "could not run" else "could not run"
            if self.state not in ("failed", "could not run"):
                self.state, self.message = failed_state, failure_text(report)
        elif report.when == "call" and any(m["state"] == "warning" for m in self.measurements):
            self.state = "warning"
            self.message = next(m["line"] for m in self.measurements if m["state"] == "warning")
        record = self.remediation or {}
        if record.get("state") == "remediated" and self.state in ("passed", "warning"):
            self.state = "remediated"  # an action ran and fixed it
            self.message = str(record.get("line") or f"remediated by "
                               f"{record.get('action', 'a remediation')}")


def failure_text(report: pytest.TestReport) -> str:
    """The failure's one line: the crash message, or (a redacted, plain-text report) its
    first ``E`` line; without pytest.fail's ``Failed:`` prefix; printable and capped."""
    shown = str(report.longrepr or "").strip().splitlines()
    crash = getattr(getattr(report.longrepr, "reprcrash", None), "message", None)
    if not crash:
        errors = [line[1:].strip() for line in shown if line.startswith("E ")]
        crash = errors[0] if errors else (shown[-1] if shown else "")
    return text.one_line(crash.splitlines()[0].removeprefix("Failed: ")) if crash else ""


def _reason(report: pytest.TestReport) -> str:
    longrepr = report.longrepr
    if isinstance(longrepr, tuple) and len(longrepr) == 3:
        return str(longrepr[2]).removeprefix("Skipped: ")
    return failure_text(report)


def results(config: pytest.Config) -> dict[str, Result]:
    """Every check's result so far, by node id (complete after the run, on the controller)."""
    return config.stash.setdefault(RESULTS, {})


class Collector:
    """Gathers results; on the xdist controller it receives the workers' reports too."""

    def __init__(self, config: pytest.Config) -> None:
        self.config = config

    @pytest.hookimpl(tryfirst=True)  # report writers in this hook see the updated result
    def pytest_runtest_logreport(self, report: pytest.TestReport) -> None:
        bucket = results(self.config)
        bucket.setdefault(report.nodeid, Result(report.nodeid)).add(report)

    def pytest_terminal_summary(self, terminalreporter: Any) -> None:
        tally = by_component(self.config)
        if not tally:
            return
        terminalreporter.section("opscheck: components checked")
        for (name, kind), counts in sorted(tally.items()):
            text = ", ".join(f"{counts[s]} {s}" for s in STATES if counts[s])
            terminalreporter.line(f"{name} ({kind}): {text}")


def pytest_configure(config: pytest.Config) -> None:
    config.pluginmanager.register(Collector(config), "opscheck-outcomes")


def by_component(config: pytest.Config) -> dict[tuple[str, str], Counter[str]]:
    tally: dict[tuple[str, str], Counter[str]] = defaultdict(Counter)
    for result in results(config).values():
        if "component" not in result.properties:
            continue
        key = (result.properties["component"], result.properties.get("kind", "-"))
        tally[key][result.state] += 1
    return tally
