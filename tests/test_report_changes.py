"""What changed since the last run, across three real runs of real checks on real files.

A files component reads an emergency-stop flag file, a SQLite component a real database
file. Between the runs the test changes the files as an operator (or an incident) would:

| run | flag file | journal mode (expected wal) | file size (critical 0.1 MB) |
| --- | --- | --- | --- |
| 1 | absent: passed | delete: failed | 0.01 MB: passed |
| 2 | present: failed (new failure) | delete: still failing since run 1 | 0.04 MB: passed |
| 3 | absent: passed (recovered, flapping) | wal: passed (recovered) | 0.2 MB: failed (new) |

Each run writes every report into one kept folder; each is read back: the JSON summary's
``changes`` and ``history``, the terminal's section, the HTML banner and rows, Allure's tags.
"""

from __future__ import annotations

import html
import json
import re
import sqlite3
import textwrap
from pathlib import Path
from typing import Any

import pytest
from report_kit import Run, run_pytest

from conftest import CHECKS

STOP = "test_emergency_stop_absent[flags]"
JOURNAL = "test_sqlite_journal_mode[stories]"
SIZE = "test_sqlite_file_size[stories]"


def grow(db: Path, kilobytes: int, journal: str | None = None) -> None:
    """Add ``kilobytes`` of rows to the database (and set its journal mode)."""
    conn = sqlite3.connect(db, isolation_level=None)  # autocommit: the pragma needs it
    try:
        conn.execute("CREATE TABLE IF NOT EXISTS notes (body BLOB)")
        conn.executemany("INSERT INTO notes VALUES (randomblob(1000))", [()] * kilobytes)
        if journal:
            conn.execute(f"PRAGMA journal_mode={journal}")
    finally:
        conn.close()


def one_run(folder: Path) -> tuple[Run, dict[str, Any]]:
    done = run_pytest(folder, "-m", "critical or standard", "--report-dir", "reports",
                      str(CHECKS / "files" / "test_files.py"),
                      str(CHECKS / "sqlite" / "test_sqlite.py"))
    assert "INTERNALERROR" not in done.stdout + done.stderr, done.stdout[-3000:]
    summary = json.loads((done.reports / "summary.json").read_text())
    return done, short(summary)


def tail(node_id: str) -> str:
    return node_id.rpartition("::")[2]


def short(summary: dict[str, Any]) -> dict[str, Any]:
    """The summary with each check id as its name (the checks lie outside the run's
    root folder here, so their ids start with ``::``)."""
    for check in summary["checks"]:
        check["id"] = tail(check["id"])
    for kind in ("new_failures", "recoveries", "still_failing", "flapping"):
        for item in summary["changes"][kind]:
            item["id"] = tail(item["id"])
    return summary


def row(page: Path, name: str) -> dict[str, Any]:
    """A check's row in the HTML report (pytest-html's data)."""
    blob = re.search(r'data-jsonblob="([^"]*)"', page.read_text()).group(1)
    (found,) = [rows[0] for node, rows in json.loads(html.unescape(blob))["tests"].items()
                if tail(node) == name]
    return found


@pytest.fixture(scope="module")
def runs(tmp_path_factory: pytest.TempPathFactory) -> list[tuple[Run, dict[str, Any]]]:
    folder = tmp_path_factory.mktemp("changes")
    flag, db = folder / "EMERGENCY-STOP", folder / "stories.db"
    (folder / "inventory.toml").write_text(textwrap.dedent(f"""\
        [system]
        name = "changes-demo"

        [[components]]
        name = "flags"
        kind = "files"
        emergency_stop = "{flag}"

        [[components]]
        name = "stories"
        kind = "sqlite"
        path = "{db}"
        journal_mode = "wal"
        thresholds.size = {{ warning = 0.08, critical = 0.1 }}
        """))
    grow(db, 5)
    out = [one_run(folder)]
    flag.write_text("stopped by the on-call: disk incident\n")
    grow(db, 30)
    out.append(one_run(folder))
    flag.unlink()
    grow(db, 160, journal="wal")
    out.append(one_run(folder))
    return out


def states(summary: dict[str, Any]) -> dict[str, str]:
    return {c["id"]: c["state"] for c in summary["checks"]}


def ids(items: list[dict[str, Any]]) -> list[str]:
    return [i["id"] for i in items]


def test_the_three_runs_saw_what_the_files_held(runs):
    (_, first), (_, second), (_, third) = runs
    assert [states(s)[STOP] for s in (first, second, third)] == ["passed", "failed", "passed"]
    assert [states(s)[JOURNAL] for s in (first, second, third)] == ["failed", "failed",
                                                                      "passed"]
    assert [states(s)[SIZE] for s in (first, second, third)] == ["passed", "passed", "failed"]


def test_first_run_has_nothing_to_compare(runs):
    run, summary = runs[0]
    assert summary["changes"]["previous"] is None
    assert "no previous summary at " in run.stdout


def test_second_run_names_the_new_failure_and_what_is_still_failing_since_when(runs):
    (_, first), (run, second) = runs[:2]
    changes = second["changes"]
    assert changes["previous"]["started"] == first["started"]
    assert changes["new_failures"] == [{"id": STOP, "state": "failed", "was": "passed"}]
    assert changes["still_failing"] == [{"id": JOURNAL, "state": "failed",
                                         "since": first["started"]}]
    assert changes["recoveries"] == [] and changes["flapping"] == []
    section = run.stdout.split("opscheck: changed since the last run", 1)[1]
    assert re.search(rf"^new failure: \S*{re.escape(STOP)}: failed \(was passed\)$", section,
                     re.M)
    assert re.search(rf"^still failing since {re.escape(first['started'])} \(1\): \S*"
                     rf"{re.escape(JOURNAL)}$", section, re.M)


def test_third_run_names_the_recoveries_the_new_failure_and_the_flapping_check(runs):
    _, (_, second), (run, third) = runs
    changes = third["changes"]
    assert changes["previous"]["started"] == second["started"]
    assert changes["new_failures"] == [{"id": SIZE, "state": "failed", "was": "passed"}]
    assert sorted(ids(changes["recoveries"])) == sorted([STOP, JOURNAL])
    assert changes["still_failing"] == []
    assert changes["flapping"] == [{"id": STOP, "state": "passed", "changes": 2, "runs": 3}]
    checks = {c["id"]: c for c in third["checks"]}
    assert checks[STOP]["history"]["states"] == ["passed", "failed", "passed"]
    assert checks[STOP]["history"]["since"] == third["started"]
    assert checks[JOURNAL]["history"]["states"] == ["failed", "failed", "passed"]
    section = run.stdout.split("opscheck: changed since the last run", 1)[1]
    for line in (rf"new failure: \S*{re.escape(SIZE)}: failed \(was passed\)",
                 rf"recovered: \S*{re.escape(JOURNAL)}: passed \(was failed\)",
                 rf"flapping \(2 changes in 3 runs\): \S*{re.escape(STOP)}: passed"):
        assert re.search(f"^{line}$", section, re.M), line


def test_third_run_keeps_the_size_trend_and_draws_it_in_its_row(runs):
    sizes = [next(m["value"] for c in s["checks"] if c["id"] == SIZE
                  for m in c["measurements"]) for _, s in runs]
    assert sizes[0] < sizes[1] < 0.1 < sizes[2]  # the file grew, and crossed critical
    run, third = runs[2]
    (size,) = [c for c in third["checks"] if c["id"] == SIZE]
    assert size["history"]["values"] == {"file size": pytest.approx(sizes)}
    state, value = row(run.reports / "report.html", SIZE)["resultsTableRow"][1:5:3]
    assert '<svg class="oc-spark"' in value and "<title>last 3 values:" in value
    assert "oc-tag oc-new" in state  # marked new


def test_third_run_html_banner_says_what_changed(runs):
    run, _ = runs[2]
    page = html.unescape((run.reports / "report.html").read_text())
    changes = re.search(r'<section id="oc-changes".*?</section>', page, re.S).group(0)
    assert "<b>1 new failure</b>: " in changes and "test_sqlite_file_size[stories]" in changes
    assert "<b>2 recovered</b>" in changes and "<b>1 flapping</b>" in changes
    assert "test_emergency_stop_absent[flags]" in changes and "2 changes in 3 runs" in changes


def test_third_run_allure_results_carry_the_change_tags_and_flaky_mark(runs):
    run, _ = runs[2]
    results = {d["name"]: d for d in (json.loads(p.read_text()) for p in
                                      (run.reports / "allure-results").glob("*-result.json"))}

    def tags(name: str) -> set[str]:
        return {label["value"] for label in results[name]["labels"] if label["name"] == "tag"}

    assert {"recovered", "flapping"} <= tags("test_emergency_stop_absent[flags]")
    assert results["test_emergency_stop_absent[flags]"]["statusDetails"]["flaky"] is True
    assert "recovered" in tags("test_sqlite_journal_mode[stories]")
    assert "new failure" in tags("test_sqlite_file_size[stories]")
    size = results["test_sqlite_file_size[stories]"]
    assert size["status"] == "failed"
    assert size["statusDetails"]["message"].startswith("threshold crossed: stories file size")
    environment = (run.reports / "allure-results" / "environment.properties").read_text()
    assert "new_failures=1\nrecoveries=2\nstill_failing=0\nflapping=1" in environment


LOCAL = '''
import os
import pytest


@pytest.fixture
def lease():
    yield
    if os.environ.get("LEASE_STUCK") == "1":
        raise RuntimeError("lease not released")


@pytest.mark.critical
@pytest.mark.files
def test_lease(lease):
    assert os.environ.get("LEASE_DOWN") != "1", "lease service down"
'''


@pytest.fixture
def local(suite, monkeypatch):
    for var in ("LEASE_STUCK", "LEASE_DOWN", "OPSCHECK_REPORT_PREVIOUS"):
        monkeypatch.delenv(var, raising=False)
    suite.inventory('[system]\nname = "lease-demo"\n')
    suite.pytester.makepyfile(test_lease=LOCAL)
    return suite


def test_a_named_previous_summary_that_is_not_one_is_a_usage_error(local):
    bad = local.path / "last.json"
    bad.write_text("{not json")
    result = local.run_files("--report-previous", str(bad))
    assert result.ret == 4
    result.stderr.fnmatch_lines([f"ERROR: report_previous {bad}: not an opscheck JSON summary "
                                 "(JSONDecodeError: *); name the summary.json of an earlier "
                                 "run, or leave the setting out"])


def test_a_named_previous_summary_is_compared_and_the_own_file_is_left_alone(local,
                                                                             monkeypatch):
    assert local.run_files("--report-json", "kept/last.json").ret == 0
    monkeypatch.setenv("LEASE_DOWN", "1")
    result = local.run_files("--report-previous", "kept/last.json", "--report-json", "now.json")
    assert result.ret == 1
    result.stdout.fnmatch_lines(["*opscheck: changed since the last run*",
                                 "new failure: test_lease.py::test_lease: failed (was passed)"])
    changes = json.loads((local.path / "now.json").read_text())["changes"]
    assert changes["previous"]["file"] == str(local.path / "kept" / "last.json")


def test_a_previous_summary_of_another_system_is_not_compared(local):
    assert local.run_files("--report-json", "summary.json").ret == 0
    local.inventory('[system]\nname = "other-system"\n')
    result = local.run_files("--report-json", "summary.json")
    result.stdout.fnmatch_lines(["*is of system 'lease-demo', this run checks 'other-system': "
                                 "not compared"])
    assert json.loads((local.path / "summary.json").read_text())["changes"]["previous"] is None


def test_a_check_that_errors_in_teardown_is_one_row_in_its_state(local, monkeypatch):
    monkeypatch.setenv("LEASE_STUCK", "1")
    result = local.run_files("--report-html", "report.html")
    assert result.ret == 1
    blob = re.search(r'data-jsonblob="([^"]*)"', (local.path / "report.html").read_text())
    (rows,) = json.loads(html.unescape(blob.group(1)))["tests"].values()
    assert len(rows) == 1  # pytest-html alone: a passed row and an error row
    assert rows[0]["result"] == "Error" and "could not run" in rows[0]["resultsTableRow"][1]
    assert "lease not released" in rows[0]["resultsTableRow"][5]  # its verdict, in the row
