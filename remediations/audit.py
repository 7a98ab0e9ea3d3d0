"""The audit log: one JSON line per remediation decision, appended, never rewritten.

Each record says when, where (host, user, pid, run), what check found what (node id,
component, evidence), which action with which parameters (redacted), in which mode, the
attempt number, the decision (``ran``, ``planned`` or ``skipped: <why>``) and, when it
ran, the exit status, duration, re-check result and the action's output (redacted).
A record is one ``write()`` to a file opened ``O_APPEND`` under an exclusive ``flock``, so
concurrent runs and xdist workers never interleave lines.
"""

from __future__ import annotations

import datetime as dt
import fcntl
import getpass
import json
import os
import re
import socket
import time
from pathlib import Path
from typing import Any

from opscheck import secrets

OUTPUT_LIMIT = 4000
#: ``--password=x``, ``token: x``, ``Authorization: Bearer x``: values after a secret-ish key
SECRET_ASSIGNMENT = re.compile(
    r"(?i)\b(password|passwd|secret|token|api[_-]?key|authorization)(\s*[=:]\s*|\s+)"
    r"(bearer\s+)?([^\s'\"&]+)")
URL_PASSWORD = re.compile(r"(\w+://[^:/@\s]*:)([^@\s]+)(@)")


def scrub(text: str) -> str:
    """``text`` with remembered secrets, URL passwords and ``key=value`` secrets masked."""
    text = secrets.redact(text)
    text = URL_PASSWORD.sub(lambda m: m.group(1) + secrets.MASK + m.group(3), text)
    return SECRET_ASSIGNMENT.sub(
        lambda m: m.group(1) + m.group(2) + (m.group(3) or "") + secrets.MASK, text)


def scrub_any(obj: Any) -> Any:
    """Scrub strings inside lists and dicts; a value under a secret-ish key is masked."""
    if isinstance(obj, str):
        return scrub(obj)
    if isinstance(obj, dict):
        return {k: (secrets.MASK if secrets.SECRET_KEY.search(str(k)) and v else scrub_any(v))
                for k, v in obj.items()}
    if isinstance(obj, list | tuple):
        return [scrub_any(v) for v in obj]
    return obj


def tail(text: str, limit: int = OUTPUT_LIMIT) -> str:
    """The last ``limit`` characters of an action's output, scrubbed."""
    text = scrub(text)
    return text if len(text) <= limit else "…" + text[-limit:]


def _user() -> str:
    try:
        return getpass.getuser()
    except (KeyError, OSError):
        return str(os.getuid())


class AuditLog:
    """Appends records to one JSON-lines file (created 0600 with its folder if missing)."""

    def __init__(self, path: Path | str, run: str) -> None:
        self.path = Path(path)
        self.run = run
        self.host = socket.gethostname()
        self.user = _user()

    def touch(self) -> None:
        """Create the log (and its folder) if missing; raises OSError if it cannot be written."""
        self.path.parent.mkdir(parents=True, exist_ok=True)
        os.close(os.open(self.path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o600))

    def record(self, **fields: Any) -> dict[str, Any]:
        entry = {
            "time": dt.datetime.now(dt.UTC).isoformat(timespec="milliseconds"),
            "host": self.host, "user": self.user, "pid": os.getpid(), "run": self.run,
            **{k: scrub_any(v) for k, v in fields.items()},
        }
        line = (json.dumps(entry, ensure_ascii=False, default=str) + "\n").encode()
        self.path.parent.mkdir(parents=True, exist_ok=True)
        fd = os.open(self.path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o600)
        try:
            _lock(fd)
            os.write(fd, line)
            os.fsync(fd)
        finally:
            os.close(fd)
        return entry


#: seconds to wait for another writer's lock; then the record is appended without it (one
#: O_APPEND write): a hung holder must neither lose the record nor hang the run
LOCK_WAIT = 10.0


def _lock(fd: int) -> None:
    deadline = time.monotonic() + LOCK_WAIT
    while True:
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
            return
        except BlockingIOError:
            if time.monotonic() > deadline:
                return
            time.sleep(0.02)


def read(path: Path | str) -> list[dict[str, Any]]:
    """Every record of an audit log (for reports and tests)."""
    p = Path(path)
    if not p.exists():
        return []
    return [json.loads(line) for line in p.read_text(encoding="utf-8").splitlines() if line]
