"""Deep proof: restore a backup into scratch and compare it with its live source.

- PostgreSQL dump: restored with the real tools (``pg_restore --exit-on-error``, or
  ``psql -v ON_ERROR_STOP=1`` for a plain dump) into a THROWAWAY database created on the
  restore server and dropped afterwards; row counts of ``tables`` held against the live one.
  The tools are killed at the restore budget (``restore_timeout``); every statement opscheck
  sends itself ends on the client within the component's timeout (sizes, CREATE and DROP
  DATABASE) or what is left of the budget (row counts), so a server that stops answering
  after the handshake fails the check in one line, at its deadline;
- SQLite: copied into a scratch folder, ``PRAGMA integrity_check``, row counts compared;
- tarball: extracted into a scratch folder (``filter="data"``), expected files present
  and parseable; a snapshot folder is checked in place.

Disk and time are budgeted before anything is written; see :mod:`opscheck.targets.backup.scratch`.
"""

from __future__ import annotations

import lzma
import math
import os
import subprocess
import tarfile
from pathlib import Path
from typing import Any

from opscheck.errors import NotApplicable
from opscheck.targets.backup import archives, contents, live, scratch
from opscheck.targets.backup.sets import CHUNK, Backup
from opscheck.targets.backup.tools import BackupProblem, Deadline, error_line, find_tool, run_tool

PG_GROWTH = 4  # a custom dump restores to about this many times its size


def restore_and_compare(component: Any, source: Any, backup: Backup, deadline: Deadline) -> str:
    """Restore ``backup`` into scratch, compare it; return the one-line fact or raise."""
    fmt = component.format
    if fmt in ("pg_custom", "pg_plain"):
        try:
            return _postgres(component, source, backup, deadline)
        except TimeoutError as exc:  # a server that stopped answering (named in exc): the
            # restore failed; the backup's files are as readable as before
            raise BackupProblem(f"restoring {backup.name}: {exc}") from None
    if fmt == "sqlite":
        return _sqlite(component, source, backup, deadline)
    if fmt == "tar":
        return _tar(component, backup, deadline)
    if fmt == "folder":
        return _expected(component, backup.path, backup, deadline, "in place")
    raise NotApplicable(f"format {fmt} has no restore beyond the standard read-through")


def _problems(component: Any, backup: Backup, what: str, problems: list[str]) -> None:
    if problems:
        more = f" (and {len(problems) - 1} more)" if len(problems) > 1 else ""
        raise BackupProblem(f"{backup.name} {what}: {problems[0]}{more}")


def _postgres(component: Any, source: Any, backup: Backup, deadline: Deadline) -> str:
    if component.restore_dsn:
        server, password = component.restore_dsn, component.secret("restore_password_env")
    elif source is not None:
        server, password = live.pg_server(source)
    else:
        raise NotApplicable("no server for the scratch database: set source or restore_dsn")
    timeout = component.timeout
    need = backup.size * PG_GROWTH
    if source is not None:
        need = max(need, live.pg_database_size(*live.pg_server(source), timeout))
    scratch.within_budget(need, component.scratch_budget_mb, f"restoring {backup.name}")
    with scratch.terminate_as_interrupt(), \
            scratch.ScratchDatabase(server, password, timeout) as db:
        _pg_load(component, backup, db, password, deadline)
        if not component.tables:
            return f"{backup.name} restored into scratch database {db.name}"
        restored = live.pg_counts(db.conninfo, password, component.tables, deadline, timeout)
    wanted = live.pg_counts(*live.pg_server(source), component.tables, deadline, timeout)
    _problems(component, backup, "restored short of the live data", live.compare_counts(
        restored, wanted, component.row_tolerance_pct))
    return f"{backup.name} restored; row counts of {len(wanted)} tables match the live source"


def _pg_load(component: Any, backup: Backup, db: scratch.ScratchDatabase,
             password: str | None, deadline: Deadline) -> None:
    env = {k: v for k, v in os.environ.items() if not k.startswith("PG")}
    env["PGCONNECT_TIMEOUT"] = str(max(2, math.ceil(component.timeout)))  # libpq: >= 2 s
    if password:
        env["PGPASSWORD"] = password
    if component.format == "pg_custom":
        args = [find_tool("pg_restore", component.pg_bindir), "--exit-on-error", "--no-owner",
                "--no-privileges", f"--dbname={db.conninfo}", str(backup.path)]
        code, out = run_tool(args, deadline, env=env)
    else:
        args = [find_tool("psql", component.pg_bindir), "-X", "-q", "-v", "ON_ERROR_STOP=1",
                f"--dbname={db.conninfo}", "-f", "-"]
        with archives.open_maybe_compressed(backup.path) as dump:
            if isinstance(dump, archives.gzip.GzipFile | archives.bz2.BZ2File
                          | archives.lzma.LZMAFile):
                with scratch.scratch_folder(component.scratch_dir, backup.size * 10,
                                            component.scratch_budget_mb,
                                            f"decompressing {backup.name}") as tmp:
                    plain = tmp / "dump.sql"
                    _copy(dump, plain, deadline)
                    with plain.open("rb") as stdin:
                        code, out = run_tool(args, deadline, env=env, stdin=stdin,
                                             stdout=subprocess.DEVNULL)
            else:
                code, out = run_tool(args, deadline, env=env, stdin=dump,
                                     stdout=subprocess.DEVNULL)
    if code != 0:
        tool = Path(args[0]).name
        raise BackupProblem(f"restoring {backup.name} into scratch database {db.name} failed: "
                            f"{tool} exited {code}: {error_line(out)}")


def _copy(stream: Any, target: Path, deadline: Deadline) -> None:
    with target.open("wb") as out:
        while chunk := stream.read(CHUNK):
            out.write(chunk)
            deadline.left()


def _sqlite(component: Any, source: Any, backup: Backup, deadline: Deadline) -> str:
    with scratch.scratch_folder(component.scratch_dir, backup.size, component.scratch_budget_mb,
                                f"copying {backup.name}") as tmp:
        copy = tmp / backup.name
        with backup.path.open("rb") as stream:
            _copy(stream, copy, deadline)
        archives.sqlite_check(copy, "integrity_check", deadline)
        if not component.tables:
            return f"{backup.name} copied to scratch: integrity_check ok"
        restored = live.sqlite_counts(copy, component.tables, deadline, immutable=True)
    wanted = live.sqlite_counts(Path(source.path), component.tables, deadline)
    _problems(component, backup, "holds fewer rows than allowed", live.compare_counts(
        restored, wanted, component.row_tolerance_pct))
    return f"{backup.name}: integrity_check ok; row counts of {len(wanted)} tables match"


def _tar(component: Any, backup: Backup, deadline: Deadline) -> str:
    try:
        return _extract(component, backup, deadline)
    except (OSError, EOFError, tarfile.TarError, lzma.LZMAError) as exc:
        raise BackupProblem(f"{backup.name} cannot be extracted: {type(exc).__name__}: "
                            f"{str(exc).splitlines()[0] if str(exc) else ''}") from None


def _extract(component: Any, backup: Backup, deadline: Deadline) -> str:
    with archives.open_maybe_compressed(backup.path) as raw, tarfile.open(fileobj=raw) as tar:
        members = tar.getmembers()
    need = sum(m.size for m in members if m.isfile())
    with scratch.scratch_folder(component.scratch_dir, need, component.scratch_budget_mb,
                                f"extracting {backup.name}") as tmp:
        with archives.open_maybe_compressed(backup.path) as raw, \
                tarfile.open(fileobj=raw, mode="r|") as tar:
            for member in tar:
                tar.extract(member, tmp, filter="data")
                deadline.left()
        return _expected(component, tmp, backup, deadline, f"extracted ({len(members)} members)")


def _expected(component: Any, root: Path, backup: Backup, deadline: Deadline, how: str) -> str:
    if not component.expected_files:
        raise NotApplicable("no expected_files configured: list the files the backup must hold")
    parsed, problems = contents.check_expected(root, component.expected_files, deadline)
    _problems(component, backup, how, problems)
    return f"{backup.name} {how}: {len(component.expected_files)} expected paths present, " \
           f"{parsed} files parse"


