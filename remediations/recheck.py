"""Re-running a check: the whole pytest protocol again, fixtures torn down and set up anew.

A re-check must look afresh. Each run tears down the check's function-scoped fixtures
(``teardown`` towards ``nextitem``, as pytest-rerunfailures does), the component's cached
connection and its "unreachable" mark are dropped (:mod:`opscheck.connect`), and the next
run sets everything up again. The reports of the latest run are what the plugin logs.
pytest-timeout's per-check timer is paused while an action runs (the action has its own
timeout) and re-armed around each re-run.
"""

from __future__ import annotations

from typing import Any

import pytest
from _pytest.runner import runtestprotocol

from opscheck import connect, verdict
from opscheck.outcomes import failure_text
from opscheck.remediations import audit


def first_failure(reports: list[pytest.TestReport]) -> pytest.TestReport | None:
    """The failed setup or call report of a run, if any (a teardown error does not count)."""
    return next((r for r in reports if r.failed and r.when in ("setup", "call")), None)


def failure_line(report: pytest.TestReport) -> str:
    """The one line that says what failed (the evidence in the audit log)."""
    return audit.scrub(failure_text(report) or f"{report.when} {report.outcome}")


def _timeout_settings(item: pytest.Item) -> Any:
    try:
        from pytest_timeout import _get_item_settings
    except ImportError:
        return None
    settings = _get_item_settings(item)
    return settings if settings.timeout and not settings.func_only else None


def pause_timer(item: pytest.Item) -> None:
    hook = item.config.pluginmanager.hook
    if hasattr(hook, "pytest_timeout_cancel_timer"):
        hook.pytest_timeout_cancel_timer(item=item)


def _arm_timer(item: pytest.Item) -> None:
    settings = _timeout_settings(item)
    if settings is not None:
        item.config.pluginmanager.hook.pytest_timeout_set_timer(item=item, settings=settings)


class Rechecker:
    """Callable: run the check again; holds the latest run's reports."""

    def __init__(self, item: pytest.Item, nextitem: pytest.Item | None,
                 reports: list[pytest.TestReport]) -> None:
        self.item, self.nextitem, self.reports = item, nextitem, reports
        self.runs = 0
        self.cause = "condition"  # why the latest run failed (opscheck.verdict.cause)

    def __call__(self) -> tuple[bool, str]:
        connect.forget(self.item)
        _arm_timer(self.item)
        try:
            self.reports = runtestprotocol(self.item, log=False, nextitem=self.nextitem)
        finally:
            pause_timer(self.item)
        self.runs += 1
        failed = first_failure(self.reports)
        self.cause = (verdict.cause_of(failed) if failed else None) or "condition"
        return failed is None, failure_line(failed) if failed else ""

