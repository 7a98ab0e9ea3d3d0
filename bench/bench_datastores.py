"""Benchmark: checks per second against a healthy local Redis, PostgreSQL and SQLite, and the
suite's overhead over a bare Python loop making the same client calls.

    .venv/bin/python bench/bench_datastores.py [--copies 10] [--runs 5]

Starts a redis-server and a PostgreSQL 15 (as the postgres user) on free loopback ports and
builds an SQLite file, lists each ``--copies`` times in one inventory, then times the
non-deep sweep of checks/{redis,postgres,sqlite} in-process (pytest's run loop only:
collection and start-up excluded) against a plain loop that opens the same targets and
calls the same fact methods the checks call. Prints figures; asserts nothing.
"""

from __future__ import annotations

import argparse
import contextlib
import io
import shutil
import sqlite3
import statistics
import sys
import tempfile
import time
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
sys.path[:0] = [str(REPO), str(REPO / "tests")]

from servers import PostgresServer, RedisServer, make_owned_tempdir  # noqa: E402

from opscheck.inventory import load  # noqa: E402
from opscheck.targets.postgres import PostgresTarget  # noqa: E402
from opscheck.targets.redis import RedisTarget  # noqa: E402
from opscheck.targets.sqlite import SqliteTarget  # noqa: E402

PLUGINS = ["-p", "opscheck.suite"]


def bare_redis(t: RedisTarget) -> None:
    t.ping(), t.persistence(), t.info("persistence"), t.info("replication")
    t.memory(), t.clients(), t.stats(), t.stats(), t.persistence()


def bare_postgres(t: PostgresTarget) -> None:
    t.select_one(), t.in_recovery(), t.in_recovery(), t.connections(), t.database_size_mb()
    t.long_queries(5), t.idle_in_transaction(5), t.xid_age_pct()


def bare_sqlite(t: SqliteTarget) -> None:
    t.quick_check(), t.journal_mode(), t.size_mb(), t.wal_size_mb()


BARE = {"redis": (RedisTarget, bare_redis), "postgres": (PostgresTarget, bare_postgres),
        "sqlite": (SqliteTarget, bare_sqlite)}


class LoopTimer:
    """Times pytest's run loop and counts the checks it ran."""

    def __init__(self) -> None:
        self.seconds = 0.0
        self.ran = 0

    @pytest.hookimpl(wrapper=True)
    def pytest_runtestloop(self, session: pytest.Session):
        start = time.perf_counter()
        try:
            return (yield)
        finally:
            self.seconds = time.perf_counter() - start
            self.ran = len(session.items)


def inventory(path: Path, redis: RedisServer, pg: PostgresServer, db: Path, copies: int) -> Path:
    parts = []
    for i in range(copies):
        parts.append(f'[[components]]\nname = "r{i}"\nkind = "redis"\n'
                     f'url = "redis://127.0.0.1:{redis.port}/0"\nmemory_budget = 1000000000\n')
        parts.append(f'[[components]]\nname = "p{i}"\nkind = "postgres"\n'
                     f'dsn = "postgresql://postgres@127.0.0.1:{pg.port}/postgres"\n')
        parts.append(f'[[components]]\nname = "s{i}"\nkind = "sqlite"\npath = "{db}"\n'
                     'journal_mode = "wal"\n')
    path.write_text("\n".join(parts))
    return path


def suite_run(inv: Path, kind: str) -> tuple[float, int]:
    timer = LoopTimer()
    args = [*PLUGINS, "-q", "-p", "no:cacheprovider", "--rootdir", str(inv.parent), "-c",
            "/dev/null", "--inventory", str(inv), "-m", "not deep", "-W", "ignore",
            str(REPO / "checks" / kind)]
    with contextlib.redirect_stdout(io.StringIO()) as out:
        code = pytest.main(args, plugins=[timer])
    if code not in (0, 5):
        sys.exit(f"the sweep of {kind} exited {code}:\n{out.getvalue()[-3000:]}")
    return timer.seconds, timer.ran


def bare_run(inv: Path, kind: str) -> float:
    target_cls, calls = BARE[kind]
    components = load(inv).of_kind(kind)
    start = time.perf_counter()
    for component in components:
        target = target_cls.open(component)
        calls(target)
        target.close()
    return time.perf_counter() - start


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--copies", type=int, default=10, help="components of each kind")
    parser.add_argument("--runs", type=int, default=5)
    opts = parser.parse_args()
    work = Path(tempfile.mkdtemp(prefix="opscheck-bench-"))
    pgdir = make_owned_tempdir("opscheck-bench-pg-", "postgres")
    with RedisServer(work / "redis") as redis, PostgresServer(pgdir, max_connections=100) as pg:
        db = work / "coord.db"
        conn = sqlite3.connect(db)
        conn.execute("PRAGMA journal_mode=wal")
        conn.execute("CREATE TABLE t (id INTEGER PRIMARY KEY, v TEXT)")
        conn.executemany("INSERT INTO t (v) VALUES (?)", [("x" * 100,) for _ in range(5000)])
        conn.commit()
        inv = inventory(work / "inventory.toml", redis, pg, db, opts.copies)
        print(f"{opts.copies} components of each kind; median of {opts.runs} runs; "
              "non-deep checks; run loop only")
        print(f"{'kind':10} {'checks':>6} {'suite s':>8} {'checks/s':>9} {'bare s':>8} "
              f"{'overhead':>8}")
        for kind in BARE:
            suite = [suite_run(inv, kind) for _ in range(opts.runs)]
            bare = [bare_run(inv, kind) for _ in range(opts.runs)]
            seconds, ran = statistics.median(s for s, _ in suite), suite[0][1]
            base = statistics.median(bare)
            print(f"{kind:10} {ran:6d} {seconds:8.3f} {ran / seconds:9.0f} {base:8.3f} "
                  f"{seconds / base:7.1f}x")
        conn.close()
    shutil.rmtree(work, ignore_errors=True)
    shutil.rmtree(pgdir, ignore_errors=True)


if __name__ == "__main__":
    main()
