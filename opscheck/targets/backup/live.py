"""Read-only facts from a backup's live source and its restored copy: row counts, sizes.

The live source is read with the connection settings of its own component (a postgres
component's ``dsn`` + ``password_env``, an sqlite component's ``path``, a redis
component's ``url`` + ``password_env``), in a read-only transaction with a
``statement_timeout`` (PostgreSQL) or through a ``mode=ro`` URI (SQLite). A PostgreSQL
statement is bounded on the client too (:class:`~opscheck.targets.postgres.Session`): a
server that stops answering after the handshake costs the deadline, not the run.
"""

from __future__ import annotations

import sqlite3
from pathlib import Path
from typing import Any

from opscheck.readonly import sqlite as readonly
from opscheck.targets.backup.tools import BackupProblem, Deadline
from opscheck.targets.postgres import Session, peer


def pg_server(source: Any) -> tuple[str, str | None]:
    """(conninfo, password) of a postgres component."""
    dsn = getattr(source, "dsn", None)
    if not dsn:
        raise BackupProblem(f"source {source} has no dsn to read row counts from")
    secret = source.secret("password_env") if hasattr(source, "password_env") else None
    return dsn, secret


def pg_counts(conninfo: str, password: str | None, tables: list[str], deadline: Deadline,
              timeout: float) -> dict[str, int | None]:
    """Exact row count per table (None where the table does not exist), read-only; each
    statement ends within what is left of the deadline, on the server and on the client."""
    from psycopg import sql  # lazily: only deep PostgreSQL checks need it

    counts: dict[str, int | None] = {}
    with Session.connect(conninfo, password, min(timeout, deadline.left()),
                         peer(conninfo)) as db:
        db.conn.read_only = True
        left = deadline.left()
        db.execute(f"SET statement_timeout = {int(left * 1000)}")
        for table in tables:
            exists = db.execute("SELECT to_regclass(%s)", [table], *_rest(deadline))
            if not exists or exists[0][0] is None:
                counts[table] = None
                continue
            ident = sql.Identifier(*table.split("."))
            rows = db.execute(sql.SQL("SELECT count(*) FROM {}").format(ident), None,
                              *_rest(deadline))
            counts[table] = int(rows[0][0]) if rows else 0
    return counts


def _rest(deadline: Deadline) -> tuple[float, str]:
    """(seconds, their words) a statement may take: what is left of the restore budget."""
    left = deadline.left()
    return left, f"the {left:.1f} s left of its {deadline.seconds:g} s budget"


def pg_database_size(conninfo: str, password: str | None, timeout: float) -> int:
    """Bytes the source database takes on its server: what a restore will need."""
    with Session.connect(conninfo, password, timeout, peer(conninfo)) as db:
        db.conn.read_only = True
        db.execute(f"SET statement_timeout = {int(timeout * 1000)}")
        rows = db.execute("SELECT pg_database_size(current_database())")
    return int(rows[0][0]) if rows else 0


def sqlite_counts(path: Path, tables: list[str], deadline: Deadline,
                  immutable: bool = False) -> dict[str, int | None]:
    """Row count per table (None where absent), opened read-only (``mode=ro``)."""
    uri = f"file:{path}?mode=ro" + ("&immutable=1" if immutable else "")
    try:
        conn = readonly.connect(uri, min(5.0, deadline.left()))
    except sqlite3.Error as exc:
        raise BackupProblem(f"cannot open {path} read-only: {exc}") from None
    counts: dict[str, int | None] = {}
    try:
        for table in tables:
            schema, _, name = table.rpartition(".")
            master = f'"{schema}".sqlite_master' if schema else "sqlite_master"
            found = conn.execute(f"SELECT 1 FROM {master} WHERE type='table' AND name=?",
                                 [name]).fetchone()
            if not found:
                counts[table] = None
                continue
            quoted = ".".join(f'"{part}"' for part in table.split("."))
            counts[table] = int(conn.execute(f"SELECT count(*) FROM {quoted}").fetchone()[0])
            deadline.left()
    finally:
        conn.close()
    return counts


def compare_counts(restored: dict[str, int | None], live: dict[str, int | None],
                   tolerance_pct: float) -> list[str]:
    """One line per table whose restored row count is off the live one by more than allowed."""
    problems = []
    for table, want in live.items():
        got = restored.get(table)
        if want is None:
            problems.append(f"table {table} does not exist in the live source; fix tables")
        elif got is None:
            problems.append(f"table {table} is missing from the restored backup")
        elif abs(got - want) > want * tolerance_pct / 100:
            diff = 100.0 * (got - want) / want if want else 100.0
            problems.append(f"table {table} restored {got} rows vs {want} live ({diff:+.1f}%, "
                            f"tolerance ±{tolerance_pct:g}%)")
    return problems
