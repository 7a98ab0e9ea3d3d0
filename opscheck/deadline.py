"""One deadline on a whole network operation: connect, request and the whole answer.

The client libraries bound each socket wait, not the answer: redis-py's ``socket_timeout``,
requests' read timeout, the docker SDK's ``timeout`` and libpq's ``connect_timeout`` start
again with every read, so a peer that sends one byte a second (slowloris) holds them for
ever, and psycopg has no client-side bound after connecting at all (``statement_timeout`` is
the server's). None of them has a total-time option; nats-py is asyncio, where
``asyncio.timeout`` is one (the nats kind uses it).

:meth:`Watch.bounded` gives one operation ``seconds`` in all. At the deadline one thread
shuts down (``shutdown(2)``, safe from another thread) every socket of the watch: the
blocked read returns at once, and the operation raises ``TimeoutError`` (``no complete
answer within the timeout of 2 s``), so the suite marks the component unreachable
(:mod:`opscheck.connect`) and its other checks could not run at no extra wait.

The watch learns its sockets by itself: while one of its operations runs, every socket the
thread connects joins it (CPython's ``socket.connect`` audit event, :func:`sys.addaudithook`);
a socket opened in C (libpq's) is added with :meth:`Watch.add_fd`. An operation that raises
after its deadline has passed (the library's own per-read timeout, or the error of a socket
shut under it) raises that ``TimeoutError`` too, so the line is the same whoever noticed
first.
"""

from __future__ import annotations

import contextlib
import heapq
import itertools
import os
import socket
import sys
import threading
import time
from collections.abc import Callable, Iterator
from typing import Any

_local = threading.local()  # .active: the watches whose operation this thread is running


def _audit(event: str, args: tuple[Any, ...]) -> None:
    """Every socket a thread connects while one of its watches runs joins that watch (an
    audit hook must never raise: it would fail the connect)."""
    if event == "socket.connect":
        with contextlib.suppress(Exception):
            for watch in getattr(_local, "active", ()):
                watch.add_fd(args[0].fileno())


sys.addaudithook(_audit)


class _Alarms:
    """One daemon thread that calls each armed alarm at its time, unless it was disarmed
    first (a thread per operation would cost more than a Redis command)."""

    def __init__(self) -> None:
        self._cond = threading.Condition()
        self._heap: list[tuple[float, int, list[Callable[[], None] | None]]] = []
        self._count = itertools.count()
        self._pid = 0  # the process whose thread runs (a forked child starts its own)

    def arm(self, when: float, alarm: Callable[[], None]) -> list[Callable[[], None] | None]:
        """Call ``alarm()`` at ``when`` (monotonic); ``entry[0] = None`` disarms it."""
        entry: list[Callable[[], None] | None] = [alarm]
        with self._cond:
            if self._pid != os.getpid():
                self._pid, self._heap = os.getpid(), []
                threading.Thread(target=self._run, name="opscheck-deadlines",
                                 daemon=True).start()
            heapq.heappush(self._heap, (when, next(self._count), entry))
            if self._heap[0][2] is entry:
                self._cond.notify()
        return entry

    def _run(self) -> None:
        while True:
            with self._cond:
                while not self._heap or self._heap[0][0] > time.monotonic():
                    self._cond.wait(self._heap[0][0] - time.monotonic() if self._heap else None)
                alarm = heapq.heappop(self._heap)[2][0]
            if alarm is not None:
                with contextlib.suppress(Exception):
                    alarm()


_alarms = _Alarms()


class Watch:
    """The sockets of one client, and the deadline of each of its operations.

    ``seconds`` is the default deadline of :meth:`bounded`; ``peer`` (optional) names what
    was asked in the line: ``PostgreSQL at db:5432/app: no complete answer within …``.
    """

    def __init__(self, seconds: float, peer: str | None = None) -> None:
        self.seconds = seconds
        self.peer = peer
        self._fds: dict[int, int] = {}  # fd -> inode: the socket it was when it was added
        self._lock = threading.Lock()

    def add_fd(self, fd: int) -> None:
        """Shut the socket ``fd`` down when an operation of this watch misses its deadline."""
        with contextlib.suppress(OSError):
            ino = os.fstat(fd).st_ino
            with self._lock:
                self._fds[fd] = ino

    def shut(self) -> None:
        """Shut down every socket of the watch that is still the one added (a closed fd
        whose number was reused is left alone)."""
        with self._lock:
            fds = list(self._fds.items())
            self._fds.clear()
        for fd, ino in fds:
            try:
                dup = os.dup(fd)  # holds the socket while it is checked and shut
            except OSError:
                continue
            try:
                if os.fstat(dup).st_ino == ino:
                    sock = socket.socket(fileno=dup)
                    with contextlib.suppress(OSError):
                        sock.shutdown(socket.SHUT_RDWR)
                    sock.close()
                    continue
            except OSError:
                pass
            os.close(dup)

    def missed(self, seconds: float, what: str | None = None) -> TimeoutError:
        """The miss: ``no complete answer within the timeout of 2 s`` (or ``within`` what)."""
        line = f"no complete answer within {what or f'the timeout of {seconds:g} s'}"
        return TimeoutError(f"{self.peer}: {line}" if self.peer else line)

    @contextlib.contextmanager
    def bounded(self, seconds: float | None = None, what: str | None = None) -> Iterator[None]:
        """Run the block within ``seconds`` (default: the watch's); ``TimeoutError`` if it
        does not end in time (``what`` words the deadline in its line: ``the 12.5 s left of
        restore_timeout``). Nested in an operation of the same watch, it is that one."""
        active: list[Watch] = _local.__dict__.setdefault("active", [])
        if self in active:
            yield
            return
        limit = self.seconds if seconds is None else seconds
        end = time.monotonic() + limit
        state = {"over": False, "fired": False}  # over: the block ended; fired: the timer
        lock = threading.Lock()  # one or the other comes first, never both

        def fire() -> None:
            with lock:
                if state["over"]:
                    return
                state["fired"] = True
            self.shut()

        alarm = _alarms.arm(end, fire)
        active.append(self)
        try:
            yield
        except Exception:
            with lock:
                state["over"] = True
            if state["fired"] or time.monotonic() >= end:
                raise self.missed(limit, what) from None
            raise
        finally:
            with lock:
                state["over"] = True
            alarm[0] = None
            active.remove(self)
        if state["fired"]:  # an answer that came as its sockets were shut: not trusted
            raise self.missed(limit, what)
