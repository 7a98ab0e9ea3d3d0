"""Backup verification: the facts behind the ``backup`` kind's checks.

- :mod:`.sets`: which backups exist, their ages, sizes and manifest checksums;
- :mod:`.archives`: is a backup readable, each format read through by its own tool;
- :mod:`.restore`: deep proof, restored into scratch and compared with the live source;
- :mod:`.scratch`: the scratch folders and throwaway databases, always removed;
- :mod:`.live`: read-only row counts from the live source;
- :mod:`.tools`: the external tools, found and run within a deadline.
"""

from opscheck.targets.backup.target import BackupTarget

__all__ = ["BackupTarget"]
