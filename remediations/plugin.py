"""The opt-in remediation plugin: ``--remediate[=plan|apply]``, ``--approve``, reset.

Off unless ``--remediate`` is given (bare ``--remediate`` means apply). A check that names
a remediation (``@pytest.mark.remediation("requeue_stuck_tasks")``, or a probe's
``remediation = "…"``) and fails is handed to the :class:`~remediations.runner.Runner` in the
process that ran it (an xdist worker has the check's fixtures; the lock and budget hold
across processes through the shared SQLite store). The check's logged outcome is its last
re-run's: "remediated" (failed, fixed, passing now), or still failed with the action's output.
The kill switch: ``OPSCHECK_NO_REMEDIATE=1`` in the environment, or ``enabled = false``.
What clears the circuits, ``--remediate-reset``, is typed on the command line for one run and
audited; ``OPSCHECK_REMEDIATE_RESET`` in the environment is refused (it would reset every run).
"""

from __future__ import annotations

import os
import uuid
from typing import TYPE_CHECKING, Any

import pytest

from opscheck import settings
from opscheck.plugin import inventory_of
from opscheck.settings import Setting

if TYPE_CHECKING:  # the machinery loads only when --remediate is given
    from opscheck.inventory import Inventory
    from opscheck.remediations.config import Remediation
    from opscheck.remediations.runner import Outcome, Runner

KILL_ENV = "OPSCHECK_NO_REMEDIATE"
MODES = ("off", "plan", "apply")
PROPERTY = "opscheck.remediation"
SECTION = "opscheck remediation"
RUNNER = pytest.StashKey["Runner"]()


def _names(text: str) -> tuple[str, ...]:
    return tuple(n.strip() for n in text.split(",") if n.strip())


def _mode(text: str) -> str:
    if text not in MODES:
        raise ValueError(f"use one of {', '.join(MODES)}; a bare --remediate takes the next "
                         "word as its mode: write --remediate=apply, or put it after the paths")
    return text


settings.declare(
    Setting("remediate", "run the remediation a failed check names: plan (dry run: decide, "
            "record, run nothing) or apply; bare --remediate is apply", default="off",
            convert=_mode, nargs="?", const="apply", metavar="MODE", cli_only=True),
    Setting("approve", "allow a risky remediation action (deletes data, restarts a database); "
            "repeatable; NAME or COMPONENT:NAME", default=(),
            convert=_names, action="append", metavar="ACTION", cli_only=True),
    # typed, once: a reset in the environment or an ini file would run on every run, and
    # back-off, budget and circuit would never hold (five runs, five "attempt 1/3")
    Setting("remediate_reset", "close every open remediation circuit and forget past "
            "attempts, once, before this run (the operator's reset; audited)", default=False,
            action="store_const", const=True, cli_only=True),
)
RESET_ENV = settings.SETTINGS["remediate_reset"].env_var


def pytest_addoption(parser: pytest.Parser) -> None:
    settings.addoption(parser)


def kill_switch(section: Remediation, config: pytest.Config) -> str | None:
    if os.environ.get(KILL_ENV, "") not in ("", "0"):
        return f"kill switch: environment {KILL_ENV} is set"
    if not section.enabled:
        return f"kill switch: enabled = false in [remediation] of {inventory_of(config).path}"
    return None


def pytest_opscheck_sections() -> dict[str, str]:
    from opscheck.remediations import SECTIONS

    return SECTIONS


def pytest_opscheck_loaded(config: pytest.Config, inventory: Inventory) -> None:
    if os.environ.get(RESET_ENV, "") != "":
        raise pytest.UsageError(f"environment {RESET_ENV}: a reset of the remediation circuits "
                                "is typed on the command line, once (--remediate-reset), never "
                                f"kept in the environment; unset {RESET_ENV}")
    mode = settings.get(config, "remediate")
    reset = settings.get(config, "remediate_reset")
    if mode == "off" and not reset:
        return
    section = inventory.section("remediation")
    if section is None:
        raise pytest.UsageError(f"{inventory.path}: remediation: --remediate needs a "
                                "[remediation] table with [[remediation.allow]] entries; add "
                                "one (see the README, 'Remediation') or drop --remediate")
    from opscheck.remediations.runner import Runner

    worker = getattr(config, "workerinput", None)
    if worker is not None:
        run = worker.get("testrunuid") or uuid.uuid4().hex
    else:
        run = getattr(config.option, "testrunuid", None) or uuid.uuid4().hex
        if hasattr(config.option, "testrunuid"):
            config.option.testrunuid = run  # xdist workers share the controller's run id
    approved = set(settings.get(config, "approve") or ())
    runner = Runner(section, mode, approved, run[:12], kill_switch(section, config))
    problem = runner.preflight()
    if problem:
        raise pytest.UsageError(f"{inventory.path}: {problem}")
    config.stash[RUNNER] = runner
    if reset and worker is None:  # once per run, on the controller, before any check
        keys = runner.store.reset()
        runner.note(decision="reset", detail="operator reset (--remediate-reset): circuits "
                    f"closed, attempts forgotten for {', '.join(keys) or 'nothing'}")


def pytest_unconfigure(config: pytest.Config) -> None:
    runner = config.stash.get(RUNNER, None)
    if runner is not None:
        runner.close()


def pytest_report_header(config: pytest.Config) -> list[str]:
    runner = config.stash.get(RUNNER, None)
    if runner is None or runner.mode == "off":
        return ["opscheck remediation: off (--remediate=plan or --remediate=apply to enable)"]
    s = runner.section
    stop = runner.emergency_stop() or (f"{s.emergency_stop} absent" if s.emergency_stop
                                       else "none")
    allowed = ", ".join(f"{a.component}/{a.action}" for a in s.allow) or "nothing"
    return [f"opscheck remediation: mode {runner.mode}"
            + (f" — DISABLED ({runner.killed})" if runner.killed else "")
            + f"; allowed: {allowed}; approved: {', '.join(sorted(runner.approved)) or 'none'}",
            f"opscheck remediation: confirm {s.confirm}x every {s.confirm_delay:g} s, settle "
            f"{s.settle:g} s; state {s.state}; audit {s.audit}; emergency stop {stop}"]


def target_of(item: pytest.Item) -> tuple[str, str | None] | None:
    """(action, component) a failure of ``item`` may trigger, or None."""
    marker = item.get_closest_marker("remediation")
    component = marker.kwargs.get("component") if marker else None
    action = (marker.args[0] if marker.args else marker.kwargs.get("action")) if marker else None
    if action is None:  # a probe names its remediation in the inventory
        params = getattr(getattr(item, "callspec", None), "params", {})
        action = next((v.remediation for v in params.values()
                       if isinstance(getattr(v, "remediation", None), str)), None)
    if action is None:
        return None
    props = dict(p for p in item.user_properties if isinstance(p, tuple) and len(p) == 2)
    named = component or props.get("component")
    return str(action), str(named) if named else None


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    if RUNNER not in config.stash or config.stash[RUNNER].mode == "off":
        return
    from opscheck.remediations import registry

    known = set(registry.names())
    bad = sorted({f"{i.nodeid.split('[')[0]}: remediation {t[0]!r} is not a registered action"
                  for i in items if (t := target_of(i)) and t[0] not in known})
    if bad:
        raise pytest.UsageError("\n  ".join([*bad, f"registered: {', '.join(sorted(known))}; "
                                             "fix the marker's name or install the plugin"]))


def pytest_opscheck_remediate(item: pytest.Item, nextitem: pytest.Item | None,
                              reports: list[pytest.TestReport]) -> list[pytest.TestReport] | None:
    """A failed check that names a remediation: hand it to the runner; the reports to log
    are the last re-run's."""
    runner = item.config.stash.get(RUNNER, None)
    target = target_of(item) if runner is not None and runner.mode != "off" else None
    if runner is None or target is None:
        return None
    from opscheck import verdict
    from opscheck.remediations import recheck
    from opscheck.remediations.runner import CONDITION, Request

    failed = recheck.first_failure(reports)
    if failed is not None:
        recheck.pause_timer(item)
        checker = recheck.Rechecker(item, nextitem, reports)
        outcome = runner.handle(Request(item.nodeid, target[1], target[0],
                                        recheck.failure_line(failed),
                                        verdict.cause_of(failed) or CONDITION), checker)
        reports = checker.reports
        annotate(reports, outcome)
    elif runner.mode == "apply" and not runner.killed:
        observe_healthy(runner, *target)
    return reports


def observe_healthy(runner: Runner, action: str, component: str | None) -> None:
    """A passing check counts towards closing its open circuit (the healthy period)."""
    entry = runner.section.allowed(component, action) if component else None
    if entry is not None and runner.store.observe(f"{component}/{action}", True,
                                                  runner.policy(entry)):
        runner.note(component=component, action=action, decision="circuit closed",
                    detail="healthy for the cooldown period")


def annotate(reports: list[pytest.TestReport], outcome: Outcome) -> None:
    """Put the outcome on the run's decisive report: a property and a report section."""
    from opscheck.remediations import recheck

    report = recheck.first_failure(reports) or next(
        (r for r in reports if r.when == "call"), reports[0])
    info = outcome.as_dict()
    report.user_properties.append((PROPERTY, info))
    text = info["line"]
    if outcome.output:
        text += "\naction output:\n" + outcome.output
    report.sections.append((SECTION, text))


def info_of(report: pytest.TestReport) -> dict[str, Any] | None:
    return next((v for k, v in getattr(report, "user_properties", ()) if k == PROPERTY), None)


def pytest_report_teststatus(report: pytest.TestReport, config: pytest.Config) -> Any:
    info = info_of(report)
    if info and report.when == "call" and report.passed and info["state"] == "remediated":
        return "remediated", "R", ("REMEDIATED", {"green": True})
    if info and report.failed and info["state"] == "remediation failed":
        return "failed", "F", ("FAILED (remediation failed)", {"red": True})
    if info and report.failed and info["state"] == "would fail":
        return "failed", "F", ("FAILED (remediation would fail)", {"red": True})
    return None


def pytest_terminal_summary(terminalreporter: Any, config: pytest.Config) -> None:
    seen = [(r.nodeid, info) for r in _reports(terminalreporter) if (info := info_of(r))]
    runner = config.stash.get(RUNNER, None)
    if not seen and (runner is None or runner.mode == "off"):
        return
    mode = runner.mode if runner else "?"
    terminalreporter.section(f"opscheck: remediation (mode {mode})")
    for nodeid, info in seen:
        terminalreporter.line(f"{nodeid}: {info['line']}")
    if not seen:
        terminalreporter.line("no check that names a remediation failed")
    if runner is not None:
        terminalreporter.line(f"audit log: {runner.section.audit}")


def _reports(terminalreporter: Any) -> list[pytest.TestReport]:
    return [r for reports in terminalreporter.stats.values() for r in reports
            if isinstance(r, pytest.TestReport)]
