"""SQLite files: present and readable, intact, in the expected journal mode, not oversized."""

import pytest


@pytest.mark.critical
@pytest.mark.sqlite
def test_sqlite_quick_check(sqlite_component):
    """The file exists, opens read-only, and ``PRAGMA quick_check`` says ok."""
    problems = sqlite_component.quick_check()
    assert not problems, (f"{sqlite_component} quick_check: {'; '.join(problems)} (expected ok). "
                          "Action: pause the writers, restore the latest good backup")


@pytest.mark.standard
@pytest.mark.sqlite
@pytest.mark.applies(lambda c: c.journal_mode is not None, "sets no journal_mode")
def test_sqlite_journal_mode(sqlite_component):
    """journal_mode is the one the inventory expects (coding loops: wal)."""
    expected = sqlite_component.component.journal_mode
    mode = sqlite_component.journal_mode()
    assert mode == expected, (f"{sqlite_component} journal_mode is {mode} (expected {expected}). "
                              f"Action: PRAGMA journal_mode={expected} with the writers paused")


@pytest.mark.standard
@pytest.mark.sqlite
def test_sqlite_file_size(sqlite_component, measure):
    """Database file size (coding loops: warning 500 MB, critical 1 GB)."""
    measure("file size", sqlite_component.size_mb(), sqlite_component.thresholds.size)


@pytest.mark.standard
@pytest.mark.sqlite
def test_sqlite_wal_size(sqlite_component, measure):
    """Size of the -wal file: one that keeps growing means checkpoints cannot finish."""
    size = sqlite_component.wal_size_mb()
    if size is None:
        pytest.skip(f"{sqlite_component} has no -wal file")
    measure("WAL size", size, sqlite_component.thresholds.wal_size)


@pytest.mark.deep
@pytest.mark.sqlite
def test_sqlite_integrity_check(sqlite_component):
    """``PRAGMA integrity_check``: every page, index and constraint."""
    problems = sqlite_component.integrity_check()
    assert not problems, (f"{sqlite_component} integrity_check: {'; '.join(problems)} "
                          "(expected ok). Action: restore the latest good backup")


@pytest.mark.deep
@pytest.mark.sqlite
def test_sqlite_foreign_keys(sqlite_component):
    """``PRAGMA foreign_key_check``: no row points at a parent that does not exist."""
    bad = sqlite_component.foreign_key_violations()
    shown = "; ".join(bad[:10])
    more = f" (+{len(bad) - 10} more)" if len(bad) > 10 else ""
    assert not bad, (f"{sqlite_component} foreign_key_check: {len(bad)} problem(s): "
                     f"{shown}{more} (expected none)")
