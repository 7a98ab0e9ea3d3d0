"""External tools of the backup checks: found once, run bounded, killed on expiry.

Every run has a deadline (:class:`Deadline`): the tool runs in its own session and its
whole process group is killed when the time is up, when the check is interrupted
(Ctrl-C, a pytest-timeout signal) or when anything else ends the wait.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import signal
import subprocess
import time
from collections.abc import Sequence
from pathlib import Path
from typing import IO

from opscheck.errors import CheckFailed

PG_DIRS = "/usr/lib/postgresql/*/bin"
#: where each tool comes from, for the "not installed" line
PACKAGES = {"pg_restore": "postgresql-client", "psql": "postgresql-client",
            "redis-check-rdb": "redis-tools"}


class BackupProblem(CheckFailed):
    """What a backup check found wrong: ``str()`` is the one-line verdict (the target in
    fixtures/backup.py prefixes the component's name)."""


class OverBudget(BackupProblem):
    """A deep check would pass its time or disk budget; it stopped cleanly."""


class Deadline:
    """A time budget shared by every step of one check."""

    def __init__(self, seconds: float, what: str, fix: str = "raise restore_timeout") -> None:
        self.seconds = seconds
        self.what = what
        self.fix = fix
        self.end = time.monotonic() + seconds

    def left(self) -> float:
        """Seconds left; raises :class:`OverBudget` when none are."""
        left = self.end - time.monotonic()
        if left <= 0:
            raise self.expired()
        return left

    def expired(self) -> OverBudget:
        return OverBudget(f"{self.what} passed its time budget of {self.seconds:g} s and was "
                          f"stopped; {self.fix}")


def find_tool(name: str, bindir: str | None = None) -> str:
    """Path of ``name``: in ``bindir``, on PATH, or the newest /usr/lib/postgresql/*/bin."""
    candidates = [Path(bindir) / name] if bindir else []
    on_path = shutil.which(name)
    if on_path:
        candidates.append(Path(on_path))
    candidates += sorted(Path("/").glob(PG_DIRS.lstrip("/") + "/" + name), reverse=True)
    for path in candidates:
        if path.is_file() and os.access(path, os.X_OK):
            return str(path)
    package = PACKAGES.get(name, name)
    where = f" in {bindir}" if bindir else ""
    raise BackupProblem(f"{name} not found{where} nor on PATH nor in {PG_DIRS}; install "
                        f"{package} (apt-get install -y {package}) or set pg_bindir")


def run_tool(args: Sequence[str], deadline: Deadline, *, env: dict[str, str] | None = None,
             stdin: IO[bytes] | None = None, stdout: IO[bytes] | int | None = None,
             ) -> tuple[int, str]:
    """Run ``args`` until done or the deadline; return (exit code, its output's tail).

    stderr (and stdout unless redirected) is collected; the process group is killed on
    expiry or on any interruption, and the interruption propagates.
    """
    limit = deadline.left()
    proc = subprocess.Popen(
        list(args), stdin=stdin if stdin is not None else subprocess.DEVNULL,
        stdout=subprocess.PIPE if stdout is None else stdout,
        stderr=subprocess.STDOUT if stdout is None else subprocess.PIPE,
        env=env, start_new_session=True)
    try:
        out, err = proc.communicate(timeout=limit)
    except subprocess.TimeoutExpired:
        _kill(proc)
        raise deadline.expired() from None
    except BaseException:
        _kill(proc)
        raise
    return proc.returncode, ((out or b"") + (err or b"")).decode(errors="replace")


def _kill(proc: subprocess.Popen[bytes]) -> None:
    with contextlib.suppress(ProcessLookupError, PermissionError):
        os.killpg(proc.pid, signal.SIGKILL)
    with contextlib.suppress(subprocess.TimeoutExpired):
        proc.communicate(timeout=5)


def last_line(output: str, default: str = "no output") -> str:
    """The last non-empty line of a tool's output (its error, usually)."""
    lines = [line.strip() for line in output.splitlines() if line.strip()]
    return lines[-1] if lines else default


def error_line(output: str, default: str = "no output") -> str:
    """The first line that reads like an error, else the last line."""
    for line in output.splitlines():
        if "error" in line.lower() or "fatal" in line.lower():
            return line.strip()
    return last_line(output, default)
