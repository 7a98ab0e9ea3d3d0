"""Every benchmark under bench/ still runs: each one, at its smallest size, exits 0 and prints
its figures. Nothing is timed here (performance is measured by the benchmarks themselves,
never in tests); this only keeps a benchmark from rotting unseen when the code it drives
changes, as three had (a plugin list that was gone, a guard that refused the bench's own
checks, a query for a family that a small page lacks).

Slow (each is a whole benchmark, servers and pytest runs included): marked ``slow``, run
on the main Python only.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

pytestmark = pytest.mark.slow

BENCH = Path(__file__).resolve().parents[1] / "bench"

#: each benchmark's smallest arguments; bench_summary runs after the two whose figures it reads
SMOKE: dict[str, list[str]] = {
    "bench_backup.py": ["--mb", "2", "--days", "2", "--runs", "1"],
    "bench_commands.py": ["--probes", "3", "--runs", "1", "--xdist", "0"],
    "bench_critical.py": ["--runs", "1", "--checks", "5"],
    "bench_datastores.py": ["--copies", "1", "--runs", "1"],
    "bench_hostile.py": ["--timeout", "0.5", "--repeat", "1"],
    "bench_http.py": ["--timeout", "0.5", "--repeat", "1"],
    "bench_logs.py": ["--gb", "0.002", "--windows", "5m", "--runs", "1"],
    "bench_metrics_page.py": ["--series", "200", "--runs", "1"],
    "bench_queue.py": [],
    "bench_redis_scan.py": ["--keys", "500", "--matching", "5", "--runs", "1"],
    "bench_remediation.py": ["20"],
    "bench_reports.py": ["--runs", "1", "--checks", "10"],
}
#: run in one test, in this order: the summary reads what the first two wrote
SUMMARY = [("bench_peers.py", ["--quick"]), ("bench_startup.py", ["--runs", "1"]),
           ("bench_summary.py", [])]


def bench(script: str, args: list[str]) -> str:
    done = subprocess.run([sys.executable, str(BENCH / script), *args], capture_output=True,
                          text=True, timeout=280)
    assert done.returncode == 0, f"{script} exited {done.returncode}:\n" \
        f"{done.stdout[-1500:]}{done.stderr[-1500:]}"
    assert done.stdout.strip(), f"{script} printed no figures"
    return done.stdout


def test_every_benchmark_is_run_here():
    scripts = {p.name for p in BENCH.glob("bench_*.py")}
    assert scripts == set(SMOKE) | {name for name, _ in SUMMARY}


@pytest.mark.parametrize("script", sorted(SMOKE))
def test_benchmark_runs(script):
    bench(script, SMOKE[script])


def test_peers_startup_and_their_summary_run():
    printed = [bench(script, args) for script, args in SUMMARY]
    assert "opscheck/peer" in printed[0]
    assert "ratio to pytest with the same plugins" in printed[1]
    assert "not found" not in printed[2].lower(), printed[2]
