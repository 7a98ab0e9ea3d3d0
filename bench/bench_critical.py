"""Benchmark: wall time of `pytest -m critical` on the default inventory, and the plugin's
per-check overhead over a plain pytest test.

    .venv/bin/python bench/bench_critical.py [--runs 7] [--checks 300]

Prints figures; asserts nothing (performance is measured here, never in timed tests).
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
PYTEST = [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider"]


def wall(cmd: list[str], cwd: Path, runs: int, env: dict[str, str] | None = None) -> list[float]:
    times = []
    for _ in range(runs):
        start = time.perf_counter()
        proc = subprocess.run(cmd, cwd=cwd, capture_output=True, text=True, env=env, timeout=300)
        times.append(time.perf_counter() - start)
        if proc.returncode != 0:
            sys.exit(f"{' '.join(cmd)} exited {proc.returncode}:\n{proc.stdout[-2000:]}")
    return times


def overhead(n: int, runs: int) -> tuple[float, float]:
    """Seconds for n plain tests, and for n opscheck checks (host component + measure)."""
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        (root / "inventory.toml").write_text('[[components]]\nname = "h"\nkind = "host"\n')
        (root / "plain").mkdir()
        (root / "plain" / "test_plain.py").write_text(
            f"import pytest\n\n@pytest.mark.parametrize('i', range({n}))\n"
            "def test_plain(i):\n    assert i >= 0\n")
        (root / "checks").mkdir()
        (root / "checks" / "test_checks.py").write_text(
            "import pytest\nfrom opscheck.thresholds import Threshold\n\nT = Threshold(warning=75,"
            " critical=90, unit='%')\n\n@pytest.mark.standard\n@pytest.mark.host\n"
            f"@pytest.mark.parametrize('i', range({n}))\n"
            "def test_check(host_component, measure, i):\n    measure('x', 1.0, T)\n")
        env = {**os.environ, "PYTHONPATH": str(REPO)}
        plugins = ["-p", "opscheck.suite", "--checks", "checks"]
        plain = wall([*PYTEST, "-c", "/dev/null", "--rootdir", tmp, "plain"], root, runs, env)
        check = wall([*PYTEST, "-c", "/dev/null", "--rootdir", tmp, *plugins, "--inventory",
                      "inventory.toml", "checks"], root, runs, env)
    return statistics.median(plain), statistics.median(check)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=7)
    parser.add_argument("--checks", type=int, default=300)
    args = parser.parse_args()
    times = wall([*PYTEST, "-m", "critical"], REPO, args.runs)
    print(f"pytest -m critical, default inventory: median {statistics.median(times):.3f} s "
          f"(min {min(times):.3f}, max {max(times):.3f}, {args.runs} runs; target < 1.5 s)")
    plain, check = overhead(args.checks, max(3, args.runs // 2))
    per = (check - plain) / args.checks * 1000
    print(f"{args.checks} plain tests: {plain:.3f} s; {args.checks} opscheck checks "
          f"(host component + measure): {check:.3f} s; overhead {per:.2f} ms per check "
          "(includes plugin start-up)")


if __name__ == "__main__":
    main()
