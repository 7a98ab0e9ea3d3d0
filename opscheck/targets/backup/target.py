"""Backup sets: the facts a backup check reads.

A backup set is "reachable" as long as its component is configured: a missing folder
or no backup at all is what the checks report, not a connection failure. The live
source the set backs up is looked up in the inventory by name (``source``). What the
target's facts find wrong is raised as :class:`~opscheck.targets.backup.tools.BackupProblem` (a
:class:`~opscheck.errors.CheckFailed`) whose message starts with the component's name:
the check's one-line verdict.
"""

from __future__ import annotations

import contextlib
import os
from collections.abc import Iterator
from functools import cached_property
from typing import Any

from opscheck.components.backup import BackupComponent
from opscheck.errors import CouldNotRun, NotApplicable
from opscheck.targets.backup import archives, members, restore, s3, scratch, sets
from opscheck.targets.backup.tools import BackupProblem, Deadline


class BackupTarget:
    """One backup set on disk, and its live source component (or None)."""

    def __init__(self, component: BackupComponent, source: Any) -> None:
        self.component = component
        self.source = source
        where = component.s3
        self.s3 = s3.S3Set(*where, component.aws_component) if where else None

    def __str__(self) -> str:
        return self.component.name

    @cached_property
    def backups(self) -> list[sets.Backup]:
        """The set's backups, oldest first (the manifest files excluded)."""
        c = self.component
        if self.s3 is not None:
            return self.s3.backups(c.pattern, exclude=c.manifest)
        return sets.list_backups(c.dir, c.pattern, exclude=c.manifest)

    @property
    def newest(self) -> sets.Backup:
        """The newest backup; "could not run" when there is none (the freshness check fails)."""
        if not self.backups:
            raise CouldNotRun(f"could not run: {self} has no backup to check ({self.missing()})")
        return self.backups[-1]

    @property
    def previous(self) -> sets.Backup | None:
        return self.backups[-2] if len(self.backups) > 1 else None

    def missing(self) -> str:
        """Why no backup was found: the folder is absent, or nothing matches."""
        c = self.component
        if self.s3 is not None:
            return (f"bucket {self.s3.bucket} does not exist" if self.s3.bucket_missing
                    else f"nothing in {c.dir} matches {c.pattern}")
        if not os.path.isdir(c.dir):
            return f"folder {c.dir} does not exist"
        return f"nothing in {c.dir} matches {c.pattern}"

    @contextlib.contextmanager
    def verdict(self) -> Iterator[None]:
        """A BackupProblem raised inside, re-raised with the component's name in front."""
        try:
            yield
        except BackupProblem as exc:
            text = str(exc)
            if text.startswith((f"{self} ", f"{self}:")):
                raise
            raise type(exc)(f"{self}: {text}") from None

    def verify(self, backup: sets.Backup, deadline: Deadline) -> str:
        """Read ``backup`` through with its format's tool (standard tier); return what was
        read. Raises BackupProblem (a CheckFailed: the check's verdict) when it is unreadable."""
        with self.verdict(), self.local(backup, deadline) as copy:
            return archives.verify(copy, self.component.format, deadline,
                                   self.component.pg_bindir)

    @contextlib.contextmanager
    def local(self, backup: sets.Backup, deadline: Deadline) -> Iterator[sets.Backup]:
        """``backup`` itself, or (an S3 set's) a copy downloaded into a scratch folder within
        the scratch budget and ``deadline``, removed on exit."""
        if self.s3 is None:
            yield backup
            return
        c = self.component
        with scratch.scratch_folder(c.scratch_dir, backup.size, c.scratch_budget_mb,
                                    f"downloading {backup.name} from {c.dir}") as tmp:
            yield self.s3.fetch(backup, tmp, deadline)

    def restore(self, backup: sets.Backup, deadline: Deadline) -> str:
        """Restore ``backup`` into scratch and compare it (deep tier); skips if not applicable.
        Returns what matched; raises BackupProblem (a CheckFailed: the check's verdict) when
        the restore fails or differs from the live source."""
        try:
            with self.verdict(), self.local(backup, deadline) as copy:
                return restore.restore_and_compare(self.component, self.source, copy,
                                                   deadline)
        except NotApplicable as exc:
            raise NotApplicable(f"{self}: {exc}") from None

    def checksum_problems(self, backups: list[sets.Backup]) -> list[str]:
        manifest = self.component.manifest
        if manifest is None:
            raise NotApplicable(f"{self} has no manifest configured (set manifest = "
                                "\"SHA256SUMS\")")
        try:
            if self.s3 is not None:
                deadline = Deadline(self.component.restore_timeout, f"{self} checksums")
                return self.s3.checksum_problems(backups, self.s3.manifest(manifest), deadline)
            sums = sets.read_manifests(self.component.dir, manifest)
        except sets.ManifestError as exc:
            raise BackupProblem(f"{self}: {exc}") from None
        return sets.checksum_problems(backups, sums)

    # -- members of a folder set (dated folders holding the job's files) --------------
    def member_files(self, backup: sets.Backup, member: Any) -> list[sets.Backup]:
        """The files (or folders) of ``member`` in the folder ``backup``: globbed on disk,
        or found among an S3 folder's objects (nothing downloaded)."""
        if self.s3 is not None:
            return members.in_s3(backup, self.s3.objects.get(backup.name, []), member)
        return members.on_disk(backup.path, member)

    def verify_member(self, backup: sets.Backup, member: Any, deadline: Deadline) -> list[str]:
        """Each of the member's files in ``backup`` read through by its format (an S3
        folder first downloaded into scratch); BackupProblem naming the one unreadable."""
        with self.verdict(), self.local(backup, deadline) as copy:
            found = members.local(copy, member)
            if not found:
                raise BackupProblem(f"{backup.name} has no {member.path}")
            return [f"{f.name}: {members.verify(f, member, deadline)}" for f in found]

    def restore_member(self, backup: sets.Backup, member: Any, deadline: Deadline) -> list[str]:
        """Each of the member's files in ``backup`` restored into scratch by its format and
        compared with the member's source; skipped where its format has no restore."""
        source = self.component.member_source(member)
        try:
            with self.verdict(), self.local(backup, deadline) as copy:
                found = members.local(copy, member)
                if not found:
                    raise BackupProblem(f"{backup.name} has no {member.path}")
                return [members.restored(self.component, member, source, f, deadline)
                        for f in found]
        except NotApplicable as exc:
            raise NotApplicable(f"{self} {member.path}: {exc}") from None

    @classmethod
    def open(cls, component: BackupComponent) -> BackupTarget:
        """The set; an S3 set is listed now (within its aws component's timeout), so an
        unreachable bucket fails its first check and the others could not run."""
        target = cls(component, component.source_component)
        if target.s3 is not None:
            _ = target.backups
        return target

    def close(self) -> None:
        if self.s3 is not None:
            self.s3.close()

