"""Is a backup readable? Each format read through by its own tool, without restoring it.

- tar: every member listed and the compressed stream read to its end (CRC checked);
- gzip: decompressed to its end;
- pg_custom: ``pg_restore --list`` (the table of contents), then every data block read
  (``pg_restore --file=/dev/null``: a truncated custom dump still lists);
- pg_plain: ends with the line pg_dump writes last, ``-- PostgreSQL database dump complete``;
- sqlite: opens read-only and passes ``PRAGMA quick_check``;
- redis_rdb: ``redis-check-rdb`` says "RDB looks OK";
- folder: holds at least one file.
"""

from __future__ import annotations

import bz2
import gzip
import lzma
import os
import sqlite3
import tarfile
from collections.abc import Callable
from pathlib import Path
from typing import Any, BinaryIO

from opscheck.readonly import sqlite as readonly
from opscheck.targets.backup.sets import CHUNK, Backup
from opscheck.targets.backup.tools import BackupProblem, Deadline, error_line, find_tool, run_tool

PG_DONE = b"-- PostgreSQL database dump complete"
TAIL = 64 * 1024
MAGIC: dict[bytes, Callable[[Path, str], Any]] = {
    b"\x1f\x8b": gzip.open, b"BZh": bz2.open, b"\xfd7zXZ": lzma.open}


def open_maybe_compressed(path: Path) -> BinaryIO:
    """``path`` opened for reading, decompressing gzip, bzip2 or xz by its magic bytes."""
    with path.open("rb") as handle:
        head = handle.read(6)
    for magic, opener in MAGIC.items():
        if head.startswith(magic):
            return opener(path, "rb")
    return path.open("rb")


def verify(backup: Backup, fmt: str, deadline: Deadline, bindir: str | None = None) -> str:
    """Read ``backup`` through as format ``fmt``; return a short fact, raise BackupProblem."""
    try:
        return READERS[fmt](backup, deadline, bindir)
    except (OSError, EOFError, tarfile.TarError, lzma.LZMAError, sqlite3.Error) as exc:
        raise BackupProblem(f"{backup.name} unreadable as {fmt}: "
                            f"{type(exc).__name__}: {exc}") from None


def drain(stream: BinaryIO | gzip.GzipFile, deadline: Deadline) -> bytes:
    """Read ``stream`` to its end (checking CRCs); return its last 64 kB."""
    tail = b""
    while chunk := stream.read(CHUNK):
        tail = (tail + chunk)[-TAIL:]
        deadline.left()
    return tail


def _tar(backup: Backup, deadline: Deadline, _: str | None) -> str:
    with open_maybe_compressed(backup.path) as raw, tarfile.open(fileobj=raw, mode="r|") as tar:
        members = 0
        for _member in tar:
            members += 1
            deadline.left()
        drain(raw, deadline)
    if members == 0:
        raise BackupProblem(f"{backup.name} is a tar archive with no members")
    return f"{members} members"


def _gzip(backup: Backup, deadline: Deadline, _: str | None) -> str:
    with gzip.open(backup.path, "rb") as stream:
        drain(stream, deadline)
    return "gzip stream complete"


def _pg_custom(backup: Backup, deadline: Deadline, bindir: str | None) -> str:
    tool = find_tool("pg_restore", bindir)
    code, out = run_tool([tool, "--list", str(backup.path)], deadline)
    if code != 0:
        raise BackupProblem(f"{backup.name}: pg_restore --list exited {code}: {error_line(out)}")
    entries = sum(1 for line in out.splitlines() if line and not line.startswith(";"))
    code, out = run_tool([tool, "--file=/dev/null", str(backup.path)], deadline)
    if code != 0:
        raise BackupProblem(f"{backup.name}: pg_restore could not read it through (exit "
                            f"{code}): {error_line(out)}; the dump is truncated or corrupt")
    return f"{entries} TOC entries"


def _pg_plain(backup: Backup, deadline: Deadline, _: str | None) -> str:
    with open_maybe_compressed(backup.path) as stream:
        if isinstance(stream, gzip.GzipFile | bz2.BZ2File | lzma.LZMAFile):
            tail = drain(stream, deadline)
        else:
            stream.seek(max(0, backup.size - TAIL))
            tail = stream.read()
    if PG_DONE not in tail:
        raise BackupProblem(f"{backup.name} lacks pg_dump's last line "
                            f"'{PG_DONE.decode()}': the dump was cut short")
    return "completion marker present"


def _sqlite(backup: Backup, deadline: Deadline, _: str | None) -> str:
    return sqlite_check(backup.path, "quick_check", deadline)


def sqlite_check(path: Path, pragma: str, deadline: Deadline) -> str:
    """Run ``PRAGMA quick_check``/``integrity_check`` read-only; raise on anything but ok."""
    uri = f"file:{path}?mode=ro&immutable=1"
    conn = readonly.connect(uri, deadline.left())
    try:
        conn.set_progress_handler(lambda: _expired(deadline), 10_000)
        rows = [r[0] for r in conn.execute(f"PRAGMA {pragma}").fetchall()]
    except sqlite3.OperationalError as exc:
        if "interrupted" in str(exc):
            raise deadline.expired() from None
        raise BackupProblem(f"{path.name} is not a usable SQLite database: {exc}") from None
    except sqlite3.DatabaseError as exc:
        raise BackupProblem(f"{path.name} is not a usable SQLite database: {exc}") from None
    finally:
        conn.close()
    if rows != ["ok"]:
        raise BackupProblem(f"{path.name} fails PRAGMA {pragma}: {rows[0]}"
                            + (f" (and {len(rows) - 1} more)" if len(rows) > 1 else ""))
    return f"{pragma} ok"


def _expired(deadline: Deadline) -> int:
    try:
        deadline.left()
    except BackupProblem:
        return 1
    return 0


def _redis_rdb(backup: Backup, deadline: Deadline, _: str | None) -> str:
    code, out = run_tool([find_tool("redis-check-rdb"), str(backup.path)], deadline)
    if code != 0 or "RDB looks OK" not in out:
        detail = next((line.split("]", 1)[-1].strip() for line in out.splitlines()
                       if "RDB ERROR" not in line and line.startswith("[offset")
                       and ("Unexpected" in line or "rror" in line or "Wrong" in line)),
                      error_line(out))
        raise BackupProblem(f"{backup.name}: redis-check-rdb exited {code}: {detail}")
    return rdb_keys(out)


def rdb_keys(output: str) -> str:
    """``1000 keys`` from redis-check-rdb's ``[info] 1000 keys read`` line."""
    for line in output.splitlines():
        if line.startswith("[info]") and line.endswith("keys read"):
            return line.removeprefix("[info]").strip().removesuffix(" read")
    return "RDB looks OK"


def _folder(backup: Backup, deadline: Deadline, _: str | None) -> str:
    if backup.files == 0:
        raise BackupProblem(f"snapshot folder {backup.name} holds no files")
    for dirpath, _dirs, names in os.walk(backup.path):
        for name in names:
            if not os.access(os.path.join(dirpath, name), os.R_OK):
                raise BackupProblem(f"{backup.name}: {name} is not readable")
        deadline.left()
    return f"{backup.files} files"


READERS: dict[str, Callable[[Backup, Deadline, str | None], str]] = {
    "tar": _tar, "gzip": _gzip, "pg_custom": _pg_custom, "pg_plain": _pg_plain,
    "sqlite": _sqlite, "redis_rdb": _redis_rdb, "folder": _folder,
}
