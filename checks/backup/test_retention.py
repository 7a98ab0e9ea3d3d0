"""Standard: retention holds (enough kept, none too old) and checksums match the manifest."""

import pytest

from opscheck.targets.backup.sets import DAY

ACTION_PRUNE = "Check the pruning step of the backup job (find -mtime, its retention)"


@pytest.mark.standard
@pytest.mark.backup
def test_enough_backups_kept(backup_component):
    """At least keep_min backups are kept (and at most keep_max, when set)."""
    c = backup_component.component
    count = len(backup_component.backups)
    assert count >= c.keep_min, (
        f"{c.name} keeps {count} backup(s) matching {c.pattern} in {c.dir}, expected at "
        f"least {c.keep_min}. Action: check that the backup job runs on schedule and that "
        "pruning does not remove too many")
    assert c.keep_max is None or count <= c.keep_max, (
        f"{c.name} keeps {count} backups, expected at most {c.keep_max}. Action: {ACTION_PRUNE}")


@pytest.mark.standard
@pytest.mark.backup
@pytest.mark.applies(lambda c: c.retention_days is not None, "sets no retention_days")
def test_no_backup_past_retention(backup_component):
    """No backup is older than retention_days (the runbooks: 30 or 90 days, 7 for Redis)."""
    c = backup_component.component
    expired = [b for b in backup_component.backups if b.age() > c.retention_days * DAY]
    assert not expired, (
        f"{c.name} keeps {len(expired)} backup(s) past its retention of "
        f"{c.retention_days:g} d; oldest {expired[0].name} is {expired[0].age() / DAY:.1f} d "
        f"old. Action: {ACTION_PRUNE}")


@pytest.mark.standard
@pytest.mark.backup
def test_checksums_match_manifest(backup_component):
    """Every backup file's SHA-256 matches its line in the manifest (sha256sum format)."""
    c = backup_component.component
    backups = backup_component.backups
    if not backups:
        pytest.skip(f"{c.name} has no backup to checksum")
    problems = backup_component.checksum_problems(backups)
    assert not problems, (
        f"{c.name} checksum mismatch: {problems[0]}"
        + (f" (and {len(problems) - 1} more)" if len(problems) > 1 else "")
        + ". Action: the file changed after it was written: do not restore it; take a new backup")
