"""The members of a backup folder: found, read through and restored, each by its format.

A folder set's backup is a folder (``2026-12-01/``) holding the job's files; a
:class:`~opscheck.components.backup.Member` names one of them and its format. On disk
the member is found by globbing inside the folder; in an S3 set, among the folder's object
keys (no download needed to see it is there and how big). Reading one through or restoring
it works on a local copy: the folder itself, or (S3) the folder downloaded into scratch.
"""

from __future__ import annotations

import fnmatch
import os
from pathlib import Path
from typing import Any

from opscheck.components.backup import Member
from opscheck.targets.backup import archives, contents, restore
from opscheck.targets.backup.sets import Backup, tree_size
from opscheck.targets.backup.tools import BackupProblem, Deadline


def on_disk(folder: Path, member: Member) -> list[Backup]:
    """The member's files (or folders) inside ``folder``, by name."""
    found = []
    for path in sorted(folder.glob(member.path)):
        if path.is_dir():
            size, files = tree_size(path)
        elif path.is_file():
            size, files = path.stat().st_size, 1
        else:
            continue
        found.append(Backup(path, path.stat().st_mtime, size, files))
    return found


def in_s3(folder: Backup, objects: list[tuple[str, int]], member: Member) -> list[Backup]:
    """The member's files among an S3 folder's ``(key, size)`` objects (ages: the folder's)."""
    prefix = folder.key or ""
    groups: dict[str, list[int]] = {}
    for key, size in objects:
        rel = key[len(prefix):]
        if fnmatch.fnmatchcase(rel, member.path):
            groups.setdefault(rel, []).append(size)
            continue
        parts = rel.split("/")
        for depth in range(1, len(parts)):  # a folder member: the objects beneath it
            head = "/".join(parts[:depth])
            if fnmatch.fnmatchcase(head, member.path):
                groups.setdefault(head + "/", []).append(size)
                break
    return [Backup(Path(rel.rstrip("/")), folder.mtime, sum(sizes), len(sizes),
                   key=prefix + rel) for rel, sizes in sorted(groups.items())]


def verify(path: Backup, member: Member, deadline: Deadline) -> str:
    """Read one member file through with its format's reader; BackupProblem if unreadable."""
    if member.format == "file":
        try:
            with path.path.open("rb") as handle:
                archives.drain(handle, deadline)
        except OSError as exc:
            raise BackupProblem(f"{path.name} unreadable: {exc}") from None
        return f"{path.size} bytes read"
    if member.format == "folder" and member.expected_files:
        parsed, problems = contents.check_expected(path.path, member.expected_files, deadline)
        if problems:
            raise BackupProblem(f"{path.name}: {problems[0]}" + (
                f" (and {len(problems) - 1} more)" if len(problems) > 1 else ""))
        return f"{parsed} files parse"
    return archives.verify(path, member.format, deadline)


def restored(component: Any, member: Member, source: Any, path: Backup,
             deadline: Deadline) -> str:
    """Restore one member file into scratch by its format and compare it with ``source``
    (the set's scratch and restore settings; the member's format, tables and files)."""
    view = component.model_copy(update={"format": member.format, "tables": member.tables,
                                        "expected_files": member.expected_files,
                                        "source": member.source})
    return restore.restore_and_compare(view, source, path, deadline)


def local(copy: Backup, member: Member) -> list[Backup]:
    """The member's files inside a local copy of the folder (``copy.path``)."""
    if not os.path.isdir(copy.path):
        raise BackupProblem(f"{copy.name} is not a folder: it holds no members")
    return on_disk(copy.path, member)
