"""File task queue checks against real folders: each check passes healthy, fails on its fault."""

from __future__ import annotations

import json
import os
import time
from pathlib import Path
from xml.etree import ElementTree

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


def strict_json(text: str) -> object:
    """``text`` parsed as strict JSON: NaN and infinities are errors, as in every other parser."""
    def refuse(name: str) -> None:
        raise ValueError(f"{name} in a JSON report")
    return json.loads(text, parse_constant=refuse)


def odd_queue(root: Path) -> None:
    """Task files an operator did not expect: names that are not UTF-8 or hold control
    characters, a JSON bomb, NaN and infinities, a file that is no text at all."""
    ready, in_progress = os.fsencode(root / "ready"), os.fsencode(root / "in-progress")
    with open(os.path.join(ready, b"bad-\xff.json"), "w") as f:
        f.write('{"attempt": 1}')
    with open(os.path.join(ready, b"evil\x1b[31m\nERROR: ok.json"), "w") as f:
        f.write("{")
    task(root, "ready", "bomb", text="[" * 200_000)
    task(root, "in-progress", "nan", text='{"attempt": NaN}')
    task(root, "in-progress", "huge", text='{"attempt": 1e999}')
    with open(os.path.join(in_progress, b"binary.json"), "wb") as f:
        f.write(b"\xff\xfe\x00garbage")


@pytest.mark.parametrize("workers", [[], ["-n", "2"]], ids=["serial", "xdist"])
def test_odd_task_files_fail_in_one_line_and_every_report_is_written(suite, queue, workers):
    odd_queue(queue)
    reports = suite.path / "reports"
    result = run(suite, *workers, "--report-dir", str(reports), "--metrics-out",
                 str(reports / "opscheck.prom"))
    out = result.stdout.str() + result.stderr.str()
    assert "INTERNALERROR" not in out and "RecursionError" not in out and "\x1b" not in out
    assert result.ret == pytest.ExitCode.TESTS_FAILED
    result.assert_outcomes(passed=len(STATES) + 6, failed=1)
    # the failure's own line (the short summary repeats it after "FAILED ...", in full when
    # CI is set, since pytest then does not cut it to the terminal's width)
    [line] = [x for x in result.stdout.lines
              if x.startswith("task-queue 4 task file(s) not valid JSON: ")]
    for part in ("ready/evil\\x1b[31m\\n  ERROR: ok.json (invalid JSON at line 1 column 2: ",
                 "ready/bomb.json (invalid JSON: nested too deeply to read)",
                 "in-progress/nan.json (invalid JSON: NaN is not JSON)",
                 "in-progress/binary.json (not UTF-8 (byte 1))"):
        assert part in line, part
    assert "ready/bad-\\xff.json" not in out  # it is valid JSON: not listed, and no crash
    summary = strict_json((reports / "summary.json").read_text(encoding="utf-8"))
    assert isinstance(summary, dict) and len(summary["checks"]) == len(STATES) + 7
    assert "opscheck_check_state" in (reports / "opscheck.prom").read_text(encoding="utf-8")
    allure = list((reports / "allure-results").glob("*-result.json"))
    assert len(allure) == len(STATES) + 7
    for path in allure:
        strict_json(path.read_text(encoding="utf-8"))
    assert ElementTree.parse(reports / "junit.xml").getroot() is not None
    assert (reports / "report.html").stat().st_size > 0
    assert not [p for p in reports.rglob("*") if p.name.endswith(".tmp") or ".tmp." in p.name]


def test_a_file_name_that_is_not_utf8_is_escaped_in_messages(suite, queue):
    with open(os.path.join(os.fsencode(queue / "failed"), b"dead-\xff\xfe.json"), "w") as f:
        f.write("{}")
    result = run(suite, "-k", "dead_letter", "--report-json", str(suite.path / "s.json"))
    result.assert_outcomes(failed=1)
    result.stdout.fnmatch_lines(["*dead-letter tasks in failed/ (failed/dead-\\xff\\xfe.json) *"])
    summary = strict_json((suite.path / "s.json").read_text(encoding="utf-8"))
    assert "failed/dead-\\xff\\xfe.json" in summary["checks"][0]["message"]


def test_read_json_bounds_what_it_reads(tmp_path):
    from opscheck.targets.queue import read_json

    big = tmp_path / "big.json"
    big.write_text('{"pad": "' + "x" * 2048 + '"}')
    assert read_json(big, limit=1024) == (None, "larger than 0 MiB")
    deep = tmp_path / "deep.json"
    deep.write_text("[" * 200_000)
    assert read_json(deep) == (None, "invalid JSON: nested too deeply to read")
    digits = tmp_path / "digits.json"
    digits.write_text('{"attempt": ' + "9" * 5000 + "}")
    data, error = read_json(digits)
    assert data is None and error is not None and error.startswith("invalid JSON: Exceeds")
