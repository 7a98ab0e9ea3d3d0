"""Benchmark: reading a file task queue (opscheck.targets.queue) as its depth grows.

Run from the repository root: ``.venv/bin/python bench/bench_queue.py [TASKS ...]``.
Prints, per queue size, the seconds to count every folder, to read every task's JSON
(what test_task_files_valid_json does) and to list in-progress ages (test_no_stuck_in_progress).
"""

from __future__ import annotations

import json
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from opscheck.targets.queue import STATES, Layout, TaskQueue


def build(root: Path, tasks: int) -> TaskQueue:
    for state in STATES:
        (root / state).mkdir(parents=True)
    body = {"id": "", "attempt": 1, "title": "x" * 200, "history": list(range(20))}
    for i in range(tasks):
        state = STATES[i % len(STATES)]
        (root / state / f"task-{i:06d}.json").write_text(json.dumps({**body, "id": i}))
    return TaskQueue(Layout(root=root))


def timed(fn) -> float:
    start = time.perf_counter()
    fn()
    return time.perf_counter() - start


def main(sizes: list[int]) -> None:
    print(f"{'tasks':>8} {'counts s':>10} {'parse all s':>12} {'in-progress ages s':>19}")
    for size in sizes:
        with tempfile.TemporaryDirectory(prefix="bench-queue-") as tmp:
            queue = build(Path(tmp) / "queue", size)
            counts = timed(queue.counts)
            parse = timed(lambda q=queue: list(q.all_tasks()))
            ages = timed(lambda q=queue: q.tasks("in-progress", parse=False))
            print(f"{size:>8} {counts:>10.4f} {parse:>12.4f} {ages:>19.4f}")


if __name__ == "__main__":
    main([int(a) for a in sys.argv[1:]] or [100, 1000, 10000])
