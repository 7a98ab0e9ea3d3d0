"""Benchmark: a Redis key-pattern scan (``[[components.scans]]``) over a large keyspace.

    .venv/bin/python bench/bench_redis_scan.py [--keys 100000] [--matching 50] [--runs 5]

Starts a redis-server on a free loopback port, fills it with ``--keys`` keys of which
``--matching`` are ``dash:spend:daily:<agent>`` counters, then times what the check does:
``SCAN MATCH`` through the whole keyspace (for each COUNT hint) and the MGET of the matching
keys with their aggregation. Prints figures; asserts nothing.
"""

from __future__ import annotations

import argparse
import shutil
import statistics
import sys
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path[:0] = [str(REPO), str(REPO / "tests")]

from servers import RedisServer, make_owned_tempdir  # noqa: E402

from opscheck.readings.keyscan import KeyScan  # noqa: E402
from opscheck.readings.redisscan import judge, matching_keys  # noqa: E402


def fill(client, keys: int, matching: int) -> None:
    pipe = client.pipeline(transaction=False)
    for i in range(keys - matching):
        pipe.set(f"cache:item:{i}", "x" * 32)
        if i % 10000 == 9999:
            pipe.execute()
    for i in range(matching):
        pipe.set(f"dash:spend:daily:agent-{i}", f"{i * 0.25:.2f}")
    pipe.execute()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--keys", type=int, default=100_000)
    parser.add_argument("--matching", type=int, default=50)
    parser.add_argument("--runs", type=int, default=5)
    args = parser.parse_args()
    tmp = make_owned_tempdir("opscheck-bench-scan-")
    try:
        with RedisServer(tmp) as server, server.client(socket_timeout=30) as client:
            fill(client, args.keys, args.matching)
            print(f"redis-server {client.info('server')['redis_version']}: "
                  f"{client.dbsize()} keys, {args.matching} match dash:spend:daily:*")
            for count in (100, 1000, 10000):
                entry = KeyScan(name="spend", match="dash:spend:daily:*", critical=10,
                                count=count, seconds=60)
                times, judged_times = [], []
                for _ in range(args.runs):
                    start = time.perf_counter()
                    keys = matching_keys(client, entry, seconds=60)
                    times.append(time.perf_counter() - start)
                    start = time.perf_counter()
                    judged = judge(client, entry, keys)
                    judged_times.append(time.perf_counter() - start)
                assert len(keys) == args.matching
                print(f"SCAN COUNT {count:>5}: {statistics.median(times) * 1000:7.1f} ms "
                      f"median of {args.runs} (min {min(times) * 1000:.1f} ms) over "
                      f"{args.keys} keys; MGET + max of {len(keys)} values "
                      f"{statistics.median(judged_times) * 1000:.2f} ms -> {judged.value:g}")
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    main()
