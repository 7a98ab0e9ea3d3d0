"""The backups of a set as files on disk: which exist, how old and big, and their checksums.

A backup is a file (or, for snapshot folders, a directory) in ``dir`` whose name matches
``pattern``; its age is its modification time's. Manifests are ``sha256sum`` output:
``<64 hex digits>  <name>`` per line (``*name`` for binary mode is accepted too).
"""

from __future__ import annotations

import fnmatch
import hashlib
import os
import re
import time
from dataclasses import dataclass
from pathlib import Path

HOUR = 3600.0
DAY = 86400.0
CHUNK = 1 << 20
SUM_LINE = re.compile(r"^(?P<digest>[0-9a-fA-F]{64}) [ *](?P<name>.+)$")


@dataclass(frozen=True)
class Backup:
    path: Path
    mtime: float
    size: int  # bytes; for a folder the sum of its files
    files: int  # 1 for a file; the number of files in a folder
    #: in an S3 set: the object's key, or a folder's prefix (ending in "/"); ``path`` is then
    #: the bare name, never opened (the checks read a downloaded copy)
    key: str | None = None

    @property
    def name(self) -> str:
        return self.path.name

    def age(self, now: float | None = None) -> float:
        """Seconds since the backup was last written."""
        return (time.time() if now is None else now) - self.mtime


class ManifestError(ValueError):
    """A manifest that cannot be read or parsed: ``str()`` names the file and line."""


def list_backups(folder: str | Path, pattern: str, exclude: str | None = None) -> list[Backup]:
    """The backups in ``folder`` matching ``pattern``, oldest first. [] if the folder is absent."""
    found: list[Backup] = []
    try:
        entries = list(os.scandir(folder))
    except FileNotFoundError:
        return []
    for entry in entries:
        if not fnmatch.fnmatchcase(entry.name, pattern):
            continue
        if exclude and fnmatch.fnmatchcase(entry.name, exclude):
            continue
        st = entry.stat()
        if entry.is_dir():
            size, files = tree_size(Path(entry.path))
            found.append(Backup(Path(entry.path), st.st_mtime, size, files))
        elif entry.is_file():
            found.append(Backup(Path(entry.path), st.st_mtime, st.st_size, 1))
    return sorted(found, key=lambda b: (b.mtime, b.name))


def tree_size(root: Path) -> tuple[int, int]:
    size = files = 0
    for dirpath, _, names in os.walk(root):
        for name in names:
            try:
                size += os.lstat(os.path.join(dirpath, name)).st_size
            except OSError:
                continue
            files += 1
    return size, files


def sha256(path: Path) -> str:
    """Hex SHA-256 of a file, read in 1 MiB chunks."""
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        while chunk := handle.read(CHUNK):
            digest.update(chunk)
    return digest.hexdigest()


def read_manifests(folder: str | Path, pattern: str) -> dict[str, str]:
    """name -> expected hex digest, from every manifest in ``folder`` matching ``pattern``."""
    sums: dict[str, str] = {}
    paths = sorted(p for p in Path(folder).glob(pattern) if p.is_file())
    if not paths:
        raise ManifestError(f"no manifest {pattern} in {folder}")
    for path in paths:
        try:
            text = path.read_text(encoding="utf-8")
        except (OSError, UnicodeDecodeError) as exc:
            raise ManifestError(f"manifest {path} unreadable: {exc}") from None
        sums.update(parse_manifest(text, str(path)))
    return sums


def parse_manifest(text: str, where: str) -> dict[str, str]:
    """name -> hex digest from one manifest's text (``where`` names it in errors)."""
    sums: dict[str, str] = {}
    for number, line in enumerate(text.splitlines(), 1):
        if not line.strip() or line.startswith("#"):
            continue
        match = SUM_LINE.match(line.rstrip("\r"))
        if not match:
            raise ManifestError(f"manifest {where} line {number} is not sha256sum output "
                                "('<64 hex>  <name>')")
        sums[Path(match["name"]).name] = match["digest"].lower()
    return sums


def checksum_problems(backups: list[Backup], sums: dict[str, str]) -> list[str]:
    """One line per backup file whose digest differs from, or is missing in, the manifest.

    Folders are skipped (a manifest lists files). Names in the manifest without a file
    are ignored: retention removes old backups before the manifest is rewritten.
    """
    problems = []
    for backup in backups:
        if backup.path.is_dir():
            continue
        expected = sums.get(backup.name)
        if expected is None:
            problems.append(f"{backup.name} is not listed in the manifest")
            continue
        actual = sha256(backup.path)
        if actual != expected:
            problems.append(f"{backup.name} sha256 {actual[:12]}… ≠ manifest {expected[:12]}…")
    return problems


def human_bytes(size: float) -> str:
    """``1.5 MB``-style size for messages."""
    for unit in ("B", "kB", "MB", "GB"):
        if abs(size) < 1000 or unit == "GB":
            return f"{size:.0f} {unit}" if unit == "B" else f"{size:.1f} {unit}"
        size /= 1000
    return f"{size:.1f} TB"  # pragma: no cover


def human_age(seconds: float) -> str:
    """``30.2 h`` or ``12.5 d`` for messages."""
    return f"{seconds / HOUR:.1f} h" if seconds < 2 * DAY else f"{seconds / DAY:.1f} d"
