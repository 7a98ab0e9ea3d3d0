"""File task queue checks against real folders: each check passes healthy, fails on its fault."""

from __future__ import annotations

import json
import os
import time
from pathlib import Path

import pytest

from opscheck.targets.queue import STATES, Layout, TaskQueue, move

INVENTORY = """\
[[components]]
name = "task-queue"
kind = "queue"
root = "queue"
"""


def make_queue(root: Path) -> Path:
    for state in STATES:
        (root / state).mkdir(parents=True, exist_ok=True)
    return root


def task(root: Path, folder: str, name: str, data: object = None, age_min: float = 0,
         text: str | None = None) -> Path:
    path = root / folder / f"{name}.json"
    path.write_text(text if text is not None else json.dumps(data or {"id": name, "attempt": 1}))
    if age_min:
        when = time.time() - age_min * 60
        os.utime(path, (when, when))
    return path


@pytest.fixture
def queue(suite) -> Path:
    suite.inventory(INVENTORY)
    root = make_queue(suite.path / "queue")
    task(root, "ready", "t-ready", age_min=5)
    task(root, "in-progress", "t-work", age_min=30)
    task(root, "done", "t-done", age_min=600)
    return root


def run(suite, *args):
    return suite.run("-m", "standard or critical", *args, checks=("queue",))


def test_healthy_queue_passes_every_check(suite, queue):
    result = run(suite)
    result.assert_outcomes(passed=len(STATES) + 7)


def test_missing_folder_fails_critical_naming_it(suite, queue):
    (queue / "review").rmdir()
    result = suite.run("-m", "critical", checks=("queue",))
    result.assert_outcomes(passed=len(STATES) - 1, failed=1)
    result.stdout.fnmatch_lines(["*task-queue folder review: */queue/review is missing*"])


def test_missing_root_fails_once_then_could_not_run(suite, queue, tmp_path):
    suite.inventory(INVENTORY.replace('root = "queue"', f'root = "{tmp_path}/nowhere"'))
    result = run(suite)
    result.assert_outcomes(failed=1, errors=len(STATES) + 6)
    result.stdout.fnmatch_lines(["*task-queue unreachable at */nowhere: FileNotFoundError*"])


def test_ready_depth_above_50_fails(suite, queue):
    for i in range(50):
        task(queue, "ready", f"more-{i}")
    result = run(suite, "-k", "ready_depth")
    result.assert_outcomes(failed=1)
    result.stdout.fnmatch_lines(["*task-queue ready depth 51 tasks ≥ critical 51 tasks*Action:*"])
    (queue / "ready" / "more-0.json").unlink()
    run(suite, "-k", "ready_depth").assert_outcomes(passed=1)


def test_failed_in_last_24h_above_10_fails_and_old_failures_do_not_count(suite, queue):
    for i in range(11):
        task(queue, "failed", f"old-{i}", age_min=25 * 60)  # mtime set back past 24 h
    run(suite, "-k", "failed_last_24h").assert_outcomes(passed=1)
    for i in range(11):
        task(queue, "failed", f"new-{i}")
    result = run(suite, "-k", "failed_last_24h")
    result.assert_outcomes(failed=1)
    result.stdout.fnmatch_lines(["*tasks failed in the last 24 h 11 tasks ≥ critical 11*"])


def test_anything_in_dead_letter_fails_listing_it(suite, queue):
    task(queue, "failed", "t-broken", age_min=3 * 24 * 60)
    result = run(suite, "-k", "dead_letter")
    result.assert_outcomes(failed=1)
    result.stdout.fnmatch_lines(["*dead-letter tasks in failed/ (failed/t-broken.json) 1 tasks*"])


def test_stale_in_progress_task_fails_as_stuck_listing_it(suite, queue):
    task(queue, "in-progress", "t-stuck", age_min=185)  # its mtime set back 3 h
    result = run(suite, "-k", "stuck")
    result.assert_outcomes(failed=1)
    result.stdout.fnmatch_lines([
        "*task-queue oldest in-progress task age (1 stuck: in-progress/t-stuck.json (185 min))"
        " 185 min ≥ critical 120 min*requeue*"])


def test_ready_task_waiting_over_an_hour_fails(suite, queue):
    task(queue, "ready", "t-waiting", age_min=61)
    result = run(suite, "-k", "ready_wait")
    result.assert_outcomes(failed=1)
    result.stdout.fnmatch_lines(["*oldest ready task age (1 waiting: ready/t-waiting.json*"])


def test_task_with_attempt_above_1_fails_as_retrying(suite, queue):
    task(queue, "in-progress", "t-again", {"id": "t-again", "attempt": 3})
    result = run(suite, "-k", "retry")
    result.assert_outcomes(failed=1)
    result.stdout.fnmatch_lines(
        ["*highest task attempt (in-progress/t-again.json (attempt 3)) 3 attempts ≥ critical 2*"])


def test_corrupt_task_json_fails_listing_it_by_name(suite, queue):
    task(queue, "ready", "t-corrupt", text='{"id": "t-corrupt", "attempt": ')
    task(queue, "review", "t-empty", text="")
    result = run(suite, "-k", "valid_json")
    result.assert_outcomes(failed=1)
    result.stdout.fnmatch_lines([
        "*2 task file(s) not valid JSON: ready/t-corrupt.json (invalid JSON at line 1 column 32: "
        "Expecting value), review/t-empty.json (empty file)*"])


def test_thresholds_are_overridden_by_the_inventory(suite, queue):
    suite.inventory(INVENTORY + "[components.thresholds.ready_depth]\nwarning = 1\ncritical = 5\n")
    result = run(suite, "-k", "ready_depth")
    result.assert_outcomes(passed=1)
    result.stdout.fnmatch_lines(["*ready depth 1 tasks ≥ warning 1 tasks*"])


@pytest.mark.parametrize(("extra", "message"), [
    ('ready = "todo"', "components[0] (task-queue): ready = 'todo' is not one of folders"),
    ('folders = ["a/b"]', "components[0] (task-queue).folders: folder 'a/b' must be one"),
    ('colour = "red"', "components[0] (task-queue).colour: unknown key 'colour'"),
])
def test_bad_queue_inventory_is_a_usage_error(suite, extra, message):
    suite.inventory(INVENTORY + extra + "\n")
    result = run(suite)
    assert result.ret == 4
    assert message in result.stderr.str()


def test_root_with_unset_variable_is_a_usage_error(suite, monkeypatch):
    monkeypatch.delenv("OPSCHECK_NO_SUCH_VAR", raising=False)
    suite.inventory(INVENTORY.replace('root = "queue"', 'root = "${OPSCHECK_NO_SUCH_VAR}/q"'))
    result = run(suite)
    assert result.ret == 4
    result.stderr.fnmatch_lines(["*.root: path * uses environment variable OPSCHECK_NO_SUCH_VAR,"
                                 " which is not set; export OPSCHECK_NO_SUCH_VAR*"])


def test_taskqueue_reads_attempts_and_move_never_overwrites(tmp_path):
    root = make_queue(tmp_path / "q")
    stuck = task(root, "in-progress", "t1", {"attempt": "2"}, age_min=130)
    task(root, "ready", "t1")
    queue = TaskQueue(Layout(root=root))
    [found] = queue.tasks("in-progress")
    assert (found.id, found.attempt, found.valid, round(found.age / 60)) == ("t1", 2, True, 130)
    with pytest.raises(FileExistsError):
        move(found, queue.folder("ready"))
    (root / "ready" / "t1.json").unlink()
    moved = move(found, queue.folder("ready"))
    assert moved == root / "ready" / "t1.json" and not stuck.exists()
    assert abs(moved.stat().st_mtime - found.mtime) < 1  # mv keeps the age
    assert queue.counts() == {**dict.fromkeys(STATES, 0), "ready": 1}
