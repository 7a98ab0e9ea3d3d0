"""Benchmark: a sweep of command probes on this host, through the suite as operators run it.

    .venv/bin/python bench/bench_commands.py [--probes 100] [--runs 3] [--xdist 2]

Writes an inventory with PROBES command probes on one ``local://`` host (argv commands,
shell pipelines, JSON on stdout and numbers read against levels, in turn) and runs
``pytest -k command_answers`` over the suite's host checks: sequentially, and with
``-n XDIST``. Also times the bare cost of one bounded run (``opscheck.shell.run`` of
``true``) against a plain testinfra ``host.run("true")``, the floor of every probe.

Prints figures; asserts nothing (performance is measured here, never in tests).
"""

from __future__ import annotations

import argparse
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
KINDS = [
    'run = ["true"]',
    'run = "printf \'a\\\\nb\\\\n\' | grep -c b"\nshell = true\nvalue = "first"\ncritical = 5',
    'run = ["echo", "{\\"overall\\": \\"HEALTHY\\"}"]\n[[components.commands.expect_json]]\n'
    'path = "overall"\nequals = "HEALTHY"',
    'run = ["sh", "-c", "echo State: running"]\nstdout_matches = "^State: running"',
]


def inventory(probes: int) -> str:
    parts = ['[[components]]\nname = "bench"\nkind = "host"\n']
    for i in range(probes):
        parts.append(f'[[components.commands]]\nname = "probe-{i:03d}"\n{KINDS[i % len(KINDS)]}'
                     "\n")
    return "\n".join(parts)


def sweep(path: Path, extra: list[str]) -> float:
    cmd = [sys.executable, "-m", "pytest", "-p", "no:cacheprovider", "-q", "-k",
           "command_answers", "-m", "standard", "--inventory", str(path),
           str(REPO / "checks" / "host"), *extra]
    t0 = time.perf_counter()
    done = subprocess.run(cmd, cwd=REPO, capture_output=True, text=True, timeout=600)
    took = time.perf_counter() - t0
    if done.returncode != 0:
        sys.exit(f"sweep failed ({done.returncode}):\n{done.stdout[-3000:]}")
    return took


def floor(runs: int = 50) -> tuple[float, float]:
    import testinfra

    from opscheck import shell

    host = testinfra.get_host("local://")
    t0 = time.perf_counter()
    for _ in range(runs):
        host.run("true")
    plain = (time.perf_counter() - t0) / runs
    t0 = time.perf_counter()
    for _ in range(runs):
        shell.run(host, "exec true", 5)
    bounded = (time.perf_counter() - t0) / runs
    return plain, bounded


def main() -> None:
    args = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    args.add_argument("--probes", type=int, default=100)
    args.add_argument("--runs", type=int, default=3)
    args.add_argument("--xdist", type=int, default=2)
    opts = args.parse_args()
    plain, bounded = floor()
    print(f"one run: testinfra host.run('true') {plain * 1000:.1f} ms; bounded shell.run "
          f"(timeout, caps, trailer) {bounded * 1000:.1f} ms")
    with tempfile.TemporaryDirectory(prefix="opscheck-bench-commands-") as tmp:
        path = Path(tmp) / "inventory.toml"
        path.write_text(inventory(opts.probes))
        for label, extra in (("sequential", []), (f"-n {opts.xdist}", ["-n", str(opts.xdist)])):
            times = [sweep(path, extra) for _ in range(opts.runs)]
            best, median = min(times), statistics.median(times)
            print(f"{opts.probes} command probes, {label}: best {best:.2f} s, median "
                  f"{median:.2f} s ({best / opts.probes * 1000:.1f} ms per probe, pytest "
                  "start-up included)")


if __name__ == "__main__":
    main()
