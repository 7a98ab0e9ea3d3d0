"""Deep: restore the newest backup into scratch and compare it with the live source.

The one check that writes: into a throwaway database named ``opscheck_restore_…`` or a
temporary folder, both removed on success, failure, timeout and Ctrl-C.
"""

import pytest


@pytest.mark.deep
@pytest.mark.backup
def test_backup_restores(backup_component, newest_backup, backup_deadline):
    """PostgreSQL: restored into a scratch database, row counts vs live; SQLite: copy +
    integrity_check + row counts; tarball: extracted, expected files present and parseable.

    The verdict is raised deep: ``restore`` raises BackupProblem (a CheckFailed) naming the
    component and what failed or differed; it returns only when the restore matched."""
    backup_component.restore(newest_backup, backup_deadline)
