"""Benchmark: a windowed log count over a large log, read from its end vs read whole.

    .venv/bin/python bench/bench_logs.py [--gb 1] [--windows 5m,1h,6h] [--runs 3]

Writes a log of GB gigabytes (Python-logging lines spread evenly over one day, newest last)
in a temporary folder, then, for each window, counts the ERROR lines in it:

- through opscheck's log signal on a ``local://`` host (blocks read backwards through the
  testinfra backend, ``tail -c +OFFSET | head -c LENGTH``, stopping at the window's start);
- by reading the whole file in Python and dating every line (what a naive reader pays).

Prints the time (best of RUNS) and the bytes each read, and checks that both counted the
same; asserts nothing about speed (performance is measured here, never in tests).
"""

from __future__ import annotations

import argparse
import datetime as dt
import re
import sys
import tempfile
import time
from pathlib import Path

from opscheck.components.host import HostComponent
from opscheck.logs.stamps import parser
from opscheck.targets.host import HostTarget

LINE = 200  # bytes per line, roughly


def write(path: Path, size: int) -> int:
    """A day of lines, one ERROR in 50, ``size`` bytes; returns the line count."""
    count = size // LINE
    now = time.time()
    step = 86400 / count
    pad = "x" * (LINE - 60)
    with path.open("w", buffering=1 << 22) as f:
        for i in range(count):
            when = dt.datetime.fromtimestamp(now - 86400 + i * step)
            level = "ERROR" if i % 50 == 0 else "INFO"
            f.write(f"{when:%Y-%m-%d %H:%M:%S},000 app {level:<5} request {i} {pad}\n")
    return count


def whole(path: Path, start: float) -> tuple[int, int]:
    """(matches, bytes read) reading every line and dating it, from ``start`` on."""
    parse, regex = parser("iso"), re.compile("ERROR")
    matched = size = 0
    with path.open("r", buffering=1 << 20) as f:
        for line in f:
            size += len(line)
            when = parse(line)
            if when is not None and when >= start and regex.search(line):
                matched += 1
    return matched, size


def main() -> None:
    args = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    args.add_argument("--gb", type=float, default=1.0)
    args.add_argument("--windows", default="5m,1h,6h")
    args.add_argument("--runs", type=int, default=3)
    opts = args.parse_args()
    with tempfile.TemporaryDirectory(prefix="opscheck-bench-logs-") as tmp:
        log = Path(tmp) / "app.log"
        started = time.perf_counter()
        lines = write(log, int(opts.gb * 1024**3))
        print(f"log: {log.stat().st_size / 1024**3:.2f} GiB, {lines} lines over 24 h, "
              f"written in {time.perf_counter() - started:.1f} s")
        print(f"{'window':>7} {'opscheck s':>11} {'bytes read':>12} {'whole-file s':>13} "
              f"{'bytes read':>14} {'matches':>8}")
        for window in opts.windows.split(","):
            component = HostComponent(name="bench", timeout=600, logs=[{
                "name": "errors", "files": [str(log)], "pattern": "ERROR", "window": window,
                "critical": 10**9, "max_read": 2 * 1024**3}])
            target = HostTarget.open(component)
            signal = component.logs[0]
            best, tally, start = float("inf"), None, 0.0
            for _ in range(opts.runs):
                start = int(time.time()) - signal.seconds  # the host's `date +%s`, as opscheck
                t0 = time.perf_counter()
                tally = target.log_tally(signal)
                best = min(best, time.perf_counter() - t0)
            t0 = time.perf_counter()
            matched, size = whole(log, start)
            naive = time.perf_counter() - t0
            assert tally is not None
            same = "" if abs(tally.matched - matched) <= 2 else f" (whole-file {matched}!)"
            print(f"{window:>7} {best:>11.3f} {tally.bytes_read:>12,} {naive:>13.2f} "
                  f"{size:>14,} {tally.matched:>8}{same}")
    sys.stdout.flush()


if __name__ == "__main__":
    main()
