"""Backup sets in S3: listed like a folder, read after a bounded download into scratch.

The set's backups are what lies directly under the prefix: each object whose name matches
``pattern``, and each first-level "folder" (the objects under ``prefix/<name>/``, its age
their newest LastModified, its size their sum). The listing runs within the aws component's
timeout; a download runs within the check's deadline and the scratch budget (checked before
a byte is written) and stops, its partial copy removed with its scratch folder, when
either is spent.
"""

from __future__ import annotations

import fnmatch
import functools
import hashlib
import threading
from pathlib import Path, PurePosixPath
from typing import Any

from opscheck.targets.aws.session import AwsError, AwsSession
from opscheck.targets.backup.sets import CHUNK, Backup, ManifestError, parse_manifest
from opscheck.targets.backup.tools import BackupProblem, Deadline

MANIFEST_MAX = 1 << 20  # a manifest larger than this is not a sha256sum file


class S3Set:
    """The objects of one ``s3://bucket/prefix/`` set, through the aws component's session."""

    def __init__(self, bucket: str, prefix: str, aws: Any) -> None:
        self.bucket, self.prefix = bucket, prefix
        self.session = AwsSession(aws)
        self.objects: dict[str, list[tuple[str, int]]] = {}  # backup name -> (key, size)
        self.bucket_missing = False

    @property
    def url(self) -> str:
        return f"s3://{self.bucket}/{self.prefix}"

    def backups(self, pattern: str, exclude: str | None = None) -> list[Backup]:
        """The set's backups, oldest first ([] when the bucket does not exist)."""
        try:
            pages = self.session.pages("s3", "list_objects_v2", Bucket=self.bucket,
                                       Prefix=self.prefix)
        except AwsError as exc:
            if exc.code != "NoSuchBucket":
                raise
            self.bucket_missing = True
            return []
        groups: dict[str, list[dict[str, Any]]] = {}
        for page in pages:
            for obj in page.get("Contents", []):
                rest = obj["Key"][len(self.prefix):]
                name = rest.split("/", 1)[0]
                if not name or not fnmatch.fnmatchcase(name, pattern) or \
                        (exclude and fnmatch.fnmatchcase(name, exclude)):
                    continue
                groups.setdefault(("/" if "/" in rest else "") + name, []).append(obj)
        found = []
        for tag, objs in groups.items():
            folder, name = tag.startswith("/"), tag.lstrip("/")
            files = [o for o in objs if not o["Key"].endswith("/")]  # no folder markers
            self.objects[name] = [(o["Key"], int(o["Size"])) for o in files]
            found.append(Backup(path=Path(name), size=sum(int(o["Size"]) for o in files),
                                mtime=max(o["LastModified"].timestamp() for o in objs),
                                files=len(files), key=self.prefix + name + ("/" if folder
                                                                            else "")))
        return sorted(found, key=lambda b: (b.mtime, b.name))

    def fetch(self, backup: Backup, into: Path, deadline: Deadline) -> Backup:
        """Download ``backup`` into the scratch folder ``into``; the local copy."""
        local = into / backup.name
        stop = threading.Event()
        try:
            self.session.within(deadline.left(), f"s3 download of {self.url}{backup.name}",
                                lambda: self._download(backup, local, stop))
        except TimeoutError:
            deadline.left()  # OverBudget when the deadline is what ran out
            raise
        finally:
            stop.set()  # a download past its deadline stops at its next chunk
        return Backup(local, backup.mtime, backup.size, backup.files)

    def _download(self, backup: Backup, local: Path, stop: threading.Event) -> None:
        client = self.session.client("s3")
        folder = bool(backup.key and backup.key.endswith("/"))
        for key, _size in self.objects.get(backup.name, []):
            target = local / PurePosixPath(key[len(backup.key or ""):].lstrip("/")) \
                if folder else local
            if folder and not target.resolve().is_relative_to(local.resolve()):
                raise BackupProblem(f"{backup.name}: object key {key!r} leaves its folder")
            target.parent.mkdir(parents=True, exist_ok=True)
            body = client.get_object(Bucket=self.bucket, Key=key)["Body"]
            with target.open("wb") as out:
                while chunk := body.read(CHUNK):
                    if stop.is_set():
                        return
                    out.write(chunk)
        if folder:
            local.mkdir(exist_ok=True)

    def manifest(self, pattern: str) -> dict[str, str]:
        """name -> digest from every manifest object under the prefix matching ``pattern``."""
        pages = self.session.pages("s3", "list_objects_v2", Bucket=self.bucket,
                                   Prefix=self.prefix, Delimiter="/")
        keys = sorted(o["Key"] for page in pages for o in page.get("Contents", [])
                      if fnmatch.fnmatchcase(o["Key"][len(self.prefix):], pattern))
        if not keys:
            raise ManifestError(f"no manifest {pattern} in {self.url}")
        sums: dict[str, str] = {}
        for key in keys:
            text = self.session.call("s3", "get_object", Bucket=self.bucket, Key=key,
                                     Range=f"bytes=0-{MANIFEST_MAX - 1}")["Body"].read()
            try:
                sums.update(parse_manifest(text.decode("utf-8"), f"s3://{self.bucket}/{key}"))
            except UnicodeDecodeError:
                raise ManifestError(f"manifest s3://{self.bucket}/{key} is not text") from None
        return sums

    def checksum_problems(self, backups: list[Backup], sums: dict[str, str],
                          deadline: Deadline) -> list[str]:
        """As :func:`~opscheck.targets.backup.sets.checksum_problems`, each object's SHA-256
        streamed from S3 within ``deadline`` (no scratch space needed)."""
        problems = []
        for backup in backups:
            if backup.key is None or backup.key.endswith("/"):
                continue
            expected = sums.get(backup.name)
            if expected is None:
                problems.append(f"{backup.name} is not listed in the manifest")
                continue
            key = backup.key
            actual = self.session.within(deadline.left(), f"s3 sha256 of {backup.name}",
                                         functools.partial(self._sha256, key))
            if actual != expected:
                problems.append(f"{backup.name} sha256 {actual[:12]}… ≠ manifest "
                                f"{expected[:12]}…")
        return problems

    def _sha256(self, key: str) -> str:
        digest = hashlib.sha256()
        body = self.session.client("s3").get_object(Bucket=self.bucket, Key=key)["Body"]
        while chunk := body.read(CHUNK):
            digest.update(chunk)
        return digest.hexdigest()

    def close(self) -> None:
        self.session.close()
