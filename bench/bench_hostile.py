"""Benchmark: a sweep against hostile peers, held to the sum of their timeouts.

One trickling (slowloris), one silent and one garbage-sending peer per network kind (redis,
http, prometheus, docker, nats, postgres; PostgreSQL's trickle is a real server behind a
proxy that trickles its bytes once the handshake is done), every component at ``timeout =
1``. The real checks run (``pytest -m "critical or standard"``) in a subprocess, sequentially
and with ``-n 2``. The bound is the sum of the hostile components' timeouts plus the healthy
floor: the same inventory shape against healthy real servers (redis-server, an HTTP server,
Prometheus, podman's Docker API, nats-server, PostgreSQL). A check that waits more than half
a timeout is counted as having waited: one per component is the promise.

    .venv/bin/python bench/bench_hostile.py [--timeout 1] [--repeat 3]
"""

from __future__ import annotations

import argparse
import contextlib
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
import xml.etree.ElementTree as ET
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO / "tests"))

from servers import (  # noqa: E402 - the self-tests' loopback servers
    GarbageServer,
    HTTPServer,
    NatsServer,
    PodmanService,
    PostgresServer,
    PrometheusServer,
    RedisServer,
    SilentServer,
    StallingProxy,
    TricklingServer,
    make_owned_tempdir,
)
from servers.hostile import HTTP_BODY_TRICKLE, NATS_TRICKLE, REDIS_TRICKLE  # noqa: E402

#: kind -> (its inventory keys for an address, the trickle that looks like its answer)
KINDS = {
    "redis": (lambda a: f'url = "redis://{a}/0"', REDIS_TRICKLE),
    "http": (lambda a: f'url = "http://{a}/health"\n[[components.expect_json]]\n'
             'path = "status"\nequals = "ok"', HTTP_BODY_TRICKLE),
    "prometheus": (lambda a: f'url = "http://{a}"', HTTP_BODY_TRICKLE),
    "docker": (lambda a: f'base_url = "{a if a.startswith("unix:") else "tcp://" + a}"\n'
               'containers = ["app", "worker"]', HTTP_BODY_TRICKLE),
    "nats": (lambda a: f'url = "nats://{a}"', NATS_TRICKLE),
    "postgres": (lambda a: f'dsn = "postgresql://postgres@{a}/postgres"', (b"", b"")),
}
PEERS = ("trickling", "silent", "garbage")


def at(server: Any) -> str:
    return f"127.0.0.1:{server.port}"


def inventory(addresses: dict[str, list[str]], timeout: float) -> str:
    parts = [f'[system]\nname = "bench"\ntimeout = {timeout}\n']
    for kind, where in addresses.items():
        for i, address in enumerate(where):
            parts.append(f'[[components]]\nname = "{kind}-{PEERS[i]}"\nkind = "{kind}"\n'
                         f"{KINDS[kind][0](address)}\n")
    return "".join(parts)


def sweep(path: Path, workers: int, timeout: float) -> tuple[float, str, int]:
    """(wall seconds, pytest's last line, checks that waited half a timeout or more)."""
    junit = path.with_suffix(".xml")
    args = [sys.executable, "-m", "pytest", *(f"checks/{k}" for k in KINDS), "-q",
            f"--inventory={path}", f"--junitxml={junit}", "-p", "no:cacheprovider",
            "-m", "critical or standard"]
    if workers:
        args += ["-n", str(workers)]
    start = time.monotonic()
    done = subprocess.run(args, cwd=REPO, capture_output=True, text=True, timeout=900,
                          env={**os.environ, "PYTHONDONTWRITEBYTECODE": "1"}, check=False)
    elapsed = time.monotonic() - start
    lines = [line for line in done.stdout.splitlines() if line.strip()]
    waited = sum(float(case.get("time", "0")) >= timeout / 2
                 for case in ET.parse(junit).getroot().iter("testcase"))
    return elapsed, (lines[-1].strip("= ") if lines else done.stderr.strip()[-200:]), waited


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--timeout", type=float, default=1.0, help="component timeout, s")
    parser.add_argument("--repeat", type=int, default=3, help="runs per case (median shown)")
    opts = parser.parse_args()

    folder = Path(tempfile.mkdtemp(prefix="opscheck-bench-hostile-"))
    with contextlib.ExitStack() as stack:
        stack.callback(shutil.rmtree, folder, ignore_errors=True)
        def up(server: Any) -> Any:
            return stack.enter_context(server)

        def scratch(prefix: str) -> Path:
            path = make_owned_tempdir(prefix)
            stack.callback(shutil.rmtree, path, ignore_errors=True)
            return path

        pg = up(PostgresServer(scratch("opscheck-bench-pg-")))
        healthy_at = {
            "redis": at(up(RedisServer(folder / "redis"))),
            "http": at(up(HTTPServer()).route("/health", json={"status": "ok"})),
            "prometheus": at(up(PrometheusServer(folder / "prometheus"))),
            "docker": up(PodmanService(scratch("opscheck-bench-podman-"))).base_url,
            "nats": at(up(NatsServer(folder / "nats"))),
            "postgres": at(pg),
        }
        hostile_at: dict[str, list[str]] = {}
        for kind, (_, trickle) in KINDS.items():
            slow = (StallingProxy(pg.port, mode="trickle") if kind == "postgres"
                    else TricklingServer(*trickle))
            hostile_at[kind] = [at(up(peer)) for peer in (slow, SilentServer(), GarbageServer())]
        cases = {"healthy floor": {k: [a] * len(PEERS) for k, a in healthy_at.items()},
                 "hostile": hostile_at}
        components = sum(len(v) for v in hostile_at.values())
        bound_timeouts = components * opts.timeout
        print(f"Hostile sweep: {len(KINDS)} network kinds x ({', '.join(PEERS)}) = "
              f"{components} components, timeout {opts.timeout:g} s, {os.cpu_count()} CPUs, "
              f"median of {opts.repeat}")
        for workers in (0, 2):
            mode = "sequential" if not workers else f"-n {workers}"
            floor = 0.0
            for label, addresses in cases.items():
                path = folder / f"{label.replace(' ', '-')}-{workers}.toml"
                path.write_text(inventory(addresses, opts.timeout))
                runs = [sweep(path, workers, opts.timeout) for _ in range(opts.repeat)]
                wall = statistics.median(r[0] for r in runs)
                waited = max(r[2] for r in runs)
                if label == "healthy floor":
                    floor = wall
                    print(f"  {mode:<11} {label:<14} {wall:6.2f} s   ({runs[-1][1]})")
                    continue
                bound = bound_timeouts + floor
                print(f"  {mode:<11} {label:<14} {wall:6.2f} s   bound {bound_timeouts:g} s of "
                      f"timeouts + {floor:.2f} s floor = {bound:.2f} s, ratio "
                      f"{wall / bound:.2f}; {waited} checks waited ({runs[-1][1]})")


if __name__ == "__main__":
    main()
