"""Benchmark: start-up of the `opscheck` command against pytest itself, in one run.

    .venv/bin/python bench/bench_startup.py [--runs 9]

Cases, each the median of RUNS runs, interleaved so that machine noise hits them alike:

- `opscheck -m critical` on the default inventory (this host: 2 checks), from an empty folder;
- `pytest` running one trivial test with the same plugins the command loads (entry points
  off, `-p pytest_timeout -p testinfra.plugin`): the floor the command is held against;
- `pytest` running the same trivial test with every installed plugin auto-loaded (what a
  plain `pytest` in this environment pays, pytest-html and allure-pytest included);
- `opscheck --report-html=…`: what asking for a report adds (it loads pytest-html);
- the same trivial pytest run with pydantic's ``BaseModel`` imported by a conftest (nothing
  else of opscheck): the share of the floor that the inventory's validation library alone
  takes before opscheck does anything of its own.

Bytecode is cached as an installed package has it (``PYTHONDONTWRITEBYTECODE`` is dropped
for the runs, and one untimed run of each case writes it first): otherwise every run would
compile the suite's sources again, which no operator pays. Figures also go to
``build/bench/startup.json`` (for ``bench/bench_summary.py``).

Prints figures and ratios; asserts nothing (performance is measured here, never in tests).
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
BIN = Path(sys.executable).parent


def timed(cmd: list[str], cwd: Path, env: dict[str, str]) -> float:
    start = time.perf_counter()
    done = subprocess.run(cmd, cwd=cwd, env=env, capture_output=True, text=True, timeout=300)
    took = time.perf_counter() - start
    if done.returncode != 0:
        sys.exit(f"{' '.join(cmd)} exited {done.returncode}:\n{done.stdout[-2000:]}"
                 f"{done.stderr[-2000:]}")
    return took


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--runs", type=int, default=9)
    runs = parser.parse_args().runs
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        empty, trivial, models = root / "empty", root / "trivial", root / "pydantic"
        empty.mkdir()
        for folder in (trivial, models):
            folder.mkdir()
            (folder / "test_one.py").write_text("def test_one():\n    assert True\n")
        (models / "conftest.py").write_text("from pydantic import BaseModel  # noqa: F401\n")
        base = {k: v for k, v in os.environ.items()
                if not k.startswith("OPSCHECK_") and k != "PYTHONDONTWRITEBYTECODE"}
        base["OPSCHECK_STATE_DIR"] = str(root / "state")
        off = {**base, "PYTEST_DISABLE_PLUGIN_AUTOLOAD": "1"}
        inventory = str(REPO / "inventory.toml")
        same_plugins = [str(BIN / "pytest"), "-q", "-p", "no:cacheprovider", "-p",
                        "pytest_timeout", "-p", "testinfra.plugin", "test_one.py"]
        cases = {
            "opscheck -m critical (this host, 2 checks)":
                ([str(BIN / "opscheck"), "-q", "-m", "critical", "--inventory", inventory],
                 empty, base),
            "pytest, 1 trivial test, the same plugins": (same_plugins, trivial, off),
            "pytest, 1 trivial test, every plugin auto-loaded":
                ([str(BIN / "pytest"), "-q", "-p", "no:cacheprovider", "test_one.py"], trivial,
                 base),
            "opscheck -m critical --report-html":
                ([str(BIN / "opscheck"), "-q", "-m", "critical", "--inventory", inventory,
                  f"--report-html={root / 'r.html'}"], empty, base),
            "pytest, 1 trivial test, same plugins + pydantic": (same_plugins, models, off),
        }
        times: dict[str, list[float]] = {name: [] for name in cases}
        for cmd, cwd, env in cases.values():  # untimed: the bytecode caches written
            timed(cmd, cwd, env)
        for _ in range(runs):
            for name, (cmd, cwd, env) in cases.items():
                times[name].append(timed(cmd, cwd, env))
    medians = {name: statistics.median(t) for name, t in times.items()}
    floor = medians["pytest, 1 trivial test, the same plugins"]
    print(f"start-up, median of {runs} runs (ratio to pytest with the same plugins)")
    for name, median in medians.items():
        print(f"  {name:<50} {median:6.3f} s  {median / floor:5.2f}x  "
              f"(min {min(times[name]):.3f}, max {max(times[name]):.3f})")
    out = REPO / "build" / "bench"
    out.mkdir(parents=True, exist_ok=True)
    (out / "startup.json").write_text(json.dumps({"runs": runs, "medians": medians,
                                                  "floor": floor}, indent=1))


if __name__ == "__main__":
    main()
