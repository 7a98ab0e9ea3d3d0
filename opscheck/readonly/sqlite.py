"""SQLite: reads only, whatever the SQL, decided by SQLite's authorizer.

``mode=ro`` keeps the main file from being written, but not the files a statement names:
``VACUUM INTO '/any/path'`` and ``ATTACH '/any/path' AS x`` (then ``CREATE TABLE x.t``)
write wherever they are told. Every connection a check opens is made by :func:`connect`,
which installs an authorizer that SQLite consults for every action of every statement as
it is prepared, and allows only:

- reading tables and columns, ``SELECT``, recursive ``WITH``;
- functions, except ``load_extension`` and ``fts3_tokenizer`` (they load code);
- a ``PRAGMA`` that SQLite itself declares a query in that form: it has a table-valued
  function (SQLite's "returns results and has no side effects"), and, when given an
  argument, that function takes it as its hidden ``arg`` column (``quick_check(10)``,
  ``table_info(t)``; not ``journal_mode=wal``); less ``optimize``, a query that also runs
  ``ANALYZE``.

Everything else is denied: writes, ``ATTACH`` (so ``VACUUM``, which attaches its target),
``DETACH``, transactions, savepoints, schema changes, ``ANALYZE``, ``REINDEX`` of a named
index. Table-valued pragma functions (``SELECT * FROM pragma_table_info('t')``) are denied
too (SQLite authorizes them as a schema update): use the ``PRAGMA`` statement. A statement
that prompts no authorizer call at all (a bare ``REINDEX``) is refused at load by
:func:`statement_problem`, which also admits one statement only.
"""

from __future__ import annotations

import functools
import re
import sqlite3
from contextlib import closing
from typing import Any

READS = {sqlite3.SQLITE_READ, sqlite3.SQLITE_SELECT, sqlite3.SQLITE_RECURSIVE}
LOADS_CODE = frozenset({"load_extension", "fts3_tokenizer"})
NOT_QUERIES = frozenset({"optimize"})  # declared a query by SQLite, yet runs ANALYZE
#: the statements a probe may be: reads (WITH and VALUES are SELECTs; PRAGMA as judged above)
STATEMENTS = ("SELECT", "WITH", "VALUES", "PRAGMA")
ACTIONS = {getattr(sqlite3, f"SQLITE_{name}"): name.replace("_", " ") for name in (
    "CREATE_INDEX", "CREATE_TABLE", "CREATE_TEMP_INDEX", "CREATE_TEMP_TABLE",
    "CREATE_TEMP_TRIGGER", "CREATE_TEMP_VIEW", "CREATE_TRIGGER", "CREATE_VIEW", "DELETE",
    "DROP_INDEX", "DROP_TABLE", "DROP_TEMP_INDEX", "DROP_TEMP_TABLE", "DROP_TEMP_TRIGGER",
    "DROP_TEMP_VIEW", "DROP_TRIGGER", "DROP_VIEW", "INSERT", "PRAGMA", "READ", "SELECT",
    "TRANSACTION", "UPDATE", "ATTACH", "DETACH", "ALTER_TABLE", "REINDEX", "ANALYZE",
    "CREATE_VTABLE", "DROP_VTABLE", "FUNCTION", "SAVEPOINT", "RECURSIVE")}
BLANK = re.compile(r"(?:\s+|;|--[^\n]*|/\*.*?\*/)*", re.S)
FIRST_WORD = re.compile(r"[A-Za-z]+")


@functools.cache
def query_pragmas() -> tuple[frozenset[str], frozenset[str]]:
    """(pragmas SQLite answers as a query without argument, those it answers with one)."""
    with closing(sqlite3.connect(":memory:")) as conn:
        bare, with_arg = set(), set()
        for (name,) in conn.execute("PRAGMA pragma_list").fetchall():
            columns = conn.execute(f"PRAGMA table_xinfo(pragma_{name})").fetchall()
            if columns:
                bare.add(name)
            if any(col[1] == "arg" and col[6] for col in columns):  # hidden column "arg"
                with_arg.add(name)
    return frozenset(bare - NOT_QUERIES), frozenset(with_arg - NOT_QUERIES)


def allowed(action: int, arg1: str | None, arg2: str | None) -> bool:
    """Does the read-only policy allow this authorizer action (see the module's text)?"""
    if action in READS:
        return True
    if action == sqlite3.SQLITE_FUNCTION:
        return (arg2 or "").lower() not in LOADS_CODE
    if action == sqlite3.SQLITE_PRAGMA:
        bare, with_arg = query_pragmas()
        return (arg1 or "").lower() in (bare if arg2 is None else with_arg)
    return False


class ReadOnlyConnection(sqlite3.Connection):
    """A connection whose authorizer allows reads only; ``refused`` names the last denial."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.refused: str | None = None
        self.set_authorizer(self._authorize)

    def _authorize(self, action: int, arg1: str | None, arg2: str | None, _db: str | None,
                   _trigger: str | None) -> int:
        if allowed(action, arg1, arg2):
            return sqlite3.SQLITE_OK
        what = ACTIONS.get(action, f"action {action}")
        shown = " ".join(str(a) for a in (arg1, arg2) if a)
        self.refused = f"{what} {shown}".strip()
        return sqlite3.SQLITE_DENY


def connect(uri: str, timeout: float) -> ReadOnlyConnection:
    """A read-only connection to ``uri`` (``file:…?mode=ro``) with the read-only authorizer."""
    conn = sqlite3.connect(uri, uri=True, timeout=timeout, check_same_thread=False,
                           factory=ReadOnlyConnection)
    assert isinstance(conn, ReadOnlyConnection)
    return conn


def statement_problem(query: str) -> str | None:
    """Why ``query`` cannot be a probe (not one reading statement), or None.

    The statement's end is found by SQLite's own tokenizer (``sqlite3_complete``); a PRAGMA
    is judged by the authorizer itself, on an empty in-memory database.
    """
    text = query[BLANK.match(query).end():]  # type: ignore[union-attr]  # matches always
    word = FIRST_WORD.match(text)
    first = word.group(0).upper() if word else ""
    if first not in STATEMENTS:
        return (f"{first or 'the query'} is not a read: a probe is one statement of "
                f"{', '.join(STATEMENTS)} (probes are read-only)")
    for end in (i for i, char in enumerate(text) if char == ";"):
        if sqlite3.complete_statement(text[: end + 1]):
            if not BLANK.fullmatch(text[end + 1:]):
                return "holds more than one statement: a probe is exactly one statement"
            break
    if first == "PRAGMA":
        with closing(connect("file::memory:", 1.0)) as conn:
            try:
                conn.execute(f"EXPLAIN {text}")
            except sqlite3.Error as exc:
                refused = conn.refused
                return (f"refused: {refused} is not a PRAGMA SQLite answers as a query (it "
                        "sets or acts, or is unknown); probes are read-only" if refused
                        else f"PRAGMA fails: {exc}")
    return None


def refusal(conn: sqlite3.Connection, exc: sqlite3.Error) -> str:
    """The one line for ``exc``, naming what the authorizer refused where it did."""
    refused = getattr(conn, "refused", None)
    if refused and "authoriz" in str(exc):
        return f"refused: {refused} (probes are read-only: SQLite's authorizer allows reads only)"
    return f"query failed: {type(exc).__name__}: {exc}"
