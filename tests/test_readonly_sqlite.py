"""SQLite probes and checks cannot write, whatever the SQL: SQLite's authorizer on real files.

``mode=ro`` alone let ``VACUUM INTO '/any/path'`` and ``ATTACH`` write files. Each hostile
statement is refused (at load, or by the authorizer) and every file in the database's
folder keeps its bytes and its modification time; nothing new appears.
"""

from __future__ import annotations

import hashlib
import sqlite3
from pathlib import Path

import pytest

from opscheck.components.sqlite import SqliteComponent
from opscheck.readonly.sqlite import query_pragmas
from opscheck.targets.sqlite import SqliteTarget

CHECKS = ("probes",)


@pytest.fixture
def db(tmp_path: Path) -> Path:
    folder = tmp_path / "data"
    folder.mkdir()
    path = folder / "coord.db"
    conn = sqlite3.connect(path)
    # journal mode delete: a reader of a WAL file creates its -wal and -shm, if missing
    conn.executescript("CREATE TABLE heartbeats (component TEXT, at REAL);"
                       "INSERT INTO heartbeats VALUES ('monitor', 0), ('pm', 1);")
    conn.close()
    return path


def files(folder: Path) -> dict[str, tuple[str, int]]:
    """Every file under ``folder``: its bytes' hash and its modification time."""
    return {str(p.relative_to(folder)): (hashlib.sha256(p.read_bytes()).hexdigest(),
                                         p.stat().st_mtime_ns)
            for p in sorted(folder.rglob("*")) if p.is_file()}


def inventory(db: Path, query: str) -> str:
    return (f'[[components]]\nname = "coord"\nkind = "sqlite"\npath = "{db}"\n\n'
            f'[[probes]]\nname = "hostile"\ncomponent = "coord"\ntype = "rows"\n'
            f"query = '''{query}'''\n")


@pytest.mark.parametrize(("query", "message"), [
    ("VACUUM INTO '{folder}/copy.db'", "VACUUM is not a read: a probe is one statement of "
     "SELECT, WITH, VALUES, PRAGMA (probes are read-only)"),
    ("ATTACH '{folder}/evil.db' AS evil", "ATTACH is not a read*"),
    ("SELECT 1; DELETE FROM heartbeats", "holds more than one statement*"),
    ("REINDEX", "REINDEX is not a read*"),
    ("PRAGMA journal_mode=delete", "refused: PRAGMA journal_mode delete is not a PRAGMA SQLite "
     "answers as a query (it sets or acts, or is unknown); probes are read-only"),
    ("PRAGMA wal_checkpoint(TRUNCATE)", "refused: PRAGMA wal_checkpoint TRUNCATE is not*"),
    ("PRAGMA optimize", "refused: PRAGMA optimize is not*"),
])
def test_a_hostile_probe_is_refused_at_load_and_no_file_changes(suite, db, query, message):
    folder = db.parent
    before = files(folder)
    suite.inventory(inventory(db, query.replace("{folder}", str(folder))))
    result = suite.run(checks=CHECKS)
    assert files(folder) == before
    assert result.ret == pytest.ExitCode.USAGE_ERROR, result.stdout.str()
    result.stderr.fnmatch_lines([f"ERROR: *inventory.toml: probes.0: probe 'hostile': {message}"])


def test_a_write_past_the_load_check_is_refused_by_the_authorizer(suite, db):
    before = files(db.parent)
    suite.inventory(inventory(db, "WITH x AS (SELECT 1) DELETE FROM heartbeats RETURNING 1")
                    + '\n[[probes]]\nname = "reads"\ncomponent = "coord"\ntype = "rows"\n'
                    "query = \"SELECT * FROM heartbeats WHERE at > 5\"\n")
    result = suite.run(checks=CHECKS)
    assert files(db.parent) == before
    result.assert_outcomes(failed=1, passed=1)
    result.stdout.fnmatch_lines(["probe hostile on coord: refused: DELETE heartbeats (probes "
                                 "are read-only: SQLite's authorizer allows reads only); query: *"])


@pytest.mark.parametrize("statement", [
    "VACUUM INTO '{folder}/copy.db'",
    "ATTACH '{folder}/evil.db' AS evil",
    "DELETE FROM heartbeats",
    "PRAGMA journal_mode=delete",
    "PRAGMA user_version=7",
    "SELECT count(*) FROM pragma_table_info('heartbeats')",
    "BEGIN IMMEDIATE",
])
def test_the_target_connection_allows_reads_only_whatever_the_sql(db, statement):
    """Below the probe checks: the connection itself refuses, for any caller."""
    folder = db.parent
    before = files(folder)
    target = SqliteTarget.open(SqliteComponent(name="coord", path=db))
    try:
        with pytest.raises(sqlite3.DatabaseError, match=r"not authorized|authorization denied"):
            target.conn.execute(statement.replace("{folder}", str(folder))).fetchall()
        assert target.rows("SELECT count(*) AS n FROM heartbeats") == [{"n": 2}]
        assert target.quick_check() == [] and target.journal_mode() == "delete"
    finally:
        target.close()
    assert files(folder) == before


def test_pragmas_are_judged_by_sqlites_own_table_of_queries():
    bare, with_arg = query_pragmas()
    assert {"journal_mode", "schema_version", "page_count", "quick_check"} <= bare
    assert {"quick_check", "integrity_check", "table_info", "foreign_key_check"} <= with_arg
    assert not {"wal_checkpoint", "incremental_vacuum", "optimize", "shrink_memory"} & bare
    assert not {"journal_mode", "user_version", "optimize"} & with_arg
