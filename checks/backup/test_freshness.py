"""Critical: the newest backup exists, is young enough, is not empty and is not truncated."""

import pytest

from opscheck.targets.backup.sets import HOUR, human_bytes
from opscheck.thresholds import Threshold

ACTION_JOB = "Check the backup job (cron entry, its log) and run it by hand"


@pytest.mark.critical
@pytest.mark.backup
def test_newest_backup_is_fresh(backup_component, measure):
    """The newest backup is younger than max_age_hours (e.g. daily: 26 h)."""
    c = backup_component.component
    assert backup_component.backups, (
        f"{c.name} has no backup at all: {backup_component.missing()}. Action: {ACTION_JOB}")
    newest = backup_component.newest
    measure("newest backup age", round(newest.age() / HOUR, 1),
            Threshold(critical=c.max_age_hours, unit="h", action=ACTION_JOB), detail=newest.name)


@pytest.mark.critical
@pytest.mark.backup
def test_newest_backup_not_empty(backup_component, newest_backup):
    """The newest backup holds at least min_bytes (a folder: at least one file)."""
    c, newest = backup_component.component, newest_backup
    assert newest.files > 0 and newest.size >= c.min_bytes, (
        f"{c.name} newest backup {newest.name} is empty: {newest.size} bytes in "
        f"{newest.files} file(s), expected at least {c.min_bytes} bytes. Action: {ACTION_JOB}")


@pytest.mark.critical
@pytest.mark.backup
def test_newest_backup_not_truncated(backup_component, newest_backup, measure):
    """The newest backup is at least min_size_ratio of the previous one's size."""
    c = backup_component.component
    newest, previous = newest_backup, backup_component.previous
    if previous is None or previous.size == 0:
        pytest.skip(f"{c.name} has no earlier backup to compare {newest.name} with")
    measure("newest backup size vs previous", round(100.0 * newest.size / previous.size, 1),
            Threshold(critical=100 * c.min_size_ratio, direction="below", unit="%",
                      action="The dump was probably cut short (disk full, killed job): "
                             "check the job's log and run it again"),
            detail=f"{newest.name} {human_bytes(newest.size)}, previous {previous.name} "
                   f"{human_bytes(previous.size)}")
