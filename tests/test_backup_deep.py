"""Backup checks, deep tier: restore into scratch, compare, and always clean up.

Real pg_dump/pg_restore/psql against a real PostgreSQL, the sqlite3 backup API, tar.gz of
a folder. After every run no ``opscheck_restore_*`` database and no scratch folder is left.
"""

from __future__ import annotations

import gzip
import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from backup_data import (
    HOUR,
    config_tree,
    pg_dump,
    pg_source,
    set_age,
    sqlite_backup,
    sqlite_source,
    tarball,
)
from test_backup import backup_entry

from opscheck.targets.backup import scratch


def scratch_dbs(server) -> list[str]:
    out = server.psql("SELECT datname FROM pg_database WHERE datname LIKE 'opscheck_restore%'")
    return out.split()


def pg_entry(name: str, server, db: str) -> str:
    return f'[[components]]\nname = "{name}"\nkind = "postgres"\ndsn = "{server.dsn_for(db)}"\n'


def one(folder: Path, path_maker) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    return set_age(path_maker(folder), HOUR)


def test_pg_dumps_restore_and_row_counts_match(suite, tmp_path, postgres_server_session):
    server = postgres_server_session
    db = pg_source(server, rows=60)
    one(tmp_path / "c", lambda f: pg_dump(server, db, f / "backup-1.dump"))
    one(tmp_path / "p", lambda f: gzip_file(pg_dump(server, db, f / "backup-1.sql", "plain")))
    dead = subprocess.Popen(["true"])
    dead.wait()  # a run killed earlier left this one: the next deep check sweeps it
    server.psql(f"CREATE DATABASE {scratch.DB_PREFIX}{dead.pid}_deadbeef")
    suite.inventory(pg_entry("pg", server, db)
                    + backup_entry("custom", tmp_path / "c", "*.dump", "pg_custom", source="pg",
                                   tables=["stories", "public.events"])
                    + backup_entry("plain", tmp_path / "p", "*.sql.gz", "pg_plain", source="pg",
                                   tables=["stories"], scratch_dir=str(tmp_path)))
    result = suite.run("-m", "deep", "-v", checks=("backup",))
    result.assert_outcomes(passed=2)
    assert scratch_dbs(server) == []
    assert not list(tmp_path.glob("opscheck-restore-*"))


def gzip_file(path: Path) -> Path:
    target = path.with_name(path.name + ".gz")
    target.write_bytes(gzip.compress(path.read_bytes()))
    path.unlink()
    return target


def test_restore_error_and_missing_rows_fail(suite, tmp_path, postgres_server_session):
    server = postgres_server_session
    db = pg_source(server, rows=50)
    one(tmp_path / "short", lambda f: pg_dump(server, db, f / "backup-1.dump"))
    server.psql("INSERT INTO stories SELECT g, 'late', '' FROM generate_series(51, 100) g", db=db)
    bad = one(tmp_path / "bad", lambda f: pg_dump(server, db, f / "backup-1.sql", "plain"))
    text = bad.read_text()
    marker = "CREATE TABLE public.stories"
    bad.write_text(text.replace(marker, "SELECT * FROM no_such_table;\n" + marker, 1))
    suite.inventory(pg_entry("pg", server, db)
                    + backup_entry("short", tmp_path / "short", "*.dump", "pg_custom",
                                   source="pg", tables=["stories", "events"])
                    + backup_entry("bad", tmp_path / "bad", "*.sql", "pg_plain", source="pg")
                    + backup_entry("tiny", tmp_path / "short", "*.dump", "pg_custom",
                                   source="pg", scratch_budget_mb=1))
    result = suite.run("-m", "deep", checks=("backup",))
    result.stdout.fnmatch_lines_random([
        "short: backup-1.dump restored short of the live data: table stories restored 50 rows "
        "vs 100 live (-50.0%, tolerance ±5%)",
        "bad: restoring backup-1.sql into scratch database opscheck_restore_* failed: psql "
        'exited 3: psql:<stdin>:*: ERROR:  relation "no_such_table" does not exist*',
        "tiny: restoring backup-1.dump needs * MB, over the scratch budget of 1.0 MB; raise "
        "scratch_budget_mb",
    ])
    result.assert_outcomes(failed=3)
    assert scratch_dbs(server) == []


def test_sqlite_restore_integrity_and_row_counts(suite, tmp_path):
    live = sqlite_source(tmp_path / "live.db", rows=120, pad=30)
    one(tmp_path / "good", lambda f: sqlite_backup(live, f / "coordination-1.db"))
    copy = one(tmp_path / "bad", lambda f: sqlite_backup(live, f / "coordination-1.db"))
    with copy.open("r+b") as handle:  # a wrong page count in an otherwise readable file
        handle.seek(2 * 4096 + 8)
        handle.write(b"\x00\x00\x10\x00")
    old = one(tmp_path / "old", lambda f: sqlite_backup(live, f / "coordination-1.db"))
    sqlite_source(live, rows=80)  # 200 live now: the "old" copy holds 120
    set_age(old, HOUR)
    suite.inventory(
        f'[[components]]\nname = "coord"\nkind = "sqlite"\npath = "{live}"\n'
        + backup_entry("good", tmp_path / "good", "*.db", "sqlite", source="coord",
                       tables=["tests"], row_tolerance_pct=50, scratch_dir=str(tmp_path))
        + backup_entry("bad", tmp_path / "bad", "*.db", "sqlite", scratch_dir=str(tmp_path))
        + backup_entry("old", tmp_path / "old", "*.db", "sqlite", source="coord",
                       tables=["tests"], scratch_dir=str(tmp_path)))
    result = suite.run("-m", "deep", checks=("backup",))
    result.stdout.fnmatch_lines_random([
        "bad: coordination-1.db *",
        "old: coordination-1.db holds fewer rows than allowed: table tests restored 120 rows "
        "vs 200 live (-40.0%, tolerance ±5%)",
    ])
    result.assert_outcomes(passed=1, failed=2)
    assert not list(tmp_path.glob("opscheck-restore-*"))


def test_tarball_extracts_with_expected_files(suite, tmp_path):
    tree = config_tree(tmp_path / "tree")
    one(tmp_path / "good", lambda f: tarball(tree, f / "backup-1.tar.gz"))
    (tree / ".orchestrator-state.json").write_text('{"state": "running", ')  # cut JSON
    one(tmp_path / "bad", lambda f: tarball(tree, f / "backup-1.tar.gz"))
    snapshot = tmp_path / "snap" / "2026-11-21"
    config_tree(snapshot)
    expected = ["config/*.yaml", "config/limits.toml", ".env", ".orchestrator-state.json"]
    suite.inventory(
        backup_entry("good", tmp_path / "good", "*.tar.gz", "tar", expected_files=expected,
                     scratch_dir=str(tmp_path))
        + backup_entry("bad", tmp_path / "bad", "*.tar.gz", "tar", scratch_dir=str(tmp_path),
                       expected_files=[*expected, "queue/"])
        + backup_entry("snap", tmp_path / "snap", "2026-*", "folder", expected_files=expected)
        + backup_entry("tiny", tmp_path / "good", "*.tar.gz", "tar", expected_files=expected,
                       scratch_budget_mb=0.00001, scratch_dir=str(tmp_path)))
    result = suite.run("-m", "deep", checks=("backup",))
    result.stdout.fnmatch_lines_random([
        "bad: backup-1.tar.gz extracted (5 members): .orchestrator-state.json does not parse: "
        "JSONDecodeError: *(and 1 more)",
        "tiny: extracting backup-1.tar.gz needs * B, over the scratch budget of 10 B; raise "
        "scratch_budget_mb",
    ])
    result.assert_outcomes(passed=2, failed=2)
    assert not list(tmp_path.glob("opscheck-restore-*"))
    assert json.loads((snapshot / ".orchestrator-state.json").read_text())


def slow_dump(server, db: str, folder: Path) -> Path:
    """A real plain dump whose restore sleeps midway (a restore that takes too long)."""
    folder.mkdir(parents=True, exist_ok=True)
    dump = pg_dump(server, db, folder / "backup-1.sql", "plain")
    marker = "CREATE TABLE public.events"
    dump.write_text(dump.read_text().replace(marker, "SELECT pg_sleep(60);\n" + marker, 1))
    return set_age(gzip_file(dump), HOUR)


def test_restore_past_its_time_budget_stops_and_cleans_up(suite, tmp_path,
                                                           postgres_server_session):
    server = postgres_server_session
    db = pg_source(server, rows=10)
    slow_dump(server, db, tmp_path / "slow")
    suite.inventory(pg_entry("pg", server, db)
                    + backup_entry("slow", tmp_path / "slow", "*.sql.gz", "pg_plain",
                                   source="pg", restore_timeout=1.5, scratch_dir=str(tmp_path)))
    result = suite.run("-m", "deep", checks=("backup",))
    result.stdout.fnmatch_lines(["slow test_backup_restores passed its time budget of "
                                 "1.5 s and was stopped; raise restore_timeout*"])
    result.assert_outcomes(failed=1)
    assert scratch_dbs(server) == []
    assert not list(tmp_path.glob("opscheck-restore-*"))


@pytest.mark.parametrize("how", ["ctrl-c", "pytest-timeout"])
def test_interrupted_restore_leaves_nothing(suite, tmp_path, postgres_server_session, how):
    server = postgres_server_session
    db = pg_source(server, rows=10)
    slow_dump(server, db, tmp_path / "slow")
    suite.inventory(pg_entry("pg", server, db)
                    + backup_entry("slow", tmp_path / "slow", "*.sql.gz", "pg_plain",
                                   source="pg", scratch_dir=str(tmp_path)))
    extra = ["--timeout=4"] if how == "pytest-timeout" else []
    args = suite.args(("backup",), ("-m", "deep", *extra))
    # a shell without job control starts background jobs with SIGINT ignored, and a child
    # inherits that: give the run a default SIGINT, as an operator's terminal would
    proc = subprocess.Popen([sys.executable, "-m", "pytest", *args], cwd=suite.path,
                            stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                            preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_DFL))
    try:
        deadline = time.monotonic() + 30
        while not scratch_dbs(server) or not list(tmp_path.glob("opscheck-restore-*")):
            if proc.poll() is not None or time.monotonic() > deadline:
                pytest.fail("restore never began: " + proc.communicate()[0].decode()[-3000:])
            time.sleep(0.1)
        if how == "ctrl-c":
            proc.send_signal(signal.SIGINT)
        out = proc.communicate(timeout=30)[0].decode()
    finally:
        if proc.poll() is None:
            proc.kill()
    expected = ("KeyboardInterrupt" if how == "ctrl-c" else "passed its time budget of 3.4 s and "
                "was stopped; it is kept under pytest-timeout's 4 s: run with --timeout=706")
    assert expected in out, out[-2000:]
    assert scratch_dbs(server) == []
    assert not list(tmp_path.glob("opscheck-restore-*"))
    assert os.path.exists(tmp_path / "slow" / "backup-1.sql.gz")
