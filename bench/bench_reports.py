"""What each report adds to the wall time of a 500-check run, and what the HTML board adds.

Writes 500 checks (measured values: 80 % ok, 10 % warning, 10 % critical; ten checks per
component) into a temporary folder and runs pytest over them as a subprocess, first with no
report, then with each report alone, then with all of them. The HTML report runs three
ways: pytest-html alone (opscheck's board plugin blocked), with opscheck's board, and with
the board comparing with a previous summary (the changes, each row's sparkline); the
page's size is printed for each. The variants take turns, round after round, so a busy
neighbour slows them alike; printed per variant: the best (least disturbed) and the median
wall time, the best CPU time (user + system of the pytest process), and the best wall
time's difference to the run without reports.

    .venv/bin/python bench/bench_reports.py [--runs 5] [--checks 500] [--xdist N]
"""

from __future__ import annotations

import argparse
import os
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
PLUGINS = ["opscheck.plugin", "opscheck.remediations.plugin"]
CHECKS = '''
import pytest

from opscheck.thresholds import Threshold

LEVELS = Threshold(warning=75, critical=90, unit="%", action="Clean up or expand")


@pytest.mark.standard
@pytest.mark.files
@pytest.mark.parametrize("n", range({count}))
def test_used(measure, n):
    value = 95 if n % 10 == 9 else 80 if n % 10 == 8 else 40
    measure("disk used", value, LEVELS, component=f"node-{{n // 10}}")
'''
VARIANTS = {
    "no report": [],
    "pytest-html alone": ["-p", "no:opscheck.reporting.html", "--html", "out/plain.html",
                          "--self-contained-html"],
    "html board": ["--report-html", "out/board.html"],
    "board+history": ["--report-html", "out/history.html", "--report-previous",
                      "out/previous.json"],
    "allure": ["--report-allure", "out/allure-results"],
    "junit": ["--report-junit", "out/junit.xml"],
    "json": ["--report-json", "out/summary.json"],
    "metrics": ["--metrics-out", "out/opscheck.prom"],
    "nagios": ["--nagios"],
    "all of them": ["--report-dir", "out", "--metrics-out", "out/opscheck.prom", "--nagios"],
}


RUN_TIMEOUT = 300  # seconds one pytest run of the benchmark may take before it is stopped


def run(folder: Path, args: list[str], xdist: int) -> tuple[float, float]:
    """(wall seconds, CPU seconds) of one pytest run."""
    plugins = [a for p in PLUGINS for a in ("-p", p)]
    dist = ["-n", str(xdist)] if xdist else ["-p", "no:xdist"]
    env = {**os.environ, "PYTHONPATH": str(REPO)}
    env.pop("OPSCHECK_INVENTORY", None)
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    start = time.perf_counter()
    try:
        done = subprocess.run([sys.executable, "-m", "pytest", *plugins, *dist, "-q", "-p",
                               "no:cacheprovider", "--inventory", "inventory.toml", "--checks",
                               ".", *args, "test_bench.py"], cwd=folder, env=env,
                              capture_output=True, text=True, timeout=RUN_TIMEOUT)
    except subprocess.TimeoutExpired:
        raise SystemExit(f"one pytest run of {args or 'no report'} took longer than "
                         f"{RUN_TIMEOUT} s; stopped") from None
    took = time.perf_counter() - start
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu = after.ru_utime + after.ru_stime - before.ru_utime - before.ru_stime
    if done.returncode not in (1, 2):  # 1: pytest, some checks failed; 2: Nagios CRITICAL
        raise SystemExit(f"unexpected exit {done.returncode}:\n{done.stdout[-2000:]}")
    return took, cpu


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--checks", type=int, default=500)
    parser.add_argument("--xdist", type=int, default=0, help="xdist workers (0: none)")
    opts = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="opscheck-bench-") as tmp:
        folder = Path(tmp)
        (folder / "pytest.ini").write_text("[pytest]\n")
        (folder / "inventory.toml").write_text('[system]\nname = "bench"\n')
        (folder / "test_bench.py").write_text(CHECKS.format(count=opts.checks))
        run(folder, [], opts.xdist)  # warm the file cache and the bytecode
        run(folder, ["--report-json", "out/previous.json"], opts.xdist)  # the board's past
        print(f"{opts.checks} checks, {opts.runs} rounds, "
              f"{'xdist ' + str(opts.xdist) if opts.xdist else 'no xdist'}")
        times: dict[str, list[tuple[float, float]]] = {name: [] for name in VARIANTS}
        for _ in range(opts.runs):
            for name, args in VARIANTS.items():
                times[name].append(run(folder, args, opts.xdist))
        base = min(wall for wall, _ in times["no report"])
        for name, runs in times.items():
            best = min(wall for wall, _ in runs)
            median = statistics.median(wall for wall, _ in runs)
            cpu = min(c for _, c in runs)
            extra = f"  {best - base:+5.2f} s ({best / base - 1:+.0%})" if best != base else ""
            print(f"{name:17} wall best {best:5.2f} s, median {median:5.2f} s; "
                  f"CPU best {cpu:5.2f} s{extra}")
        for name in ("plain", "board", "history"):
            page = folder / "out" / f"{name}.html"
            print(f"HTML page {page.name:12} {page.stat().st_size / 1e6:6.2f} MB")

if __name__ == "__main__":
    main()
