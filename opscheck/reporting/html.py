"""The HTML status board: pytest-html's report with opscheck's columns and summary.

``--report-html PATH`` (or ``--report-dir``, or pytest-html's own ``--html``) writes one
self-contained page. Through pytest-html's hooks this module adds, per check, the state
(passed, warning, failed, could not run, skipped, remediated, waived), component, kind,
tier, check name, the measured value with its warning and critical levels and unit, and
the runbook's action for a check that did not pass; above the table a count per tier and
per component; in the title the inventory's system and the run's start time.
"""

from __future__ import annotations

from datetime import datetime
from html import escape
from typing import Any

import pytest

from opscheck.outcomes import STATES, results
from opscheck.plugin import inventory_of
from opscheck.reporting import started
from opscheck.reporting.records import (
    STATUS,
    levels_text,
    record,
    records,
    totals,
    value_text,
    verdict,
)
from opscheck.settings import on_controller

COLOURS = {"passed": "#2e7d32", "warning": "#e65100", "failed": "#c62828",
           "could not run": "#6a1b9a", "skipped": "#757575", "remediated": "#1565c0",
           "waived": "#5d4037"}
STYLE = (".opscheck-summary{margin:6px 0;border-collapse:collapse}"
         ".opscheck-summary td,.opscheck-summary th{padding:2px 10px;text-align:left;"
         "border-bottom:1px solid #e0e0e0}.opscheck-summary caption{text-align:left}")
#: (header, css name, sortable) of the columns added after pytest-html's "Result"
COLUMNS = (("State", "state", True), ("Component", "component", True), ("Kind", "kind", True),
           ("Tier", "tier", True), ("Check", "check", True), ("Value", "value", False),
           ("Levels", "levels", False), ("Action", "action", False))


def _header(title: str, name: str, sortable: bool) -> str:
    if sortable:
        return f'<th class="sortable" data-column-type="{name}">{title}</th>'
    return f"<th>{title}</th>"


def _state_cell(state: str) -> str:
    colour = COLOURS.get(state, "inherit")
    return f'<td class="col-state" style="color:{colour};font-weight:bold">{escape(state)}</td>'


def pytest_configure(config: pytest.Config) -> None:
    if getattr(config.option, "htmlpath", None) and on_controller(config):
        config.pluginmanager.register(Board(config), "opscheck-html")


class Board:
    """pytest-html's hooks for one run (the row hook gets no config, so it is kept here)."""

    def __init__(self, config: pytest.Config) -> None:
        self.config = config

    @pytest.hookimpl(optionalhook=True)
    def pytest_html_report_title(self, report: Any) -> None:
        when = datetime.fromtimestamp(started(self.config)).astimezone()
        report.title = (f"opscheck: {inventory_of(self.config).system.name}, "
                        f"run {when.isoformat(timespec='seconds')}")

    @pytest.hookimpl(optionalhook=True)
    def pytest_html_results_table_header(self, cells: list[str]) -> None:
        cells[1:1] = [_header(*column) for column in COLUMNS]

    @pytest.hookimpl(optionalhook=True)
    def pytest_html_results_table_row(self, report: pytest.TestReport, cells: list[str]) -> None:
        result = results(self.config).get(report.nodeid)
        if result is None:  # a collection error: no check, no columns to fill
            cells[1:1] = ["<td></td>"] * len(COLUMNS)
            return
        rec = record(result)
        values = "<br>".join(f"{escape(m['metric'])}: {escape(value_text(m))}"
                             for m in rec["measurements"])
        levels = "<br>".join(escape(levels_text(m)) for m in rec["measurements"])
        plain = (rec["component"], rec["kind"], rec["tier"], rec["check"])
        cells[1:1] = [
            _state_cell(rec["state"]),
            *(f'<td class="col-{name}">{escape(value or "")}</td>'
              for (_, name, _), value in zip(COLUMNS[1:5], plain, strict=True)),
            f'<td class="col-value">{values}</td>',
            f'<td class="col-levels">{levels}</td>',
            f'<td class="col-action">{escape(rec["action"] or "")}</td>',
        ]

    @pytest.hookimpl(optionalhook=True)
    def pytest_html_results_summary(self, prefix: list[str], summary: list[str],
                                    postfix: list[str], session: pytest.Session) -> None:
        inventory = inventory_of(self.config)
        recs = records(self.config)
        board, code = totals(recs), verdict(recs)
        counts = ", ".join(f"{n} {s}" for s, n in board["all"].items())
        prefix.append(f"<style>{STYLE}</style><p>Inventory <b>{escape(inventory.system.name)}"
                      f"</b> ({escape(str(inventory.path))}): <b>{STATUS[code]}</b>, "
                      f"{escape(counts)}.</p>")
        for group in ("tier", "component"):
            prefix.append(_table(group, board[group]))


def _table(group: str, counts: dict[str, dict[str, int]]) -> str:
    """A table: one row per tier (or component), one column per state seen in the run."""
    seen = [s for s in STATES if any(s in c for c in counts.values())]
    head = "".join(f'<th style="color:{COLOURS[s]}">{escape(s)}</th>' for s in seen)
    rows = "".join(
        f"<tr><td>{escape(name)}</td>"
        + "".join(f"<td>{c.get(s, 0) or ''}</td>" for s in seen) + "</tr>"
        for name, c in counts.items())
    return (f'<table class="opscheck-summary"><caption>By {group}</caption>'
            f"<tr><th>{group}</th>{head}</tr>{rows}</table>")
