"""SQLite checks against real database files: healthy passes, each fault fails."""

from __future__ import annotations

import os
import shutil
import sqlite3
from pathlib import Path

import pytest

ALL = ("sqlite",)
SCHEMA = """
CREATE TABLE loops (id INTEGER PRIMARY KEY, name TEXT NOT NULL);
CREATE TABLE tests (id INTEGER PRIMARY KEY, loop_id INTEGER REFERENCES loops(id),
                    status TEXT, payload TEXT);
CREATE INDEX tests_status ON tests(status);
"""


def make_db(path: Path, journal_mode: str = "wal", rows: int = 2000) -> Path:
    """A coordination-like database of about 60 pages, closed cleanly."""
    conn = sqlite3.connect(path)
    conn.execute(f"PRAGMA journal_mode={journal_mode}")
    conn.executescript(SCHEMA)
    conn.executemany("INSERT INTO loops VALUES (?, ?)", [(i, f"loop-{i}") for i in (1, 2, 3)])
    conn.executemany("INSERT INTO tests (loop_id, status, payload) VALUES (?, ?, ?)",
                     [(1 + i % 3, "pending", "x" * 100) for i in range(rows)])
    conn.commit()
    conn.close()
    return path


def sqlite_inventory(path: Path, extra: str = "", name: str = "coord") -> str:
    return f'[[components]]\nname = "{name}"\nkind = "sqlite"\npath = "{path}"\n{extra}'


@pytest.fixture
def db(tmp_path: Path) -> Path:
    return make_db(tmp_path / "coordination.db")


def test_healthy_wal_database_passes_every_check(suite, db):
    writer = sqlite3.connect(db)  # the application keeps it open: the -wal file exists
    writer.execute("INSERT INTO tests (loop_id, status) VALUES (1, 'in_progress')")
    writer.commit()
    suite.inventory(sqlite_inventory(db, 'journal_mode = "wal"\n'))
    result = suite.run(checks=ALL)
    writer.close()
    result.assert_outcomes(passed=6)
    result.stdout.fnmatch_lines(["coord (sqlite): 6 passed"])


def test_relative_path_is_resolved_against_the_inventory(suite):
    make_db(suite.path / "rel.db", rows=10)
    suite.inventory(sqlite_inventory(Path("rel.db")))
    result = suite.run("-m", "critical", checks=ALL)
    result.assert_outcomes(passed=1)


def test_missing_file_fails_in_one_line_and_is_never_created(suite, tmp_path):
    missing = tmp_path / "nowhere.db"
    suite.inventory(sqlite_inventory(missing))
    result = suite.run(checks=ALL)
    result.assert_outcomes(failed=1, errors=4, skipped=1)  # no journal_mode set: skipped
    result.stdout.fnmatch_lines([f"coord unreachable at {missing}: FileNotFoundError: "
                                 f"no database file at {missing}"])
    assert not missing.exists()


def corrupt_page(path: Path, page: int) -> None:
    size = sqlite3.connect(path).execute("PRAGMA page_size").fetchone()[0]
    with path.open("r+b") as f:
        f.seek((page - 1) * size)
        f.write(os.urandom(size))


def test_a_page_overwritten_with_garbage_fails_quick_and_integrity_check(suite, db, tmp_path):
    copy = tmp_path / "copy.db"
    conn = sqlite3.connect(db)
    conn.execute("PRAGMA journal_mode=delete")
    conn.close()
    shutil.copy(db, copy)
    corrupt_page(copy, 20)
    suite.inventory(sqlite_inventory(copy))
    result = suite.run("-k", "quick_check or integrity_check or foreign", checks=ALL)
    result.assert_outcomes(failed=3)
    result.stdout.fnmatch_lines(["*coord quick_check: * (expected ok). Action: pause the "
                                 "writers, restore the latest good backup*"])
    result.stdout.fnmatch_lines(["*coord integrity_check: * (expected ok)*"])
    result.stdout.fnmatch_lines(["*coord foreign_key_check: 1 problem(s): DatabaseError: *"])


def test_journal_mode_delete_where_wal_is_expected_fails(suite, tmp_path):
    path = make_db(tmp_path / "delete.db", journal_mode="delete", rows=10)
    suite.inventory(sqlite_inventory(path, 'journal_mode = "wal"\n'))
    result = suite.run("-k", "journal", checks=ALL)
    result.assert_outcomes(failed=1)
    result.stdout.fnmatch_lines(["*coord journal_mode is delete (expected wal). "
                                 "Action: PRAGMA journal_mode=wal with the writers paused*"])


def test_file_and_wal_over_their_levels_fail(suite, db):
    writer = sqlite3.connect(db)
    writer.execute("PRAGMA wal_autocheckpoint=0")  # checkpoints starved: the WAL only grows
    writer.executemany("INSERT INTO tests (loop_id, payload) VALUES (1, ?)",
                       [("y" * 1000,) for _ in range(1000)])
    writer.commit()
    suite.inventory(sqlite_inventory(
        db, "[components.thresholds.size]\nwarning = 0.05\ncritical = 0.1\n"
            "[components.thresholds.wal_size]\nwarning = 0.5\ncritical = 0.9\n"))
    result = suite.run("-k", "size", checks=ALL)
    writer.close()
    result.assert_outcomes(failed=2)
    result.stdout.fnmatch_lines(["*coord file size * MB ≥ critical 0.1 MB (warning 0.05 MB). "
                                 "Action: Archive old rows and VACUUM*"])
    result.stdout.fnmatch_lines(["*coord WAL size * MB ≥ critical 0.9 MB*"])


def test_file_size_over_warning_only_warns(suite, db):
    suite.inventory(sqlite_inventory(db, "[components.thresholds.size]\nwarning = 0.05\n"))
    result = suite.run("-k", "file_size", checks=ALL)
    result.assert_outcomes(passed=1, warnings=1)


def test_dangling_foreign_key_fails_the_deep_check(suite, db):
    conn = sqlite3.connect(db)  # foreign_keys is off by default, as in many applications
    conn.execute("INSERT INTO tests (id, loop_id, status) VALUES (9001, 42, 'pending')")
    conn.commit()
    conn.close()
    suite.inventory(sqlite_inventory(db))
    result = suite.run("-m", "deep", checks=ALL)
    result.assert_outcomes(passed=1, failed=1)
    result.stdout.fnmatch_lines(["*coord foreign_key_check: 1 problem(s): tests rowid 9001 -> "
                                 "loops (expected none)*"])


def test_bad_journal_mode_in_the_inventory_is_a_usage_error(suite, db):
    suite.inventory(sqlite_inventory(db, 'journal_mode = "wall"\n'))
    result = suite.run(checks=ALL)
    assert result.ret == 4
    result.stderr.fnmatch_lines(["*inventory.toml: components[[]0[]] (coord).journal_mode: *"])
