"""Standard: the newest backups read through with their own tools (no restore)."""

import pytest


@pytest.mark.standard
@pytest.mark.backup
def test_backup_readable(backup_component, newest_backup, backup_deadline):
    """tar/gzip list to the end; pg_restore --list and a read-through; a plain dump's last
    line; SQLite quick_check (read-only); redis-check-rdb. The newest verify_last backups.

    The verdict is raised deep: ``verify`` raises BackupProblem (a CheckFailed) naming the
    component, the backup and what is unreadable."""
    c = backup_component.component
    for backup in reversed(backup_component.backups[-c.verify_last:]):
        backup_component.verify(backup, backup_deadline)
