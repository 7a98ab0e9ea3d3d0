"""The safety model across processes: one action for many concurrent runs, kill -9 safety.

Real processes throughout: three suite runs with ``-n 2`` at once, a requeue of 1,000
real task files killed with SIGKILL midway (three times), a lock holder killed mid-action.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
from pathlib import Path

from remediation_kit import allow_command, audit, flag_check, make_queue, remediation_toml

from conftest import PLUGIN_ARGS, REPO
from opscheck.remediations.state import Policy, Store


def _env() -> dict[str, str]:
    return {**os.environ, "PYTHONPATH": str(REPO), "PYTEST_ADDOPTS": ""}


def test_three_runs_with_two_workers_each_act_exactly_once(suite):
    flag = suite.path / "flag"
    flag.write_text("down\n")
    for name in ("a", "b"):  # two checks: each run's two workers both find the failure
        flag_check(suite, flag, name=f"flag_{name}")
    log = suite.path / "actions.log"
    cmd = ["sh", "-c", f"echo ran >> {log}; sleep 1"]  # does not fix: all six keep failing
    suite.inventory(remediation_toml([allow_command(cmd)], backoff=600))
    args = [sys.executable, "-m", "pytest", *PLUGIN_ARGS, "--inventory", str(suite.inventory_path),
            "--remediate=apply", "-n", "2", "-q"]
    runs = [subprocess.Popen(args, cwd=suite.path, env=_env(), stdout=subprocess.PIPE,
                             stderr=subprocess.STDOUT, text=True) for _ in range(3)]
    outputs = [run.communicate(timeout=120)[0] for run in runs]
    for i, (run, text) in enumerate(zip(runs, outputs, strict=True)):
        (suite.path / f"run-{i}.out").write_text(f"exit {run.returncode}\n{text}")
    records = [r for r in audit(suite.path) if "node" in r]
    ran = [r for r in records if r["decision"] == "ran"]
    assert len(ran) == 1, "\n".join(outputs)
    assert log.read_text() == "ran\n"
    assert len(records) == 6, "\n".join(outputs)  # every check of every run decided
    assert {r["decision"] for r in records} - {"ran"} <= {"skipped: locked", "skipped: back-off"}
    assert len({r["pid"] for r in records}) == 6  # in six worker processes


REQUEUE = """
import os, sys, time
from opscheck.remediations import registry
if len(sys.argv) > 2:  # "rename:N": stop for good right after the N-th os.rename (or os.write)
    call, nth = sys.argv[2].split(":")
    real, calls = getattr(os, call), []
    def stopping(*args, **kwargs):
        done = real(*args, **kwargs)
        calls.append(1)
        if len(calls) == int(nth):
            print("stopped", flush=True)
            time.sleep(600)  # killed here by the test
        return done
    setattr(os, call, stopping)
spec = registry.get("requeue_stuck_tasks")
params = spec.params.model_validate({"queue": sys.argv[1], "older_than": 0})
print(spec.func(registry.ActionContext("q", False, 600), params).summary, flush=True)
"""


def _requeue(queue: Path, *stop: str) -> subprocess.Popen[str]:
    return subprocess.Popen([sys.executable, "-c", REQUEUE, str(queue), *stop], cwd=REPO,
                            env=_env(), stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                            text=True)


def _state(queue: Path) -> dict[str, list[tuple[str, int]]]:
    """task id -> [(where, attempt)] over every visible file and every pending journal."""
    seen: dict[str, list[tuple[str, int]]] = {}
    for folder in ("ready", "in-progress"):
        for p in (queue / folder).glob("*.json"):
            seen.setdefault(p.stem, []).append((folder, json.loads(p.read_text())["attempt"]))
    for journal in (queue / "in-progress").glob(".*.requeuing"):
        name = journal.name[1:-len(".requeuing")]
        if not (queue / "ready" / name).exists():
            seen.setdefault(Path(name).stem, []).append(
                ("journal", json.loads(journal.read_text())["attempt"]))
    return seen


def test_kill_9_during_a_requeue_of_1000_tasks_loses_and_duplicates_none(tmp_path):
    queue = make_queue(tmp_path / "queue", in_progress=1000, age_min=180, attempt=1)
    ids = {f"in-progress-{i:04d}" for i in range(1000)}
    # Each run is stopped at a step of its own, whatever the machine's load: right after a
    # task's journal rename (its new copy not written yet), in the middle of writing a new
    # copy (written, not yet renamed into ready/), and right after a rename into ready/
    # (its journal not yet removed); then killed with SIGKILL there.
    before = 0
    for stop in ("rename:201", "write:150", "rename:300"):
        proc = _requeue(queue, stop)
        assert proc.stdout is not None
        assert proc.stdout.readline().strip() == "stopped", proc.communicate()[0]
        proc.send_signal(signal.SIGKILL)
        proc.wait()
        state = _state(queue)
        ready = sum(1 for v in state.values() if v[0][0] == "ready")
        assert before < ready < 1000, f"not killed midway: {ready} requeued (before: {before})"
        before = ready
        assert set(state) == ids, f"lost: {sorted(ids - set(state))[:5]}"
        assert all(len(v) == 1 for v in state.values()), "a task is in two places"
        assert all(attempt == (2 if where == "ready" else 1)
                   for ((where, attempt),) in state.values())
    proc = _requeue(queue)  # the next run finishes what the killed ones left
    assert "requeued" in proc.communicate(timeout=60)[0]
    tasks = {p.stem: json.loads(p.read_text()) for p in (queue / "ready").glob("*.json")}
    assert set(tasks) == ids and all(t["attempt"] == 2 for t in tasks.values())
    assert os.listdir(queue / "in-progress") == []
    assert [p.name for p in (queue / "ready").iterdir() if not p.name.endswith(".json")] == []


HOLDER = """
import sys, time
from opscheck.remediations.state import Policy, Store
store = Store(sys.argv[1], "holder")
print(store.reserve("c/a", Policy(3, 3600, 0, 0, 3600, 600)).go, flush=True)
time.sleep(60)
"""


def test_a_live_lock_holder_means_skip_and_a_killed_one_releases_it(tmp_path):
    db = tmp_path / "state.sqlite"
    holder = subprocess.Popen([sys.executable, "-c", HOLDER, str(db)], cwd=REPO, env=_env(),
                              stdout=subprocess.PIPE, text=True)
    try:
        assert holder.stdout.readline().strip() == "True"
        store = Store(db, "me")
        policy = Policy(3, 3600, 0, 0, 3600, 600)
        held = store.reserve("c/a", policy)
        assert (held.go, held.reason) == (False, "locked")
        assert held.detail.startswith(f"held by holder (pid {holder.pid} on ")
    finally:
        holder.send_signal(signal.SIGKILL)
        holder.wait()
    after = store.reserve("c/a", policy)  # its holder is gone: the lock is stale
    assert after.go and after.attempt == 2
    store.close()
