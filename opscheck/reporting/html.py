"""The HTML status board: pytest-html's self-contained page, made a board through its hooks.

``--report-html PATH`` (or ``--report-dir``, or pytest-html's own ``--html``) writes one
page that reads, from the top: the verdict banner (the system, OK / WARNING / CRITICAL /
UNKNOWN in its colour, when, how long, the counts in opscheck's states), what changed
since the last run (:mod:`opscheck.reporting.history`), one tile per component (its worst
state, its failing checks named), then the table: one row per check, worst first
(failed, could not run, warning, …; the critical tier first within each), passes hidden
until their box is ticked, each row on one line (state, component, check, the value with
its levels and a sparkline of its last values, the verdict and the runbook's action),
details only where there is something to read; pytest-html's environment block last,
folded.

pytest-html stays the engine (its page, its filter boxes, its sorting); this module fills
its hooks: the columns (:mod:`opscheck.reporting.board` makes the cells), one row per check
(a check that errors in teardown after passing is one row, not two), pytest-html's filter
boxes relabelled with opscheck's states and counts (the outcome each row files under is
:data:`CATEGORY`'s), its initial sort set to severity (unless ``initial_sort`` is set).
"""

from __future__ import annotations

import time
from html import escape
from typing import Any

import pytest

from opscheck.outcomes import STATES, failure_text, results
from opscheck.plugin import inventory_of
from opscheck.reporting import board, history, iso, started
from opscheck.reporting.records import STATUS, record, records, totals, verdict
from opscheck.settings import on_controller

#: the pytest-html outcome (filter box) each state files under; its label becomes the state
CATEGORY = {"passed": "Passed", "warning": "XFailed", "failed": "Failed",
            "could not run": "Error", "skipped": "Skipped", "remediated": "XPassed",
            "waived": "Rerun"}  # pytest-html puts no comma after "rerun": the last state's
#: (header, css name, sortable) of opscheck's columns, and where they go
BEFORE_CHECK = (("State", "state", True), ("Component", "component", True))
AFTER_CHECK = (("Value", "value", False), ("Verdict", "message", False))
BEFORE_DURATION = (("Tier", "tier", True), ("Kind", "kind", True))
STYLE = """
body{display:flex;flex-direction:column;color:#444;margin:8px 14px}
h1#title{order:-2;margin:2px 0 6px;font-size:16px;color:#555}
.summary{order:-1}
body>p,#environment-header,#environment{order:1}
body>p{color:#999;margin:14px 0 0}
.summary__data>h2,p.run-count,p.filter{display:none}
#environment:not(.hidden){display:none}
#environment.hidden{display:table}
#environment-header h2:hover::after{content:" (show)"}
#environment-header.collapsed h2:hover::after{content:" (hide)"}
#environment-header h2{font-size:13px;color:#999}
.oc-banner{display:flex;align-items:center;gap:18px;color:#fff;padding:10px 16px;
 border-radius:4px}
.oc-status{font-size:30px;font-weight:bold;letter-spacing:1px}
.oc-run{font-size:14px}
.oc-counts{font-size:15px;font-weight:bold;margin:3px 0}
.oc-banner .oc-n{color:#fff}
.oc-tiers{font-size:12px;opacity:.9}
.oc-changes{margin:6px 0;padding:6px 10px;background:#f5f5f5;border-left:4px solid #90a4ae;
 color:#222;font-size:13px}
.oc-changes small{color:#666}
.oc-c-new_failures b{color:#c62828}.oc-c-recoveries b{color:#2e7d32}
.oc-c-flapping b{color:#e65100}
.oc-grid{display:flex;flex-wrap:wrap;gap:6px;margin:6px 0}
.oc-tile{min-width:150px;max-width:260px;padding:5px 8px;border-radius:3px;color:#222;
 border-left:6px solid;background:#fafafa;font-size:12px}
.oc-tile-name{font-weight:bold;font-size:13px}.oc-tile-name small{color:#777;font-weight:normal}
.oc-tile-state{font-weight:bold;text-transform:uppercase;font-size:11px}
.oc-tile ul{margin:2px 0 0;padding-left:14px}
.oc-note{color:#666;margin:4px 0}
.controls{margin:4px 0}
#results-table{color:#222;font-size:12px}
#results-table th,#results-table td{padding:3px 6px;vertical-align:top}
th[data-column-type="result"],td.col-result{display:none}
td.col-value .oc-m{white-space:nowrap}
td.col-message{width:40%}
.oc-badge{display:inline-block;padding:1px 6px;border-radius:3px;color:#fff;font-weight:bold;
 white-space:nowrap}
.oc-tag{display:inline-block;margin-left:4px;padding:0 4px;border-radius:3px;font-size:11px;
 background:#eceff1;color:#37474f;white-space:nowrap}
.oc-new{background:#c62828;color:#fff}.oc-back{background:#2e7d32;color:#fff}
.oc-flap{background:#e65100;color:#fff}
.oc-metric{color:#666}
svg.oc-spark{width:72px;height:16px;vertical-align:middle;margin-left:6px}
.oc-spark polyline{fill:none;stroke:#90a4ae;stroke-width:1.2}
.oc-spark .oc-ok{fill:#607d8b}.oc-spark .oc-warning{fill:#e65100}
.oc-spark .oc-critical{fill:#c62828}
tbody:has(.oc-badge.oc-s-warning) td{background:#fff3e0}
tbody:has(.oc-badge.oc-s-failed)>tr.collapsible>td:first-of-type{box-shadow:none}
.extras-row:not(:has(.log,.extraHTML>*,.media:not(.hidden))){display:none}
.logwrapper{max-height:240px;overflow-y:auto;overflow-x:hidden}
.logwrapper .logexpander{display:none}
.logwrapper .log{top:0;height:auto;padding-right:5px}
td.col-state,td.col-testId{white-space:nowrap}
.logwrapper .log{min-height:0}
"""


def _style() -> str:
    own = "".join(f".{board.css(s)}.oc-badge{{background:{c}}}"
                  f".oc-tile.{board.css(s)}{{border-color:{c}}}"
                  f".oc-tile-state.{board.css(s)},.oc-tile .{board.css(s)}{{color:{c}}}"
                  f".oc-changes .{board.css(s)}{{color:{c};font-weight:bold}}"
                  f".filters span.{CATEGORY[s].lower()}{{color:{c}}}"
                  for s, c in board.COLOURS.items())
    own += "".join(f".oc-tile.{board.css(s)}{{border-color:{c}}}"
                   for s, c in board.COLOURS.items())
    return f"<style>{STYLE}{own}</style>"


#: shows the page without the passed rows (pytest-html's own ``visible`` query) until the
#: passed box is ticked, unless the address already says what to show
HIDE_PASSES = ("<script>(function(){var u=new URL(window.location.href);"
               "if(!u.searchParams.has('visible')){u.searchParams.set('visible','{shown}');"
               "window.history.replaceState({},'',u.href)}})()</script>")


def _header(title: str, name: str, sortable: bool) -> str:
    if sortable:
        return f'<th class="sortable" data-column-type="{name}">{title}</th>'
    return f"<th>{title}</th>"


def _at(cells: list[str], marker: str) -> int:
    return next(i for i, cell in enumerate(cells) if marker in cell)


def pytest_configure(config: pytest.Config) -> None:
    if getattr(config.option, "htmlpath", None) and on_controller(config):
        config.pluginmanager.register(Board(config), "opscheck-html")


class Board:
    """pytest-html's hooks for one run (the row hook gets no config, so it is kept here)."""

    def __init__(self, config: pytest.Config) -> None:
        self.config = config
        self.phases: dict[str, list[tuple[str, str]]] = {}
        self.links = False  # did any row get a link (pytest-html's extras)?

    def pytest_runtest_logreport(self, report: pytest.TestReport) -> None:
        """Before pytest-html's (trylast): the phases of each check, to keep one row."""
        self.phases.setdefault(report.nodeid, []).append((report.when, report.outcome))

    def _row_of(self, report: pytest.TestReport) -> bool:
        """Is this the report that stands for its check (its first failure, else its call,
        else its first phase pytest-html shows)?"""
        shown = [p for p in self.phases.get(report.nodeid, [])
                 if p[0] == "call" or p[1] != "passed"]
        keep = next((p for p in shown if p[1] == "failed"), shown[0] if shown else None)
        return keep == (report.when, report.outcome)

    @pytest.hookimpl(optionalhook=True)
    def pytest_html_report_title(self, report: Any) -> None:
        when = iso(started(self.config))
        report.title = f"opscheck: {inventory_of(self.config).system.name}, run {when}"
        if self.config.getini("initial_sort") == "result":  # pytest-html's default
            report.set_data("initialSort", "state")
        self.report = report

    @pytest.hookimpl(optionalhook=True)
    def pytest_html_results_table_header(self, cells: list[str]) -> None:
        check = _at(cells, 'data-column-type="testId"')
        cells[check] = _header("Check", "testId", True)
        at = _at(cells, 'data-column-type="duration"')
        cells[at:at] = [_header(*c) for c in BEFORE_DURATION]
        cells[check + 1:check + 1] = [_header(*c) for c in AFTER_CHECK]
        cells[check:check] = [_header(*c) for c in BEFORE_CHECK]

    @pytest.hookimpl(optionalhook=True)
    def pytest_html_results_table_row(self, report: pytest.TestReport, cells: list[str]) -> None:
        result = results(self.config).get(report.nodeid)
        if result is None:  # a collection error: no check, no columns to fill
            at = _at(cells, "col-testId")
            cells[at + 1:at + 1] = ["<td></td>"] * len(AFTER_CHECK)
            cells[at:at] = ["<td></td>"] * len(BEFORE_CHECK)
            cells[-2:-2] = ["<td></td>"] * len(BEFORE_DURATION)
            return
        keep = self._row_of(report)
        if report.when == "teardown":  # the check's last report
            self.phases.pop(report.nodeid, None)
        if not keep:
            cells.clear()  # pytest-html leaves out a row without cells
            return
        self.links = self.links or "<a " in cells[_at(cells, "col-links")]
        rec = record(result)
        found = history.entry(self.config, rec)
        cells[_at(cells, "col-result")] = f'<td class="col-result">{CATEGORY[rec["state"]]}</td>'
        check = _at(cells, "col-testId")
        cells[check] = f'<td class="col-testId" title="{escape(rec["id"])}">' \
                       f'{escape(board.short(rec))}</td>'
        at = _at(cells, "col-duration")
        cells[at:at] = [f'<td class="col-tier">{escape(rec["tier"] or "")}</td>',
                        f'<td class="col-kind">{escape(rec["kind"] or "")}</td>']
        cells[check + 1:check + 1] = [
            board.value_cell(rec, found.history["values"], history._key),
            board.message_cell(rec)]
        cells[check:check] = [
            board.state_cell(rec, found.change, found.flaps, found.history["since"]),
            f'<td class="col-component">{escape(rec["component"] or "")}</td>']

    @pytest.hookimpl(optionalhook=True)
    def pytest_html_results_table_html(self, report: pytest.TestReport, data: list[str]) -> None:
        """Details only where there is something to read: a traceback (not the one line
        the row shows already), captured output, the remediation's record."""
        data[:] = details(report)

    @pytest.hookimpl(optionalhook=True)
    def pytest_html_results_summary(self, prefix: list[str], summary: list[str],
                                    postfix: list[str], session: pytest.Session) -> None:
        recs = records(self.config)
        counts, code = totals(recs), verdict(recs)
        prev = history.compared(self.config)
        changes = history.annotate(self.config, [dict(r) for r in recs]) if prev.found \
            else None
        names = {r["id"]: board.short(r) for r in recs}
        prefix.append(_style())
        if not self.links:  # an empty column
            prefix.append("<style>#results-table th:last-child,td.col-links{display:none}"
                          "</style>")
        prefix.append(board.banner(
            status=STATUS[code], system=inventory_of(self.config).system.name,
            when=iso(started(self.config)), took=time.time() - started(self.config),
            board=counts, changes=board.changes_html(changes, prev.note, names)))
        prefix.append(board.grid(recs))
        passes = counts["all"].get("passed", 0)
        if passes and code != 0:  # something needs a person: the passes wait behind a box
            shown = ",".join(CATEGORY[s].lower() for s in STATES if s != "passed")
            prefix.append(HIDE_PASSES.replace("{shown}", shown))
            prefix.append(f'<p class="oc-note">{passes} passed checks are not listed: tick '
                          f'“{passes} passed” to list them.</p>')
        self._relabel(counts["all"])

    def _relabel(self, counts: dict[str, int]) -> None:
        """pytest-html's filter boxes in opscheck's words and numbers (its outcome counts
        are pytest's: "29 Passed" where opscheck counts 28 passed and 1 warning)."""
        outcomes = getattr(getattr(self, "report", None), "outcomes", None)
        if not isinstance(outcomes, dict):
            return
        outcomes.clear()
        for state in STATES:
            outcomes[CATEGORY[state].lower()] = {"label": state, "value": counts.get(state, 0)}


def details(report: pytest.TestReport) -> list[str]:
    """What a row's details show: the traceback where the failure is more than its line
    (a crash, a bare assert), and every captured section with something in it."""
    out = []
    longrepr = report.longrepr
    if longrepr is not None and not isinstance(longrepr, tuple):
        text = str(longrepr).strip()
        if "\n" in text and text != failure_text(report):
            out.append(escape(text) + "\n")
    for title, body in report.sections:
        if body.strip():
            out.append(f"{' ' + escape(title) + ' ':-^80}\n{escape(body)}")
    return out
