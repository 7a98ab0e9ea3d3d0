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
from opscheck.targets.backup import archives, restore, sets
from opscheck.targets.backup.tools import BackupProblem, Deadline


class BackupTarget:
    """One backup set on disk, and its live source component (or None)."""

    def __init__(self, component: BackupComponent, source: Any) -> None:
        self.component = component
        self.source = source

    def __str__(self) -> str:
        return self.component.name

    @cached_property
    def backups(self) -> list[sets.Backup]:
        """The set's backups, oldest first (the manifest files excluded)."""
        c = self.component
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
        with self.verdict():
            return archives.verify(backup, self.component.format, deadline,
                                   self.component.pg_bindir)

    def restore(self, backup: sets.Backup, deadline: Deadline) -> str:
        """Restore ``backup`` into scratch and compare it (deep tier); skips if not applicable.
        Returns what matched; raises BackupProblem (a CheckFailed: the check's verdict) when
        the restore fails or differs from the live source."""
        try:
            with self.verdict():
                return restore.restore_and_compare(self.component, self.source, backup,
                                                   deadline)
        except NotApplicable as exc:
            raise NotApplicable(f"{self}: {exc}") from None

    def checksum_problems(self, backups: list[sets.Backup]) -> list[str]:
        manifest = self.component.manifest
        if manifest is None:
            raise NotApplicable(f"{self} has no manifest configured (set manifest = "
                                "\"SHA256SUMS\")")
        try:
            sums = sets.read_manifests(self.component.dir, manifest)
        except sets.ManifestError as exc:
            raise BackupProblem(f"{self}: {exc}") from None
        return sets.checksum_problems(backups, sums)

    @classmethod
    def open(cls, component: BackupComponent) -> BackupTarget:
        return cls(component, component.source_component)

