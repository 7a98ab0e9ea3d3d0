"""Benchmark: the remediation machinery's own costs.

Run from the repository root: ``.venv/bin/python bench/bench_remediation.py [TASKS]``.
Prints the requeue rate (journaled, fsync per task), one store decision's latency alone
and with four processes contending for the same key, and the cost of one audit record.
"""

from __future__ import annotations

import json
import multiprocessing
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from opscheck.remediations import registry
from opscheck.remediations.audit import AuditLog
from opscheck.remediations.state import Policy, Store

POLICY = Policy(budget=10**9, window=3600, backoff=0, backoff_max=0, cooldown=3600, hold=60)


def requeue(folder: Path, tasks: int) -> float:
    for name in ("ready", "in-progress"):
        (folder / name).mkdir(parents=True)
    for i in range(tasks):
        (folder / "in-progress" / f"t-{i:06d}.json").write_text(json.dumps({"attempt": 1}))
    spec = registry.get("requeue_stuck_tasks")
    params = spec.params.model_validate({"queue": str(folder), "older_than": 0})
    start = time.perf_counter()
    spec.func(registry.ActionContext("q", False, 600), params)
    return time.perf_counter() - start


def decide(path: str, rounds: int) -> float:
    store = Store(path, f"bench-{multiprocessing.current_process().pid}")
    start = time.perf_counter()
    for _ in range(rounds):
        d = store.reserve("c/a", POLICY)
        if d.go:
            store.finish("c/a", d.attempt_id, "fixed", POLICY)
    store.close()
    return (time.perf_counter() - start) / rounds


def main() -> None:
    tasks = int(sys.argv[1]) if len(sys.argv) > 1 else 1000
    with tempfile.TemporaryDirectory() as tmp:
        base = Path(tmp)
        seconds = requeue(base / "queue", tasks)
        print(f"requeue {tasks} tasks: {seconds:.3f} s ({tasks / seconds:,.0f} tasks/s)")
        db = str(base / "state.sqlite")
        print(f"store decision, one process: {decide(db, 300) * 1000:.2f} ms")
        with multiprocessing.Pool(4) as pool:
            per = pool.starmap(decide, [(db, 150)] * 4)
        print(f"store decision, 4 processes contending: {max(per) * 1000:.2f} ms (slowest)")
        log = AuditLog(base / "audit.jsonl", "bench")
        start = time.perf_counter()
        for i in range(300):
            log.record(node=f"n{i}", decision="skipped: back-off", params={"command": ["x"]})
        print(f"audit record (flock + fsync): {(time.perf_counter() - start) / 300 * 1000:.2f} ms")


if __name__ == "__main__":
    main()
