"""Secrets never leave the run; checks never write to what they check."""

from __future__ import annotations

import hashlib
import shutil
import sqlite3
from collections.abc import Iterator
from pathlib import Path

# imported here, outside the in-process runs: pytester drops modules a run imports, and
# psycopg's C extension would then raise exception classes of the dropped copy
import psycopg  # noqa: F401
import pytest
from servers import PostgresServer, RedisServer, make_owned_tempdir

REDIS_PW = "redis-Secret-7f3a9"
PG_PW = "pg-Secret-c41d2e"
ALL = ("redis", "postgres", "sqlite", "probes")


@pytest.fixture(scope="module")
def pg_with_password() -> Iterator[PostgresServer]:
    """PostgreSQL with a password over TCP, and autovacuum off (so nothing else writes)."""
    tmp = make_owned_tempdir("opscheck-pg-", "postgres")
    server = PostgresServer(tmp, password=PG_PW, settings={"autovacuum": "off"})
    try:
        yield server.start()
    finally:
        server.stop()
        shutil.rmtree(tmp, ignore_errors=True)


def make_db(path: Path) -> Path:
    conn = sqlite3.connect(path)
    conn.execute("PRAGMA journal_mode=wal")
    conn.execute("CREATE TABLE heartbeats (component TEXT, at REAL)")
    conn.execute("INSERT INTO heartbeats VALUES ('monitor', 0)")
    conn.commit()
    conn.close()
    return path


def inventory(redis: RedisServer, pg: PostgresServer, db: Path, extra: str = "") -> str:
    return f"""
[[components]]
name = "bus"
kind = "redis"
url = "redis://127.0.0.1:{redis.port}/0"
password_env = "BUS_PASSWORD"
memory_budget = 1000
[components.thresholds.clients]
warning = 0
critical = 0.001

[[components]]
name = "state"
kind = "postgres"
dsn = "postgresql://postgres@127.0.0.1:{pg.port}/postgres"
password_env = "STATE_PASSWORD"
[components.thresholds.database_size]
critical = 1

[[components]]
name = "coord"
kind = "sqlite"
path = "{db}"
journal_mode = "delete"

[[probes]]
name = "leaky"
component = "bus"
query = "GET opscheck:leaked"  # holds the password: its "not a number" line must be redacted
critical = 1

[[probes]]
name = "stale"
component = "coord"
type = "rows"
query = "SELECT * FROM heartbeats"
{extra}"""


def test_passwords_appear_in_no_output_of_a_failing_sweep(suite, monkeypatch, tmp_path,
                                                          pg_with_password):
    monkeypatch.setenv("BUS_PASSWORD", REDIS_PW)
    monkeypatch.setenv("STATE_PASSWORD", PG_PW)
    with RedisServer(tmp_path / "redis", password=REDIS_PW) as redis:
        redis.client().set("opscheck:leaked", REDIS_PW)
        suite.inventory(inventory(redis, pg_with_password, make_db(tmp_path / "coord.db")))
        reports = suite.path / "reports"
        result = suite.run("-v", "-rA", "-l", "--tb=long", "--report-dir", str(reports),
                           "--junitxml", str(suite.path / "junit.xml"), checks=ALL)
    outcomes = result.parseoutcomes()
    assert outcomes["failed"] >= 5 and outcomes["passed"] >= 5, outcomes
    result.stdout.fnmatch_lines(["*probe leaky on bus: returned *, not a number*"])
    texts = {"stdout": result.stdout.str(), "stderr": result.stderr.str()}
    files = [suite.path / "junit.xml", *(p for p in reports.rglob("*") if p.is_file())]
    assert len(files) > 1, "the reports were not written"
    texts.update({str(p): p.read_bytes().decode(errors="replace") for p in files})
    for where, text in texts.items():
        for secret in (REDIS_PW, PG_PW):
            assert secret not in text, f"{secret[:5]}… leaked into {where}"


def fingerprint(path: Path) -> tuple[str, int]:
    return hashlib.sha256(path.read_bytes()).hexdigest(), path.stat().st_mtime_ns


# writes that pass the load-time checks (tests/test_readonly_*.py: those refused at load)
WRITES = """
[[probes]]
name = "pg-write"
component = "state"
query = "SELECT set_config('default_transaction_read_only', 'off', false) = 'off'"
critical = 5

[[probes]]
name = "sqlite-write"
component = "coord"
query = "WITH x AS (SELECT 1) DELETE FROM heartbeats RETURNING 1"
critical = 5
"""


def test_a_full_sweep_writes_nothing(suite, monkeypatch, tmp_path, pg_with_password):
    monkeypatch.setenv("BUS_PASSWORD", REDIS_PW)
    monkeypatch.setenv("STATE_PASSWORD", PG_PW)
    pg = pg_with_password
    pg.query("CREATE TABLE marks (n int)")
    db = make_db(tmp_path / "coord.db")
    before = fingerprint(db)
    next_xid = "SELECT pg_snapshot_xmax(pg_current_snapshot())::text"  # assigns no XID itself
    xid_before = pg.query(next_xid)[0][0]
    with RedisServer(tmp_path / "redis", password=REDIS_PW) as redis:
        suite.inventory(inventory(redis, pg, db, WRITES))
        result = suite.run("-m", "critical or standard or deep", checks=ALL)
    outcomes = result.parseoutcomes()
    assert outcomes["passed"] >= 10 and "errors" not in outcomes, outcomes
    # the two probes that try to write are refused by the read-only guards
    result.stdout.fnmatch_lines(["*probe pg-write on state: calls set_config(), refused: "
                                 "PostgreSQL marks it PARALLEL UNSAFE*"])
    result.stdout.fnmatch_lines(["*probe sqlite-write on coord: refused: DELETE heartbeats "
                                 "(probes are read-only*"])
    assert fingerprint(db) == before, "the SQLite file's bytes or mtime changed"
    assert pg.query(next_xid)[0][0] == xid_before, "a PostgreSQL transaction ID was assigned"
    assert pg.query("SELECT count(*) FROM marks")[0][0] == 0


@pytest.mark.parametrize("password", [None, "wrong-pg-password"])
def test_postgres_authentication_failure_says_what_to_fix(suite, monkeypatch, pg_with_password,
                                                          password):
    extra = ""
    if password:
        monkeypatch.setenv("STATE_PASSWORD", password)
        extra = 'password_env = "STATE_PASSWORD"\n'
    suite.inventory(f'[[components]]\nname = "state"\nkind = "postgres"\n{extra}'
                    f'dsn = "postgresql://postgres@127.0.0.1:{pg_with_password.port}/postgres"\n')
    result = suite.run("-m", "critical", checks=("postgres",))
    result.assert_outcomes(errors=2)
    fix = ("check the password in STATE_PASSWORD" if password
           else "set password_env to the variable holding its password")
    result.stdout.fnmatch_lines([f"could not run: state at 127.0.0.1:*: authentication failed: "
                                 f"{fix}"])
    assert "wrong-pg-password" not in result.stdout.str()
