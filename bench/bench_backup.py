"""Benchmark: the backup checks' wall time on realistic sets.

    .venv/bin/python bench/bench_backup.py [--mb 100] [--days 30] [--runs 3]

1. the standard tier over ``--days`` daily pg_dump custom-format dumps with a sha256sum
   manifest (checksums of every backup, the newest read through; then all of them);
2. the deep restore-and-compare of a PostgreSQL database of about ``--mb`` MB
   (pg_dump custom, restored into a scratch database, row counts vs live);
3. the same for an SQLite file of about ``--mb`` MB (copy, integrity_check, row counts).

Backups are made by the real tools against a throwaway PostgreSQL on 127.0.0.1. Prints
figures; asserts nothing (performance is measured here, never in timed tests).
"""

from __future__ import annotations

import argparse
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path[:0] = [str(REPO), str(REPO / "tests")]

from backup_data import (  # noqa: E402 - after the path setup
    DAY,
    HOUR,
    pg_dump,
    pg_source,
    set_age,
    sha256sums,
    sqlite_backup,
    sqlite_source,
)
from servers import PostgresServer, make_owned_tempdir  # noqa: E402

PYTEST = [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", "--timeout=900",
          "checks/backup"]
ROW_BYTES = 192  # text per row (md5 hex, compresses about 2:1 like real text)
PG_ROW = 430  # bytes on disk per stories row, its index and its two events rows
SQLITE_ROW = 215  # bytes on disk per SQLite row


def entry(name: str, **keys: object) -> str:
    body = "".join(f"{k} = {v!r}\n".replace("'", '"') for k, v in keys.items())
    return f'[[components]]\nname = "{name}"\n{body}'


def run(inventory: Path, marker: str, runs: int, expect: str) -> list[float]:
    times = []
    for _ in range(runs):
        start = time.perf_counter()
        proc = subprocess.run([*PYTEST, "-m", marker, "--inventory", str(inventory)], cwd=REPO,
                              capture_output=True, text=True, timeout=1800)
        times.append(time.perf_counter() - start)
        if proc.returncode != 0 or expect not in proc.stdout:
            sys.exit(f"run failed (exit {proc.returncode}):\n{proc.stdout[-3000:]}")
    return times


def show(label: str, times: list[float], extra: str = "") -> None:
    print(f"{label:<58} median {statistics.median(times):6.2f} s  "
          f"(min {min(times):.2f}, max {max(times):.2f}, {len(times)} runs){extra}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--mb", type=float, default=100, help="size of the deep-checked data")
    parser.add_argument("--days", type=int, default=30, help="daily backups for the standard tier")
    parser.add_argument("--runs", type=int, default=3)
    args = parser.parse_args()
    work = Path(tempfile.mkdtemp(prefix="opscheck-bench-backup-"))
    pgdir = make_owned_tempdir("opscheck-bench-pg-", "postgres")
    try:
        with PostgresServer(pgdir, settings={"max_wal_size": "1GB"}) as pg:
            print(f"PostgreSQL 127.0.0.1:{pg.port}; {args.days} daily dumps; "
                  f"deep data about {args.mb:g} MB; {os.cpu_count()} CPUs")
            bench_standard(pg, work, args.days, args.runs)
            bench_deep_postgres(pg, work, int(args.mb * 1e6 / PG_ROW), args.runs)
        bench_deep_sqlite(work, int(args.mb * 1e6 / SQLITE_ROW), args.runs)
    finally:
        shutil.rmtree(work, ignore_errors=True)
        shutil.rmtree(pgdir, ignore_errors=True)


def bench_standard(pg: PostgresServer, work: Path, days: int, runs: int) -> None:
    db = pg_source(pg, rows=20_000, pad=ROW_BYTES)
    folder = work / "daily"
    folder.mkdir()
    for day in range(days):  # one real dump a day; the live data grows a little each day
        pg.psql(f"INSERT INTO stories SELECT g, 'day {day}', md5(g::text) FROM "
                f"generate_series({20_001 + day * 100}, {20_000 + (day + 1) * 100}) g", db=db)
        set_age(pg_dump(pg, db, folder / f"backup-{day:02d}.dump"), (days - 1 - day) * DAY + HOUR)
    dumps = sorted(p.name for p in folder.glob("*.dump"))
    sha256sums(folder, dumps)
    total = sum((folder / n).stat().st_size for n in dumps)
    base = dict(kind="backup", dir=str(folder), pattern="*.dump", format="pg_custom",
                keep_min=days, retention_days=days + 1, manifest="SHA256SUMS")
    inv = work / "standard.toml"
    inv.write_text(entry("daily", **base))
    show(f"standard tier, {days} dumps ({total / 1e6:.1f} MB), newest read", run(
        inv, "standard", runs, "4 passed"))
    inv.write_text(entry("daily", **base, verify_last=days))
    show(f"standard tier, {days} dumps, all {days} read through", run(
        inv, "standard", runs, "4 passed"))


def bench_deep_postgres(pg: PostgresServer, work: Path, rows: int, runs: int) -> None:
    db = pg_source(pg, rows=rows, pad=ROW_BYTES)
    size = int(pg.psql(f"SELECT pg_database_size('{db}')"))
    folder = work / "pg"
    folder.mkdir()
    t0 = time.perf_counter()
    dump = set_age(pg_dump(pg, db, folder / "backup-1.dump"), HOUR)
    made = time.perf_counter() - t0
    inv = work / "deep-pg.toml"
    inv.write_text(entry("pg", kind="postgres", dsn=pg.dsn_for(db))
                   + entry("pg-backup", kind="backup", dir=str(folder), pattern="*.dump",
                           format="pg_custom", source="pg", tables=["stories", "events"]))
    show(f"deep PostgreSQL restore+compare, db {size / 1e6:.0f} MB, {rows} rows", run(
        inv, "deep", runs, "1 passed"),
        f"; dump {dump.stat().st_size / 1e6:.0f} MB made in {made:.1f} s")


def bench_deep_sqlite(work: Path, rows: int, runs: int) -> None:
    live = sqlite_source(work / "live.db", rows=rows, pad=ROW_BYTES)
    folder = work / "sq"
    folder.mkdir()
    copy = set_age(sqlite_backup(live, folder / "coordination-1.db"), HOUR)
    inv = work / "deep-sqlite.toml"
    inv.write_text(entry("coord", kind="sqlite", path=str(live))
                   + entry("coord-backup", kind="backup", dir=str(folder), pattern="*.db",
                           format="sqlite", source="coord", tables=["tests"],
                           scratch_dir=str(work)))
    show(f"deep SQLite copy+integrity_check+compare, {copy.stat().st_size / 1e6:.0f} MB, "
         f"{rows} rows", run(
        inv, "deep", runs, "1 passed"))


if __name__ == "__main__":
    main()
