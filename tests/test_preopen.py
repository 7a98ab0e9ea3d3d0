"""Pre-opening and release (opscheck.preopen, opscheck.connect): a sweep contacts every
component once and at once, holds a bounded number of sessions, and closes a component's
connection after its last check. Proven by counting on the servers' side, never by timing.
"""

from __future__ import annotations

import contextlib
import shutil
import socket
import threading
from collections.abc import Iterator

import psycopg
import pytest
from servers import PostgresServer, make_owned_tempdir

from opscheck import connect, preopen
from opscheck.components.postgres import PostgresComponent
from opscheck.targets.postgres import PostgresTarget


class Listeners:
    """Loopback listeners that accept and never answer; they count the connections each
    one accepted and the most that were open at once across all of them."""

    def __init__(self, count: int) -> None:
        self.socks = []
        for _ in range(count):
            sock = socket.create_server(("127.0.0.1", 0), backlog=64)
            sock.settimeout(0.1)
            self.socks.append(sock)
        self.accepted = [0] * count
        self.open_now = 0
        self.peak = 0
        self._lock = threading.Lock()
        self._stop = threading.Event()
        self._threads = [threading.Thread(target=self._accept, args=(i,), daemon=True)
                         for i in range(count)]
        for thread in self._threads:
            thread.start()

    @property
    def ports(self) -> list[int]:
        return [s.getsockname()[1] for s in self.socks]

    def _accept(self, i: int) -> None:
        while not self._stop.is_set():
            try:
                conn, _ = self.socks[i].accept()
            except TimeoutError:
                continue
            except OSError:
                return
            with self._lock:
                self.accepted[i] += 1
                self.open_now += 1
                self.peak = max(self.peak, self.open_now)
            threading.Thread(target=self._hold, args=(conn,), daemon=True).start()

    def _hold(self, conn: socket.socket) -> None:
        with conn:
            conn.settimeout(0.1)
            while not self._stop.is_set():
                try:
                    if not conn.recv(4096):
                        break
                except TimeoutError:
                    continue
                except OSError:
                    break
        with self._lock:
            self.open_now -= 1

    def close(self) -> None:
        self._stop.set()
        for sock in self.socks:
            sock.close()


DEAD = 20


def test_dead_components_are_contacted_once_each_and_all_at_once(suite):
    """Twenty Redis components that accept and never answer: each is connected to exactly
    once in the run, all twenty were being waited on at the same moment (so the sweep pays
    one timeout, not twenty), and each still reports as a dead component does: its first
    check fails in one line naming it, the others could not run."""
    listeners = Listeners(DEAD)
    ports = listeners.ports
    try:
        suite.inventory("[system]\ntimeout = 1\n" + "".join(
            f'[[components]]\nname = "dead-{i}"\nkind = "redis"\n'
            f'url = "redis://127.0.0.1:{port}/0"\n' for i, port in enumerate(ports)))
        result = suite.run("-m", "critical", "--durations=5", checks=("redis",))
        out = result.stdout.str()
    finally:
        listeners.close()
    assert listeners.accepted == [1] * DEAD, out[-3000:]
    assert listeners.peak == DEAD, f"at most {listeners.peak} dead components were waited on " \
                                   "at once"
    for i in range(DEAD):
        port = ports[i]
        result.stdout.fnmatch_lines([f"*dead-{i} unreachable at 127.0.0.1:{port}: TimeoutError: "
                                     "no complete answer within the timeout of 1 s*"])
    outcomes = result.parseoutcomes()
    assert outcomes["failed"] == DEAD, outcomes
    assert outcomes.get("passed", 0) == 0, outcomes


@pytest.fixture
def small_postgres() -> Iterator[PostgresServer]:
    """A PostgreSQL that takes at most 20 connections."""
    folder = make_owned_tempdir("opscheck-pg-small-")
    server = PostgresServer(folder, max_connections=20)
    try:
        server.start()
        yield server
    finally:
        server.stop()
        shutil.rmtree(folder, ignore_errors=True)


OBSERVER = '''
import pytest

@pytest.mark.standard
@pytest.mark.postgres
@pytest.mark.applies(lambda c: c.name == "observer", "is not the observer")
def test_only_the_observer_is_connected(postgres_component):
    """Runs last: every other component's last check has run, so only this one's
    session of the suite is still open on the server."""
    rows = postgres_component.query("SELECT count(*) AS n FROM pg_stat_activity "
                                    "WHERE application_name = 'opscheck'")
    assert rows[0]["n"] == 1, f"{rows[0]['n']} opscheck sessions are still open"
'''


def _count_sessions(server: PostgresServer, stop: threading.Event, seen: list[int]) -> None:
    with psycopg.connect(server.dsn, autocommit=True, application_name="watcher") as conn:
        while not stop.wait(0.01):
            seen.append(conn.execute("SELECT count(*) FROM pg_stat_activity WHERE "
                                     "application_name = 'opscheck'").fetchone()[0])


def test_25_components_on_a_server_of_20_connections_all_run(suite, small_postgres):
    """25 PostgreSQL components on one server with max_connections = 20: no check is
    refused ("too many clients"), the suite never holds more than its bound of sessions
    (as the server counts them), and after a component's last check its session is gone
    (the observer, checked last, is the only opscheck session left)."""
    server = small_postgres
    entries = "".join(f'[[components]]\nname = "{name}"\nkind = "postgres"\n'
                      f'dsn = "{server.dsn}"\n'
                      for name in [*(f"pg-{i}" for i in range(25)), "observer"])
    suite.inventory("[system]\ntimeout = 5\n" + entries)
    observer = suite.path / "test_observer.py"
    observer.write_text(OBSERVER)
    stop, seen = threading.Event(), [0]
    watcher = threading.Thread(target=_count_sessions, args=(server, stop, seen), daemon=True)
    watcher.start()
    try:
        result = suite.run("-m", "critical or standard", checks=("postgres", str(observer)))
    finally:
        stop.set()
        watcher.join(5)
    out = result.stdout.str()
    assert "too many clients" not in out, out[-3000:]
    assert "unreachable" not in out and "could not run" not in out, out[-3000:]
    assert max(seen) <= connect.HELD + preopen.PER_ADDRESS, max(seen)
    assert max(seen) >= 1, "the watcher saw no opscheck session at all"
    reports = result.reprec.getreports("pytest_runtest_logreport")  # type: ignore[attr-defined]
    observed = [r for r in reports if "test_only_the_observer_is_connected" in r.nodeid
                and "[observer]" in r.nodeid and r.when == "call"]
    assert [r.outcome for r in observed] == ["passed"], [str(r.longrepr) for r in observed]


def test_connections_check_leaves_out_the_suites_own_sessions(postgres_server_session):
    """Three opscheck targets and one other client on the server: the connections fact
    counts the other client alone (the suite's own sessions are the observer, not load)."""
    server = postgres_server_session
    component = PostgresComponent(name="pg", kind="postgres", dsn=server.dsn, timeout=5)
    with contextlib.ExitStack() as stack:
        first = PostgresTarget.open(component)
        stack.callback(first.close)
        before, most = first.connections()
        for _ in range(2):
            stack.callback(PostgresTarget.open(component).close)
        mid, _ = first.connections()
        other = stack.enter_context(psycopg.connect(server.dsn, application_name="app"))
        after, _ = first.connections()
        other.close()
    assert most >= 1
    assert mid == before, f"the suite's own sessions were counted: {before} -> {mid}"
    assert after == before + 1, (before, after)
