"""Metric names are fixed per check (and item): what changes between runs goes in the message,
so Prometheus series and Nagios perfdata labels stay the same from run to run."""

from __future__ import annotations

import ast
import re

from backup_data import DAY, HOUR, set_age, sqlite_backup, sqlite_source
from test_backup import backup_entry, daily
from test_queue import INVENTORY as QUEUE
from test_queue import make_queue, task

from conftest import CHECKS

#: the placeholders a metric name may hold: each comes from the inventory or the check's
#: item (a mount, a container, a folder, a probe, a GPU's index and name), never from what
#: the component answered this time
FIXED = {"mount", "container", "checkpoint_dir", "folder", "layout.dead_letter", "label",
         "gpu_component.label(i)", "minutes", "probe.name", "query.name", "query.window",
         "metric.name", "cost.name", "function", "command.name", "tree",
         "file_limit.measure", "file_limit.path",
         # an item entry's own name or path: a JSON value, a /metrics entry, a Redis scan,
         # a backup member
         "json_value.name", "scrape.name", "scan.name", "member.path",
         # a log signal's name, pattern, window and source, all from the inventory
         # (opscheck.logs.judge): the count and the newest line go in the message
         "verdict.subject"}


def metric_names() -> list[tuple[str, int, ast.expr]]:
    found = []
    for path in sorted(CHECKS.rglob("*.py")):
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.Call) and getattr(node.func, "id", None) == "measure":
                found.append((f"{path.relative_to(CHECKS)}:{node.lineno}", node.lineno,
                              node.args[0]))
    return found


def placeholders(name: ast.expr) -> list[str]:
    if isinstance(name, ast.Constant):
        return []
    if isinstance(name, ast.JoinedStr):
        return [ast.unparse(v.value) for v in name.values if isinstance(v, ast.FormattedValue)]
    return [ast.unparse(name)]


def test_every_metric_name_is_built_only_from_the_inventory_and_the_item():
    calls = metric_names()
    assert len(calls) > 30
    changing = [(where, p) for where, _, name in calls for p in placeholders(name)
                if p not in FIXED]
    assert not changing, ("metric names built from changing data (put it in detail=): "
                          f"{changing}")


PERF = re.compile(r"'((?:[^']|'')*)'=")
SERIES = re.compile(r"^(opscheck_check_value\{[^}]*\})", re.M)


def labels(suite, run: int) -> tuple[set[str], set[str], str]:
    out = suite.path / f"run{run}.prom"
    result = suite.run("-m", "critical or standard", "--nagios", f"--metrics-out={out}",
                       checks=("queue", "backup"))
    perf = result.outlines[0].partition(" | ")[2]
    return set(PERF.findall(perf)), set(SERIES.findall(out.read_text())), result.stdout.str()


def test_two_runs_in_different_states_give_the_same_label_sets(suite, tmp_path):
    queue = make_queue(suite.path / "queue")
    task(queue, "ready", "t-ready", age_min=5)
    source = sqlite_source(tmp_path / "live.db")
    sets = tmp_path / "sets"
    daily(sets, lambda p: sqlite_backup(source, p.with_suffix(".db")), 2)
    suite.inventory(QUEUE + backup_entry("db-backups", sets, "*.db", "sqlite"))
    perf_1, series_1, out_1 = labels(suite, 1)
    # the second run: new backups (new newest file name, other sizes), stuck, retrying,
    # dead-letter and waiting tasks, each with its own name in the message
    sqlite_source(source, rows=400)
    for i, path in enumerate(daily(sets, lambda p: sqlite_backup(source, p.with_suffix(".db")),
                                   2, name="nightly-{i:02d}")):
        set_age(path, HOUR / 2 + (1 - i) * DAY / 2)
    task(queue, "in-progress", "t-stuck", age_min=400)
    task(queue, "ready", "t-again", {"id": "t-again", "attempt": 4}, age_min=90)
    task(queue, "failed", "t-dead", age_min=10)
    perf_2, series_2, out_2 = labels(suite, 2)
    assert "t-stuck" in out_2  # the detail is in the messages
    assert "t-stuck" not in out_1
    assert perf_1 and series_1
    assert perf_1 == perf_2
    assert series_1 == series_2
    assert not [p for p in perf_2 if "t-stuck" in p or "nightly" in p or "backup-" in p]


def test_the_detail_is_in_the_line_and_not_in_the_name(suite):
    (suite.path / "test_detail.py").write_text(
        "import pytest\nfrom opscheck.thresholds import Threshold\n\n"
        "@pytest.mark.standard\n@pytest.mark.host\n"
        "def test_pool(host_component, measure):\n"
        "    measure('connections used', 90, Threshold(critical=80, unit='%'),"
        " detail='360 of 400')\n")
    suite.inventory('[[components]]\nname = "db-host"\nkind = "host"\n')
    result = suite.run_files("--nagios")
    assert result.outlines[0].endswith("| 'db-host connections used'=90%;;80"), result.outlines
    assert result.outlines[1] == "CRITICAL: db-host: test_pool[db-host]: db-host connections " \
        "used (360 of 400) 90% ≥ " \
                                 "critical 80%"
