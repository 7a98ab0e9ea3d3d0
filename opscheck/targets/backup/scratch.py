"""Scratch space for deep backup checks: temporary folders and THROWAWAY PostgreSQL databases.

This is the one place where a check writes. Every scratch object is named loudly and
uniquely (``opscheck_restore_<host>_<pid>_<random>``; folders ``opscheck-restore-…``),
never a live database, and removed whatever happens:

- on success and on failure (context managers);
- on Ctrl-C, a pytest-timeout signal or SIGTERM (the exception unwinds through them);
- at interpreter exit (``atexit``) for anything still registered;
- and when a run was killed outright (SIGKILL, ``os._exit``): the next deep check sweeps
  scratch objects whose process on this host is gone.
"""

from __future__ import annotations

import atexit
import contextlib
import hashlib
import os
import re
import secrets
import shutil
import signal
import socket
import tempfile
import threading
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

from opscheck.targets.backup.sets import human_bytes
from opscheck.targets.backup.tools import BackupProblem, OverBudget
from opscheck.targets.postgres import Session, peer

HOST_TAG = hashlib.sha1(socket.gethostname().encode()).hexdigest()[:6]
DB_PREFIX = f"opscheck_restore_{HOST_TAG}_"
DIR_PREFIX = f"opscheck-restore-{HOST_TAG}-"
STALE = re.compile(r"^(?:opscheck_restore_|opscheck-restore-)[0-9a-f]{6}[_-](\d+)[_-]")
RESERVE = 64 * 1024 * 1024  # free space a scratch restore leaves on the disk

_cleanups: dict[str, Callable[[], None]] = {}


@atexit.register
def _at_exit() -> None:
    for cleanup in list(_cleanups.values()):
        with contextlib.suppress(Exception):
            cleanup()
    _cleanups.clear()


def _stale(name: str) -> bool:
    """Was ``name`` made on this host by a process that is gone?"""
    match = STALE.match(name)
    if not match or not (name.startswith(DB_PREFIX) or name.startswith(DIR_PREFIX)):
        return False
    try:
        os.kill(int(match[1]), 0)
    except ProcessLookupError:
        return True
    except PermissionError:
        return False
    return False


def within_budget(need: int, budget_mb: float, what: str) -> None:
    """Raise :class:`OverBudget` if ``need`` bytes pass the scratch budget."""
    budget = int(budget_mb * 1024 * 1024)
    if need > budget:
        raise OverBudget(f"{what} needs {human_bytes(need)}, over the scratch budget of "
                         f"{human_bytes(budget)}; raise scratch_budget_mb")


def ensure_room(where: Path, need: int, budget_mb: float, what: str) -> None:
    """Raise :class:`OverBudget` if ``need`` bytes pass the budget or the free space."""
    within_budget(need, budget_mb, what)
    free = shutil.disk_usage(where).free
    if need + RESERVE > free:
        raise OverBudget(f"{what} needs {human_bytes(need)} but {where} has only "
                         f"{human_bytes(free)} free; free space or set scratch_dir")


@contextlib.contextmanager
def scratch_folder(parent: str | None, need: int, budget_mb: float, what: str) -> Iterator[Path]:
    """A fresh temporary folder with room for ``need`` bytes, removed on exit."""
    base = Path(parent or tempfile.gettempdir())
    with contextlib.suppress(OSError):
        for entry in base.iterdir():
            if entry.name.startswith(DIR_PREFIX) and _stale(entry.name):
                shutil.rmtree(entry, ignore_errors=True)
    ensure_room(base, need, budget_mb, what)
    path = Path(tempfile.mkdtemp(prefix=f"{DIR_PREFIX}{os.getpid()}-", dir=base))
    key = str(path)
    _cleanups[key] = lambda: shutil.rmtree(path, ignore_errors=True)
    try:
        with terminate_as_interrupt():
            yield path
    finally:
        shutil.rmtree(path, ignore_errors=True)
        _cleanups.pop(key, None)


@contextlib.contextmanager
def terminate_as_interrupt() -> Iterator[None]:
    """While inside, SIGTERM unwinds like Ctrl-C, so scratch cleanup runs."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return

    def _raise(signum: int, frame: Any) -> None:
        raise KeyboardInterrupt(f"signal {signum}")

    previous = signal.signal(signal.SIGTERM, _raise)
    try:
        yield
    finally:
        signal.signal(signal.SIGTERM, previous)


class ScratchDatabase:
    """A throwaway database on a PostgreSQL server: created on enter, dropped on exit.

    ``conninfo`` names the server (and a database the role may connect to for CREATE and
    DROP DATABASE); the scratch database gets a new, unique name, never an existing one.
    """

    def __init__(self, conninfo: str, password: str | None, timeout: float) -> None:
        self.server = conninfo
        self.password = password
        self.timeout = timeout
        self.name = f"{DB_PREFIX}{os.getpid()}_{secrets.token_hex(4)}"

    def _admin(self) -> Session:
        """A session on the server, each statement within the timeout (server and client)."""
        db = Session.connect(self.server, self.password, self.timeout, peer(self.server),
                             autocommit=True)
        db.execute(f"SET statement_timeout = {int(self.timeout * 1000)}")
        return db

    @property
    def conninfo(self) -> str:
        """Connection string of the scratch database (same server, user, options)."""
        from psycopg.conninfo import make_conninfo

        return make_conninfo(self.server, dbname=self.name)

    def __enter__(self) -> ScratchDatabase:
        from psycopg import sql

        with self._admin() as conn:
            for (name,) in conn.execute("SELECT datname FROM pg_database WHERE datname LIKE "
                                        "'opscheck\\_restore\\_%'"):
                if _stale(name):
                    conn.execute(sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(
                        sql.Identifier(name)))
            _cleanups[self.name] = self.drop
            try:
                conn.execute(sql.SQL("CREATE DATABASE {} TEMPLATE template0").format(
                    sql.Identifier(self.name)))
            except TimeoutError:  # the server stopped answering; the next run's sweep
                _cleanups.pop(self.name, None)  # drops what it may have created
                raise
            except Exception as exc:
                _cleanups.pop(self.name, None)
                raise BackupProblem(f"cannot create the scratch database {self.name}: "
                                    f"{exc}".splitlines()[0] + "; grant the role CREATEDB or "
                                    "set restore_dsn") from None
        return self

    def drop(self) -> None:
        """DROP DATABASE … WITH (FORCE): also ends a restore still connected to it."""
        from psycopg import sql

        with self._admin() as conn:
            conn.execute(sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(
                sql.Identifier(self.name)))
        _cleanups.pop(self.name, None)

    def __exit__(self, *exc: object) -> None:
        self.drop()
