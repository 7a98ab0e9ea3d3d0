"""The members of a set of backup folders (``[[components.members]]``): each file the job
writes into every dated folder is in the newest one, whole (critical), reads through with its
format's tool (standard) and restores into scratch by its format (deep).

The Agentic Factory's nightly ``backups/factory/YYYY-MM-DD/`` (AF:551-600): orchestrator.db
(SQLite), timescaledb.sql.gz (pg_dump | gzip), redis-dump.rdb, agent-memory/ and queue/.
"""

import pytest

from opscheck.targets.backup.sets import human_bytes
from opscheck.thresholds import Threshold

ACTION = "Check the backup job's step for it (its log), and run the job by hand"


@pytest.mark.critical
@pytest.mark.backup
def test_backup_member_present(backup_component, newest_backup, member):
    """The newest backup folder holds the member, each file at least min_bytes (a folder
    member: at least one file)."""
    c, newest = backup_component.component, newest_backup
    found = backup_component.member_files(newest, member)
    assert found, (f"{c.name} newest backup {newest.name} has no {member.path} (a "
                   f"{member.format} member). Action: {ACTION}")
    empty = [f for f in found if f.files == 0 or f.size < member.min_bytes]
    assert not empty, (
        f"{c.name} newest backup {newest.name}: {empty[0].name} is empty ({empty[0].size} "
        f"bytes in {empty[0].files} file(s)), expected at least {member.min_bytes} bytes. "
        f"Action: {ACTION}")


@pytest.mark.critical
@pytest.mark.backup
def test_backup_member_not_truncated(backup_component, newest_backup, member, measure):
    """The member in the newest folder is at least min_size_ratio of its size in the folder
    before (a dump cut short by a full disk or a killed job)."""
    c = backup_component.component
    previous = backup_component.previous
    before = backup_component.member_files(previous, member) if previous else []
    size_before = sum(f.size for f in before)
    if not size_before:
        pytest.skip(f"{c.name} has no earlier {member.path} to compare with")
    now = backup_component.member_files(newest_backup, member)
    if not now:
        pytest.skip(f"{c.name} newest backup has no {member.path} "
                    "(test_backup_member_present reports it)")
    size_now = sum(f.size for f in now)
    measure(f"{member.path} size vs previous folder", round(100.0 * size_now / size_before, 1),
            Threshold(critical=100 * c.min_size_ratio, direction="below", unit="%",
                      action="It was probably cut short (disk full, killed job): check the "
                             "job's log and run it again"),
            detail=f"{newest_backup.name} {human_bytes(size_now)}, {previous.name} "
                   f"{human_bytes(size_before)}")


@pytest.mark.standard
@pytest.mark.backup
def test_backup_member_readable(backup_component, newest_backup, member, backup_deadline):
    """The member reads through with its format's tool: gunzip to the end, pg_dump's last
    line, SQLite quick_check, redis-check-rdb, tar listed; a file read to its end.

    The verdict is raised deep: ``verify_member`` raises BackupProblem (a CheckFailed)
    naming the set, the folder and the member that is unreadable."""
    backup_component.verify_member(newest_backup, member, backup_deadline)


@pytest.mark.deep
@pytest.mark.backup
def test_backup_member_restores(backup_component, newest_backup, member, backup_deadline):
    """The member restores into scratch by its format (a pg_dump into a throwaway database,
    a SQLite copy through integrity_check, a tarball extracted) and matches its source's
    row counts; skipped where the format has no restore beyond the read-through.

    The verdict is raised deep: ``restore_member`` raises BackupProblem (a CheckFailed)."""
    backup_component.restore_member(newest_backup, member, backup_deadline)
