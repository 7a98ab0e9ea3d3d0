"""The shared state store: locks, attempts (budget, back-off) and open circuits, in SQLite.

Every decision is one ``BEGIN IMMEDIATE`` transaction (SQLite's write lock, waited for up to
``busy_timeout``), so suite runs, xdist workers and anything else on the host that shares the
file decide one at a time: the first takes the lock and records its attempt; the others see
it and skip ("locked", or "back-off" once it is done). WAL mode keeps readers unblocked.
A lock expires (its holder was killed) after the action's timeout plus a margin, or at once
when its holder's process is gone on this host. In plan mode the same transaction is rolled
back: the decision is computed, nothing is written.
"""

from __future__ import annotations

import os
import socket
import sqlite3
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

BUSY_MS = 30_000
LOCK_MARGIN = 60.0
HOST = socket.gethostname()
SCHEMA = """
CREATE TABLE IF NOT EXISTS attempts (id INTEGER PRIMARY KEY, key TEXT NOT NULL,
    started REAL NOT NULL, finished REAL, outcome TEXT NOT NULL, owner TEXT NOT NULL);
CREATE INDEX IF NOT EXISTS attempts_key ON attempts (key, started);
CREATE TABLE IF NOT EXISTS locks (key TEXT PRIMARY KEY, owner TEXT NOT NULL, host TEXT NOT NULL,
    pid INTEGER NOT NULL, acquired REAL NOT NULL, expires REAL NOT NULL);
CREATE TABLE IF NOT EXISTS circuits (key TEXT PRIMARY KEY, opened REAL NOT NULL,
    reason TEXT NOT NULL, healthy_since REAL);
"""


@dataclass(frozen=True)
class Policy:
    budget: int
    window: float
    backoff: float
    backoff_max: float
    cooldown: float
    hold: float  # how long the lock may be held: action timeout + settle + re-check

    def delay(self, attempts: int) -> float:
        """Back-off after the ``attempts``-th attempt: backoff, 2x, 4x … up to backoff_max."""
        return min(self.backoff * 2 ** max(attempts - 1, 0), self.backoff_max)


@dataclass(frozen=True)
class Decision:
    go: bool
    reason: str  # "" when go, else: budget, back-off, circuit open, locked
    detail: str
    attempt: int  # the attempt number this would be (or was last) within the window
    attempt_id: int | None = None


def _alive(host: str, pid: int) -> bool:
    if host != HOST:
        return True
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def _busy(exc: sqlite3.OperationalError) -> bool:
    return "locked" in str(exc) or "busy" in str(exc)


def _at(ts: float) -> str:
    return time.strftime("%H:%M:%S", time.localtime(ts))


class Store:
    """One SQLite file shared by every run that acts on the same deployment."""

    def __init__(self, path: Path | str, owner: str) -> None:
        self.path = Path(path)
        self.owner = owner
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self.db = sqlite3.connect(self.path, timeout=BUSY_MS / 1000, isolation_level=None)
        self.db.execute(f"PRAGMA busy_timeout = {BUSY_MS}")
        self._retry(self._setup)

    def _setup(self) -> None:
        """WAL mode and the schema; retried as a whole while another process holds a lock."""
        if self.db.in_transaction:
            self.db.execute("ROLLBACK")
        self.db.execute("PRAGMA journal_mode = WAL")
        with self.transaction() as db:
            for statement in filter(str.strip, SCHEMA.split(";")):
                db.execute(statement)

    def _retry(self, op: Callable[[], object]) -> None:
        deadline = time.monotonic() + BUSY_MS / 1000
        while True:
            try:
                op()
                return
            except sqlite3.OperationalError as exc:
                if not _busy(exc) or time.monotonic() > deadline:
                    raise
                time.sleep(0.05)

    @contextmanager
    def transaction(self, write: bool = True) -> Iterator[sqlite3.Connection]:
        """``BEGIN IMMEDIATE`` … COMMIT (or ROLLBACK when ``write`` is False or on error)."""
        self._retry(lambda: self.db.execute("BEGIN IMMEDIATE"))
        try:
            yield self.db
        except BaseException:
            self.db.execute("ROLLBACK")
            raise
        self.db.execute("COMMIT" if write else "ROLLBACK")

    def reserve(self, key: str, policy: Policy, write: bool = True) -> Decision:
        """Decide whether ``key`` may act now; if so take its lock and record the attempt."""
        now = time.time()
        with self.transaction(write) as db:
            circuit = db.execute("SELECT opened, reason, healthy_since FROM circuits WHERE key=?",
                                 (key,)).fetchone()
            recent = db.execute(
                "SELECT count(*), max(started) FROM attempts WHERE key=? AND started>? AND "
                "outcome!='cancelled'", (key, now - policy.window)).fetchone()
            count, last = recent[0], recent[1]
            if circuit is not None:
                db.execute("UPDATE circuits SET healthy_since=NULL WHERE key=?", (key,))
                return Decision(False, "circuit open", f"circuit open since {_at(circuit[0])} "
                                f"({circuit[1]}); closes after {policy.cooldown:g} s healthy or "
                                "--remediate-reset", count)
            if count >= policy.budget:
                reason = f"budget spent: {count} attempts within {policy.window:g} s"
                db.execute("INSERT OR REPLACE INTO circuits VALUES (?, ?, ?, NULL)",
                           (key, now, reason))
                return Decision(False, "budget", f"{reason}; circuit now open", count)
            lock = db.execute("SELECT owner, host, pid, expires FROM locks WHERE key=?",
                              (key,)).fetchone()
            if lock is not None and lock[3] > now and _alive(lock[1], lock[2]):
                return Decision(False, "locked", f"held by {lock[0]} (pid {lock[2]} on {lock[1]})",
                                count)
            if count and now < last + policy.delay(count):
                return Decision(False, "back-off", f"attempt {count} at {_at(last)}; next not "
                                f"before {_at(last + policy.delay(count))}", count)
            db.execute("INSERT OR REPLACE INTO locks VALUES (?, ?, ?, ?, ?, ?)",
                       (key, self.owner, HOST, os.getpid(), now, now + policy.hold + LOCK_MARGIN))
            cur = db.execute("INSERT INTO attempts (key, started, outcome, owner) "
                             "VALUES (?, ?, 'running', ?)", (key, now, self.owner))
            return Decision(True, "", "", count + 1, cur.lastrowid)

    def finish(self, key: str, attempt_id: int, outcome: str, policy: Policy) -> bool:
        """Record the attempt's outcome and release the lock; True if the circuit opened."""
        now = time.time()
        with self.transaction() as db:
            db.execute("UPDATE attempts SET finished=?, outcome=? WHERE id=?",
                       (now, outcome, attempt_id))
            db.execute("DELETE FROM locks WHERE key=? AND owner=?", (key, self.owner))
            if outcome in ("cancelled", "fixed"):
                return False
            count = db.execute("SELECT count(*) FROM attempts WHERE key=? AND started>? AND "
                               "outcome!='cancelled'", (key, now - policy.window)).fetchone()[0]
            if count < policy.budget:
                return False
            db.execute("INSERT OR REPLACE INTO circuits VALUES (?, ?, ?, NULL)", (
                key, now, f"budget spent: {count} attempts within {policy.window:g} s, "
                "last re-check still failing"))
            return True

    def observe(self, key: str, healthy: bool, policy: Policy) -> bool:
        """Note a passing (or failing) check of ``key``; True when this closed its circuit."""
        now = time.time()
        with self.transaction() as db:
            row = db.execute("SELECT healthy_since FROM circuits WHERE key=?", (key,)).fetchone()
            if row is None:
                return False
            if not healthy:
                db.execute("UPDATE circuits SET healthy_since=NULL WHERE key=?", (key,))
                return False
            if row[0] is not None and now - row[0] >= policy.cooldown:
                db.execute("DELETE FROM circuits WHERE key=?", (key,))
                db.execute("DELETE FROM attempts WHERE key=?", (key,))
                return True
            if row[0] is None:
                db.execute("UPDATE circuits SET healthy_since=? WHERE key=?", (now, key))
            return False

    def reset(self) -> list[str]:
        """The operator's reset: close every circuit and forget the attempts (not live locks)."""
        with self.transaction() as db:
            keys = [r[0] for r in db.execute("SELECT key FROM circuits UNION "
                                             "SELECT DISTINCT key FROM attempts")]
            db.execute("DELETE FROM circuits")
            db.execute("DELETE FROM attempts")
        return sorted(keys)

    def open_circuits(self) -> dict[str, str]:
        return dict(self.db.execute("SELECT key, reason FROM circuits").fetchall())

    def close(self) -> None:
        self.db.close()
