"""Benchmark: wall time of an HTTP sweep over 50 loopback endpoints.

Runs the real http checks (``pytest checks/http``, critical + standard) in a subprocess
against an inventory of 50 endpoints served on 127.0.0.1, sequentially and with xdist
``-n 2``, once with all 50 healthy and once with 5 of them listeners that accept and never
answer (each costs its timeout once per worker that meets it, never once per check).

    .venv/bin/python bench/bench_http.py [--timeout 1] [--repeat 3]
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
sys.path.insert(0, str(REPO / "tests"))

from servers import HTTPServer, SilentServer  # noqa: E402 - the self-tests' loopback servers

ENDPOINTS = 50
SILENT = 5


def inventory(urls: list[str], timeout: float) -> str:
    parts = [f"[system]\nname = \"bench\"\ntimeout = {timeout}\n"]
    for i, url in enumerate(urls):
        parts.append(f'[[components]]\nname = "svc-{i:02d}"\nkind = "http"\nurl = "{url}"\n'
                     '[[components.expect_json]]\npath = "status"\nequals = "ok"\n')
    return "".join(parts)


def sweep(path: Path, workers: int) -> tuple[float, str]:
    """(wall seconds, pytest's last line) of one sweep."""
    args = [sys.executable, "-m", "pytest", "checks/http", "--inventory", str(path), "-q",
            "-p", "no:cacheprovider", "-m", "critical or standard"]
    if workers:
        args += ["-n", str(workers)]
    start = time.monotonic()
    done = subprocess.run(args, cwd=REPO, capture_output=True, text=True, timeout=600,
                          env={**os.environ, "PYTHONDONTWRITEBYTECODE": "1"}, check=False)
    elapsed = time.monotonic() - start
    lines = [line for line in done.stdout.splitlines() if line.strip()]
    return elapsed, (lines[-1].strip("= ") if lines else done.stderr.strip()[-200:])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--timeout", type=float, default=1.0, help="component timeout, s")
    parser.add_argument("--repeat", type=int, default=3, help="runs per case (median shown)")
    opts = parser.parse_args()

    server = HTTPServer().start()
    server.route("/health", json={"status": "ok"})
    silent = [SilentServer().start() for _ in range(SILENT)]
    healthy = [f"{server.url}/health?n={i}" for i in range(ENDPOINTS)]
    faulty = healthy[:ENDPOINTS - SILENT] + [f"{s.url}/health" for s in silent]
    folder = Path(tempfile.mkdtemp(prefix="opscheck-bench-http-"))
    print(f"HTTP sweep over {ENDPOINTS} loopback endpoints (5 checks each, 2 skip for "
          f"plain http), timeout {opts.timeout:g} s, {os.cpu_count()} CPUs, median of "
          f"{opts.repeat}")
    try:
        for label, urls in (("all healthy", healthy), (f"{SILENT} never answer", faulty)):
            path = folder / f"{label.replace(' ', '-')}.toml"
            path.write_text(inventory(urls, opts.timeout))
            for workers in (0, 2):
                runs = [sweep(path, workers) for _ in range(opts.repeat)]
                wall = statistics.median(r[0] for r in runs)
                mode = "sequential" if not workers else f"-n {workers}"
                print(f"  {label:<16} {mode:<11} {wall:6.2f} s   ({runs[-1][1]})")
    finally:
        server.stop()
        for s in silent:
            s.stop()


if __name__ == "__main__":
    main()
