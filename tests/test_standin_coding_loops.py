"""The coding-loops profile on a stand-in of the runbook's system: coordination.db (SQLite,
WAL, the runbook's tables with the profile's assumed columns), the five python processes
by their command lines, the CLI, the legacy health.json and the daily `.backup` copies made
by the sqlite3 tool. Healthy, every check passes without a warning; each row of the alert
table (CL:289-295) injected fails with the runbook's words. The same runs hold for both
timestamp forms (ISO text, epoch seconds), and epoch milliseconds are refused, never misread
(audit E4: ``julianday(int)`` was NULL, so stale heartbeats and stuck loops passed).

Not injected: the database size (> 500 MB / > 1 GB needs a file that large; its levels are
held by the sqlite kind's own tests). Everything runs in one test: the process checks count
matching command lines host-wide, so two stand-ins at once would see each other's agents.
"""

from __future__ import annotations

import shutil
import sqlite3
import subprocess
import sys
import time
from datetime import UTC, datetime
from pathlib import Path

import pytest
import standin_kit as kit

pytestmark = pytest.mark.skipif(shutil.which("sqlite3") is None, reason="needs the sqlite3 tool")

AGENTS = ["agents/monitor_agent.py", "agents/pm_agent.py", "loop-1-critical-path/run_loop.py",
          "loop-2-infrastructure/run_loop.py", "loop-3-polish/run_loop.py"]
HEALTHY_CLI = """monitor: healthy (last heartbeat: 5s ago)
pm: healthy (last heartbeat: 3s ago)
loop-1: running (current test: CP-UFS-001)
loop-2: running (current test: INF-AUTH-001)
loop-3: running (current test: POL-MON-001)
"""
CLI = """import pathlib, sys
here = pathlib.Path(__file__).parent / ".standin"
command = sys.argv[1]
answer = here / (command + ".out")
print(answer.read_text() if answer.exists() else command + ": ok")
"""
SCHEMA = """
CREATE TABLE component_health (component TEXT PRIMARY KEY, last_heartbeat);
CREATE TABLE tests (test_id TEXT PRIMARY KEY, status TEXT, started_at);
CREATE TABLE passing_tests (test_id TEXT, passed_at);
CREATE TABLE events (id INTEGER PRIMARY KEY, event_type TEXT, created_at);
CREATE TABLE decisions (id TEXT PRIMARY KEY, status TEXT, created_at);
"""


class Stack:
    """The coding-loops folder: a database written in one timestamp form."""

    def __init__(self, root: Path, form: str) -> None:
        self.root, self.form = root, form
        self.base = root / "coding-loops"
        self.db = self.base / "coordination.db"

    def when(self, seconds_ago: float):
        t = time.time() - seconds_ago
        if self.form == "iso":
            return datetime.fromtimestamp(t, UTC).strftime("%Y-%m-%d %H:%M:%S")
        if self.form == "epoch_ms":
            return int(t * 1000)
        return int(t)

    def build(self) -> None:
        if self.base.exists():
            shutil.rmtree(self.base)
        for agent in AGENTS:
            path = self.base / agent
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_text("import time\ntime.sleep(600)\n")
        (self.base / "cli.py").write_text(CLI)
        (self.base / ".standin").mkdir()
        (self.base / ".standin" / "health.out").write_text(HEALTHY_CLI)
        (self.base / ".standin" / "deadlocks.out").write_text("No deadlocks found\n")
        specs = self.base / "loop-1-critical-path" / "specs"
        specs.mkdir(parents=True)
        (specs / "health.json").write_text('{"status": "healthy"}')
        with sqlite3.connect(self.db) as db:
            db.execute("PRAGMA journal_mode=wal")
            db.executescript(SCHEMA)
            db.executemany("INSERT INTO component_health VALUES (?, ?)",
                           [("monitor", self.when(5)), ("pm", self.when(3))])
            db.executemany("INSERT INTO tests VALUES (?, ?, ?)", [
                ("CP-UFS-001", "in_progress", self.when(300)),
                ("INF-AUTH-001", "pending", None), ("POL-MON-001", "passed", self.when(4000))])
            db.executemany("INSERT INTO passing_tests VALUES (?, ?)",
                           [("POL-MON-001", self.when(600)), ("CP-UFS-000", self.when(1200))])
            db.executemany("INSERT INTO events (event_type, created_at) VALUES (?, ?)",
                           [("file_conflict", self.when(900)), ("test_passed", self.when(600))])
            db.execute("INSERT INTO decisions VALUES ('DEC-001', 'pending', ?)", (self.when(600),))
        self.backup()

    def backup(self) -> None:
        """The runbook's daily cron line (CL:254), run by the sqlite3 tool."""
        folder = self.base / "backups"
        folder.mkdir(exist_ok=True)
        target = folder / f"coordination-{datetime.now():%Y%m%d}.db"
        target.unlink(missing_ok=True)
        subprocess.run(["sqlite3", str(self.db), f".backup {target}"], check=True)

    def sql(self, *statements: str, params: tuple = ()) -> None:
        with sqlite3.connect(self.db) as db:
            for statement in statements:
                db.execute(statement, params)


@pytest.fixture
def agents(suite):
    """The five processes, by the command lines the runbook starts them with (CL:31-43)."""
    started = {}

    def start(stack: Stack) -> None:
        for agent in AGENTS:
            if agent not in started or started[agent].poll() is not None:
                started[agent] = subprocess.Popen(
                    [sys.executable, f"coding-loops/{agent}"], cwd=stack.root)

    def stop(agent: str) -> None:
        started[agent].terminate()
        started[agent].wait(10)

    yield start, stop
    for process in started.values():
        process.terminate()
    for process in started.values():
        process.wait(10)


def inventory(suite) -> None:
    kit.write(suite, kit.profile("coding-loops"))  # unchanged: its paths are the runbook's


def inject_critical(stack: Stack) -> None:
    old = stack.when(3 * 3600)
    stack.sql("UPDATE component_health SET last_heartbeat = ? WHERE component = 'monitor'",
              params=(stack.when(3 * 3600),))
    stack.sql("UPDATE passing_tests SET passed_at = ?", params=(old,))
    stack.sql("UPDATE tests SET status = 'in_progress', started_at = ?", params=(
        stack.when(4 * 3600),))
    for _ in range(11):
        stack.sql("INSERT INTO events (event_type, created_at) VALUES ('file_conflict', ?)",
                  params=(stack.when(60),))
    for n in range(2, 7):
        stack.sql(f"INSERT INTO decisions VALUES ('DEC-00{n}', 'pending', ?)",
                  params=(stack.when(120),))
    stack.sql("UPDATE decisions SET created_at = ? WHERE id = 'DEC-001'",
              params=(stack.when(3 * 3600),))
    (stack.base / ".standin" / "health.out").write_text(
        HEALTHY_CLI.replace("monitor: healthy (last heartbeat: 5s ago)",
                            "monitor: stale (last heartbeat: 3h ago)"))


def inject_warnings(stack: Stack) -> None:
    stack.sql("UPDATE passing_tests SET passed_at = ?", params=(stack.when(5400),))
    for _ in range(5):
        stack.sql("INSERT INTO events (event_type, created_at) VALUES ('file_conflict', ?)",
                  params=(stack.when(60),))
    stack.sql("INSERT INTO events (event_type, created_at) VALUES ('regression_detected', ?)",
              params=(stack.when(60),))
    stack.sql("UPDATE tests SET started_at = ? WHERE test_id = 'CP-UFS-001'",
              params=(stack.when(3600),))
    for n in range(2, 5):
        stack.sql(f"INSERT INTO decisions VALUES ('DEC-00{n}', 'pending', ?)",
                  params=(stack.when(120),))


PROBE = "test_probe[coordination-db:{}]"
CRITICAL = {
    "heartbeat-stale": "Monitor not responding (CL:94-119)",
    "tests-passed-last-2h": "No test passed for 2 hours (CL:291)",
    "conflicts-last-hour": "Conflict between loops (CL:184-205)",
    "stuck-loops": "Loop stuck on same test (CL:64-90)",
    "decisions-pending": "Decisions waiting (CL:144-145)",
    "oldest-decision-age": "A decision has waited over an hour (CL:294)",
}
WARNING = {
    "tests-passed-last-hour": "No test passed this hour (CL:291)",
    "conflicts-last-hour": "Conflict between loops (CL:184-205)",
    "stuck-loops": "Loop stuck on same test (CL:64-90)",
    "decisions-pending": "Decisions waiting (CL:144-145)",
    "regressions-last-day": "Regression (CL:209-229)",
}


@pytest.mark.slow
def test_coding_loops_stand_in_healthy_and_each_alert_row(suite, agents):
    start, stop = agents
    inventory(suite)
    for form in ("iso", "epoch"):
        stack = Stack(suite.path, form)
        stack.build()
        start(stack)
        # the whole profile once; the other timestamp form changes only the database's probes
        whole = form == "iso"
        seen = kit.assert_healthy(kit.run(suite, *kit.WARNINGS_FAIL,
                                          k="" if whole else "coordination-db"))
        assert seen[PROBE.format("schema-as-assumed")] == "PASSED"
        if whole:
            assert seen["test_backup_restores[coordination-backup]"] == "PASSED"
            assert seen["test_command_answers[coding-loops-host:cli-health]"] == "PASSED"

        inject_warnings(stack)
        result = kit.run(suite, *kit.WARNINGS_FAIL, k="coordination-db")
        assert not [i for i, o in kit.outcomes(result).items()
                    if o == "FAILED" and i.removeprefix("test_probe[coordination-db:")
                    .removesuffix("]") not in WARNING], (form, kit.failed(result))
        for name, words in WARNING.items():
            kit.assert_reports(result, PROBE.format(name), words, "warning")

        stack.build()
        inject_critical(stack)
        stop("agents/monitor_agent.py")
        result = kit.run(suite, k="coordination-db or cli-health or monitor-agent")
        for name, words in CRITICAL.items():
            kit.assert_reports(result, PROBE.format(name), words, "critical")
        kit.assert_reports(result, "test_command_answers[coding-loops-host:cli-health]",
                           "A component is not healthy (CL:94-119)")
        kit.assert_reports(
            result, "test_process_command_line_running[coding-loops-host:monitor-agent]",
            "Monitor not running (CL:110-116)")
        assert kit.outcomes(result)[PROBE.format("schema-as-assumed")] == "PASSED", form
        start(stack)


def test_epoch_milliseconds_are_refused_not_misread(suite):
    """Heartbeats in epoch milliseconds read as 50,000 years ahead: the shape probe lists
    them (the heartbeat probe alone would pass them as fresh)."""
    inventory(suite)
    stack = Stack(suite.path, "epoch_ms")
    stack.build()
    result = kit.run(suite, k="schema-as-assumed or heartbeat-stale")
    kit.assert_reports(result, PROBE.format("schema-as-assumed"),
                       "not the one this profile assumes", "component_health")
