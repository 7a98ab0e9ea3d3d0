"""Backup checks, critical and standard tiers, on backups made by the real tools.

Healthy sets of every format pass; each fault fails its check with one clear line.
"""

from __future__ import annotations

import gzip
import os
from pathlib import Path

import pytest
from backup_data import (
    DAY,
    HOUR,
    config_tree,
    corrupt_sqlite,
    flip_byte,
    pg_dump,
    pg_source,
    redis_rdb,
    set_age,
    sha256sums,
    sqlite_backup,
    sqlite_source,
    tarball,
    truncate,
)

TIERS = ("-m", "critical or standard")


def backup_entry(name: str, folder: Path, pattern: str, fmt: str, **extra: object) -> str:
    lines = [f'[[components]]\nname = "{name}"\nkind = "backup"\ndir = "{folder}"',
             f'pattern = "{pattern}"\nformat = "{fmt}"']
    for key, value in extra.items():
        lines.append(f"{key} = {value!r}" if not isinstance(value, str) else f'{key} = "{value}"')
    return "\n".join(lines) + "\n"


def daily(folder: Path, make, count: int, name: str = "backup-{i:02d}") -> list[Path]:
    """``count`` backups, one a day, the newest an hour old."""
    folder.mkdir(parents=True, exist_ok=True)
    paths = []
    for i in range(count):
        path = make(folder / name.format(i=i))
        set_age(path, (count - 1 - i) * DAY + HOUR)
        paths.append(path)
    return paths


@pytest.fixture
def pg_dumps(postgres_server_session, tmp_path):
    """Three custom and three plain dumps of one live database, a day apart."""
    server = postgres_server_session
    db = pg_source(server, rows=50)
    custom = daily(tmp_path / "pgc", lambda p: pg_dump(server, db, p.with_suffix(".dump")), 3)
    plain = daily(tmp_path / "pgp", lambda p: pg_dump(server, db, p.with_suffix(".sql"),
                                                      "plain"), 3)
    return custom, plain


@pytest.fixture
def healthy_sets(tmp_path, pg_dumps, redis_server):
    """One set of every format, made by the real tools, each with a manifest."""
    live = sqlite_source(tmp_path / "live.db", rows=40)
    sq = daily(tmp_path / "sq", lambda p: sqlite_backup(live, p.with_suffix(".db")), 3)
    rdb = daily(tmp_path / "rdb", lambda p: redis_rdb(redis_server, p.with_suffix(".rdb")), 2)
    tree = config_tree(tmp_path / "tree")
    tgz = daily(tmp_path / "tgz", lambda p: tarball(tree, p.with_suffix(".tar.gz")), 3)
    gz = daily(tmp_path / "gz", lambda p: _write(p.with_suffix(".sql.gz"), gzip.compress(
        pg_dumps[1][-1].read_bytes())), 2)
    sets = {"pgc": pg_dumps[0], "pgp": pg_dumps[1], "sq": sq, "rdb": rdb, "tgz": tgz, "gz": gz}
    for paths in sets.values():
        sha256sums(paths[0].parent, [p.name for p in paths])
    return sets


def test_healthy_backups_of_every_format_pass(suite, tmp_path, healthy_sets):
    sets = healthy_sets
    suite.inventory(
        backup_entry("pg-custom", tmp_path / "pgc", "*.dump", "pg_custom", keep_min=3,
                     retention_days=30, manifest="SHA256SUMS", verify_last=3)
        + backup_entry("pg-plain", tmp_path / "pgp", "*.sql", "pg_plain", manifest="SHA256SUMS",
                       retention_days=90)
        + backup_entry("sqlite", tmp_path / "sq", "*.db", "sqlite", manifest="SHA256SUMS",
                       retention_days=30)
        + backup_entry("redis", tmp_path / "rdb", "*.rdb", "redis_rdb", retention_days=7,
                       manifest="SHA256SUMS")
        + backup_entry("config", tmp_path / "tgz", "*.tar.gz", "tar", manifest="SHA256SUMS",
                       keep_max=4, retention_days=31)
        + backup_entry("timescale", tmp_path / "gz", "*.sql.gz", "gzip", retention_days=90,
                       manifest="SHA256SUMS"))
    assert len(sets["pgc"]) == 3
    result = suite.run(*TIERS, "-v", checks=("backup",))
    result.stdout.fnmatch_lines(["*test_backup_readable*pg-custom* PASSED*"])
    result.assert_outcomes(passed=6 * 7)


def test_no_backup_at_all(suite, tmp_path):
    (tmp_path / "empty").mkdir()
    suite.inventory(backup_entry("nothing", tmp_path / "empty", "*.dump", "pg_custom")
                    + backup_entry("nofolder", tmp_path / "absent", "*.db", "sqlite"))
    result = suite.run(*TIERS, checks=("backup",))
    result.stdout.fnmatch_lines_random([
        f"*nothing has no backup at all: nothing in {tmp_path}/empty matches "
        "*.dump. Action: Check the backup job (cron entry, its log) and run it by hand",
        f"*nofolder has no backup at all: folder {tmp_path}/absent does not "
        "exist. Action: Check the backup job*",
        "*nothing keeps 0 backup(s) matching *.dump in */empty, expected "
        "at least 1. Action: check that the backup job runs on schedule*",
        "could not run: nothing has no backup to check (nothing in */empty matches *.dump)",
    ])
    result.assert_outcomes(failed=4, errors=6, skipped=4)


def test_stale_empty_and_truncated_newest(suite, tmp_path, pg_dumps):
    custom, plain = pg_dumps
    for i, path in enumerate(reversed(custom)):  # the job stopped 29 hours ago
        set_age(path, 30 * HOUR + i * DAY)
    truncate(plain[-1], 0.4)  # the newest plain dump cut short
    empty = daily(tmp_path / "empty", lambda p: _write(p.with_suffix(".db"), b"x" * 8192), 2)
    empty[-1].write_bytes(b"")
    set_age(empty[-1], HOUR)
    suite.inventory(backup_entry("old", tmp_path / "pgc", "*.dump", "pg_custom")
                    + backup_entry("cut", tmp_path / "pgp", "*.sql", "pg_plain")
                    + backup_entry("empty", tmp_path / "empty", "*.db", "sqlite"))
    result = suite.run("-m", "critical", checks=("backup",))
    result.stdout.fnmatch_lines_random([
        "old newest backup age (backup-02.dump) 30 h ≥ critical 26 h. Action: Check the backup "
        "job (cron entry, its log) and run it by hand",
        "cut newest backup size vs previous (backup-02.sql * kB, previous backup-01.sql * kB) "
        "40% ≤ "
        "critical 50%. Action: The dump was probably cut short (disk full, killed job): check "
        "the job's log and run it again",
        "*empty newest backup backup-01.db is empty: 0 bytes in 1 file(s), "
        "expected at least 1 bytes. Action: Check the backup job*",
    ])
    result.assert_outcomes(passed=5, failed=4)  # an empty file is also "truncated"


def _write(path: Path, data: bytes) -> Path:
    path.write_bytes(data)
    return path


def test_unreadable_archives_fail_the_standard_tier(suite, tmp_path, pg_dumps, redis_server):
    custom, plain = pg_dumps
    truncate(custom[-1], 0.9)  # pg_restore --list still passes: the data blocks are cut
    truncate(plain[-1], 0.9)  # no completion marker
    live = sqlite_source(tmp_path / "live.db", rows=300, pad=50)
    sq = daily(tmp_path / "sq", lambda p: sqlite_backup(live, p.with_suffix(".db")), 1)
    corrupt_sqlite(sq[-1])
    rdb = daily(tmp_path / "rdb", lambda p: redis_rdb(redis_server, p.with_suffix(".rdb")), 1)
    truncate(rdb[-1], 0.5)
    tgz = daily(tmp_path / "tgz", lambda p: tarball(config_tree(tmp_path / "t"),
                                                     p.with_suffix(".tar.gz")), 1)
    truncate(tgz[-1], 0.7)
    gz = daily(tmp_path / "gz", lambda p: _write(p.with_suffix(".gz"), gzip.compress(
        os.urandom(20000))), 1)
    truncate(gz[-1], 0.8)
    daily(tmp_path / "pgz", lambda p: _write(p.with_suffix(".sql.gz"), gzip.compress(
        plain[0].read_bytes()[:-200])), 1)  # compressed whole, but the dump itself was cut
    suite.inventory(backup_entry("pgc", tmp_path / "pgc", "*.dump", "pg_custom")
                    + backup_entry("pgp", tmp_path / "pgp", "*.sql", "pg_plain")
                    + backup_entry("sq", tmp_path / "sq", "*.db", "sqlite")
                    + backup_entry("rdb", tmp_path / "rdb", "*.rdb", "redis_rdb")
                    + backup_entry("tgz", tmp_path / "tgz", "*.tar.gz", "tar")
                    + backup_entry("gz", tmp_path / "gz", "*.gz", "gzip")
                    + backup_entry("pgz", tmp_path / "pgz", "*.sql.gz", "pg_plain"))
    result = suite.run("-m", "standard", "-k", "readable", checks=("backup",))
    result.stdout.fnmatch_lines_random([
        "pgc: backup-02.dump: pg_restore could not read it through "
        "(exit 1): pg_restore: error: could not read from input file: end of file; the dump "
        "is truncated or corrupt",
        "pgp: backup-02.sql lacks pg_dump's last line '-- PostgreSQL "
        "database dump complete': the dump was cut short",
        "sq: backup-00.db is not a usable SQLite database: database disk image is malformed",
        "rdb: backup-00.rdb: redis-check-rdb exited 1: Unexpected EOF "
        "reading RDB file",
        "tgz: backup-00.tar.gz unreadable as tar: *",
        "gz: backup-00.gz unreadable as gzip: EOFError: Compressed file ended before the "
        "end-of-stream marker was reached",
        "pgz: backup-00.sql.gz lacks pg_dump's last line*",
    ])
    result.assert_outcomes(failed=7)
    out = result.stdout.str()  # one line each: no traceback, no exception class name
    assert "Traceback" not in out and "BackupProblem" not in out and "archives.py" not in out


def test_checksum_mismatch_and_retention_broken_both_ways(suite, tmp_path):
    files = daily(tmp_path / "few", lambda p: _write(p.with_suffix(".tar"), b"a" * 512), 2)
    sha256sums(tmp_path / "few", [p.name for p in files])
    flip_byte(files[0])
    old = daily(tmp_path / "old", lambda p: _write(p.with_suffix(".gz"), b"b" * 512), 4)
    set_age(old[0], 40 * DAY)
    sha256sums(tmp_path / "old", [p.name for p in old[1:]])  # the newest not listed
    suite.inventory(
        backup_entry("few", tmp_path / "few", "*.tar", "tar", keep_min=7, manifest="SHA256SUMS")
        + backup_entry("old", tmp_path / "old", "*.gz", "gzip", retention_days=30, keep_max=3,
                       manifest="SHA*"))
    result = suite.run("-m", "standard", "-k", "kept or retention or checksum",
                       checks=("backup",))
    result.stdout.fnmatch_lines_random([
        "*few keeps 2 backup(s) "
        "matching *.tar in */few, expected at least 7. Action: check that the backup job*",
        "*few checksum mismatch: "
        "backup-00.tar sha256 * ≠ manifest *. Action: the file changed after it was written*",
        "*old keeps 4 backups, expected "
        "at most 3. Action: Check the pruning step*",
        "*old keeps 1 backup(s) "
        "past its retention of 30 d; oldest backup-00.gz is 40.0 d old. Action: Check the "
        "pruning*",
        "*old checksum mismatch: backup-00.gz is not listed in the manifest*",
    ])
    result.assert_outcomes(failed=5, skipped=1)
