"""Hostile peers: every network operation ends within its component's timeout.

Each network kind's checks run against real misbehaving peers on loopback
(``servers.hostile``): one that trickles a valid-looking answer a byte at a time (slowloris),
one that accepts and never answers, one that sends random bytes, and for PostgreSQL a real
server behind a proxy that stalls (or trickles) once the handshake is done. Every run must
show that the first check of the component fails in one line naming it and the deadline,
that all its other checks could not run, that only that one check waited (the others took
less than half a timeout) and that the peer saw one connection: nothing retried, nothing
waited per check. Sequentially and under ``-n 2``. Timing is held generously: the check
that waited ended well before pytest-timeout (``BACKSTOP``) would have ended it.
"""

from __future__ import annotations

import contextlib
import random
import shutil
import socket
import tempfile
import time
import xml.etree.ElementTree as ET
from collections import Counter, defaultdict
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

import docker  # noqa: F401 - imported once here, so in-process runs reuse one module
import nats  # noqa: F401
import psycopg
import pytest
import redis  # noqa: F401
import requests  # noqa: F401
from backup_data import HOUR, pg_dump, pg_source, set_age
from servers import SilentServer
from servers.hostile import (
    HTTP_BODY_TRICKLE,
    HTTP_HEADER_TRICKLE,
    NATS_TRICKLE,
    REDIS_TRICKLE,
)
from test_backup import backup_entry

from opscheck.distribute import component_scope

TIMEOUT = 1
BACKSTOP = 20  # pytest-timeout of every check: a check it ends is no deadline of ours
MISSED = "TimeoutError: no * within *1 s"  # a complete answer, a greeting, a connection


@dataclass(frozen=True)
class Kind:
    """A network kind as the hostile runs see it: its checks, its inventory entry for a
    peer, the trickle that looks like its answer, and how many of its checks pass (the
    nats-monitor case: the client port is a real server; the monitoring port is hostile)."""

    checks: str
    entry: Callable[[SilentServer, dict[str, int]], str]
    trickle: tuple[bytes, bytes] = HTTP_BODY_TRICKLE
    passed: int = 0
    #: checks that could not run but say so as a failure: they meet the dead endpoint in
    #: their body (pytest calls that a failure), not in their fixture
    late: int = 0


def _at(peer: SilentServer) -> str:
    return f"127.0.0.1:{peer.port}"


KINDS = {
    "redis": Kind("redis", lambda p, _: f'url = "redis://{_at(p)}/0"', REDIS_TRICKLE),
    "http": Kind("http", lambda p, _: f'url = "http://{_at(p)}/health"\n'
                 '[[components.expect_json]]\npath = "status"\nequals = "ok"'),
    "http-headers": Kind("http", lambda p, _: f'url = "http://{_at(p)}/health"',
                         HTTP_HEADER_TRICKLE),
    "prometheus": Kind("prometheus", lambda p, _: f'url = "http://{_at(p)}"'),
    "docker-tcp": Kind("docker", lambda p, _: f'base_url = "tcp://{_at(p)}"\n'
                       'containers = ["app", "worker"]'),
    "docker-unix": Kind("docker", lambda p, _: f'base_url = "unix://{p.unix}"\n'
                        'containers = ["app", "worker"]'),
    "nats": Kind("nats", lambda p, _: f'url = "nats://{_at(p)}"', NATS_TRICKLE),
    "nats-monitor": Kind("nats", lambda p, real: f'url = "nats://127.0.0.1:{real["nats"]}"\n'
                         f'monitor_url = "http://{_at(p)}"\njetstream = true', passed=1, late=1),
    "postgres": Kind("postgres", lambda p, _: f'dsn = "postgresql://postgres@{_at(p)}/postgres"'),
}
#: the peers every kind meets; PostgreSQL's trickle and stall are a real server behind a proxy
PEERS = ("trickle", "silent", "garbage")
CASES = [(kind, peer) for kind in KINDS for peer in PEERS
         if kind != "http-headers" or peer == "trickle"] + [("postgres", "stall")]


class Peers:
    """Starts the hostile peer of a case (and the real servers some need), stops them all."""

    def __init__(self, hostile: Callable[..., SilentServer], request: pytest.FixtureRequest,
                 folder: Path) -> None:
        self.hostile, self.request, self.folder = hostile, request, folder
        self.real: dict[str, int] = {}

    def start(self, kind: str, peer: str) -> SilentServer:
        unix = {"unix": self.folder / f"{peer}.sock"} if kind == "docker-unix" else {}
        if kind == "nats-monitor" and "nats" not in self.real:
            make = self.request.getfixturevalue("nats_server_factory")
            self.real["nats"] = make(jetstream=True).port
        if kind == "postgres" and peer in ("trickle", "stall"):
            server = self.request.getfixturevalue("postgres_server_session")
            return self.hostile("stall", server.port, mode=peer)
        if peer == "trickle":
            return self.hostile("trickle", *KINDS[kind].trickle, **unix)
        return self.hostile(peer, **unix)


@pytest.fixture
def peers(hostile, request) -> Iterator[Peers]:
    folder = Path(tempfile.mkdtemp(prefix="oc-"))  # short: unix socket paths are limited
    try:
        yield Peers(hostile, request, folder)
    finally:
        shutil.rmtree(folder, ignore_errors=True)


def entry(name: str, kind: str, peer: SilentServer, real: dict[str, int]) -> str:
    return (f'[[components]]\nname = "{name}"\nkind = "{KINDS[kind].checks}"\n'
            f"{KINDS[kind].entry(peer, real)}\n")


@dataclass
class Tally:
    """What the JUnit report says of one component's checks."""

    outcomes: Counter[str]
    waited: list[float]  # durations of its checks not passed that took half a timeout or more


def tally(junit: Path) -> dict[str, Tally]:
    found: dict[str, Tally] = defaultdict(lambda: Tally(Counter(), []))
    for case in ET.parse(junit).getroot().iter("testcase"):
        name = component_scope(case.get("name", ""))
        tags = {child.tag for child in case}
        outcome = next((t for t in ("failure", "error", "skipped") if t in tags), "passed")
        found[name].outcomes[outcome] += 1
        seconds = float(case.get("time", "0"))
        if seconds >= TIMEOUT / 2 and outcome != "passed":  # a pass met a real server (and
            found[name].waited.append(seconds)  # may pay a lazy import on a loaded machine)
    return dict(found)


def run(suite, checks: set[str], workers: bool, *extra: str) -> tuple[str, dict[str, Tally]]:
    junit = suite.path / "junit.xml"
    args = ["-m", "critical or standard or deep", f"--timeout={BACKSTOP}",
            f"--junitxml={junit}", *extra]
    if workers:
        result = suite.run("-n", "2", *args, checks=tuple(sorted(checks)), subprocess=True)
    else:
        result = suite.run(*args, checks=tuple(sorted(checks)))
    return result.stdout.str(), tally(junit)


def assert_waited_once(name: str, found: Tally, kind: Kind, output: str) -> None:
    """The component's first network check failed (at its deadline, or at once on garbage);
    the rest could not run; no more than that one check waited."""
    outcomes = found.outcomes
    assert outcomes["failure"] == 1 + kind.late, f"{name}: {dict(outcomes)}\n{output[-3000:]}"
    assert outcomes["passed"] == kind.passed and outcomes["skipped"] == 0, dict(outcomes)
    assert outcomes["error"] + kind.late >= 1, f"{name}: no check left to be 'could not run'"
    assert len(found.waited) <= 1, f"{name}: {len(found.waited)} checks waited: {found.waited}"
    assert all(w < BACKSTOP / 2 for w in found.waited), f"{name} waited {found.waited} s"


def assert_one_line(name: str, peer: str, output: str) -> None:
    """The failure names the component and, unless the peer's garbage was refused at once,
    the deadline; every other check says could not run; no traceback."""
    reason = MISSED if peer != "garbage" else "*"
    pytest.LineMatcher(output.splitlines()).fnmatch_lines_random([
        f"{name} *: {reason}", f"could not run: {name}* unreachable (*"])
    assert "Traceback" not in output


def test_the_peers_misbehave_as_they_say(hostile, postgres_server_session):
    """The trickler sends its head, then a byte per interval; the garbage peer its seeded
    bytes; the proxy relays a real handshake and then nothing (a guard on the guards)."""
    trickler = hostile("trickle", b"HEAD", b"xy", interval=0.2)
    with socket.create_connection(trickler.address, timeout=5) as sock:
        assert sock.recv(4) == b"HEAD"
        got, end = b"", time.monotonic() + 1.1
        while time.monotonic() < end:
            sock.settimeout(max(0.01, end - time.monotonic()))
            with contextlib.suppress(TimeoutError):
                got += sock.recv(100)
        assert 2 <= len(got) <= 6 and set(got) <= set(b"xy"), got
    garbage = hostile("garbage", size=512)
    with socket.create_connection(garbage.address, timeout=5) as sock:
        data = b""
        while len(data) < 512:
            data += sock.recv(512)
        assert data == random.Random(11).randbytes(512)
    proxy = hostile("stall", postgres_server_session.port)
    conn = psycopg.connect(f"postgresql://postgres@127.0.0.1:{proxy.port}/postgres",
                           connect_timeout=5, autocommit=True)
    try:
        assert proxy.handshakes == 1
        conn.pgconn.send_query(b"SELECT 1")
        conn.pgconn.flush()
        time.sleep(0.5)
        conn.pgconn.consume_input()
        assert conn.pgconn.is_busy(), "the proxy relayed an answer after the handshake"
    finally:
        conn.close()


@pytest.mark.parametrize(("kind", "peer"), CASES)
def test_one_check_waits_then_the_rest_could_not_run(suite, peers, kind, peer):
    hostile = peers.start(kind, peer)
    name = f"{kind}-{peer}"
    suite.inventory(f"[system]\ntimeout = {TIMEOUT}\n" + entry(name, kind, hostile, peers.real))
    output, found = run(suite, {KINDS[kind].checks}, workers=False)
    assert_waited_once(name, found[name], KINDS[kind], output)
    if peer != "garbage":
        assert len(found[name].waited) == 1, f"{name}: no check waited for the deadline"
    assert_one_line(name, peer, output)
    assert hostile.connection_count == 1, "the component was connected to more than once"


@pytest.mark.parametrize("peer", PEERS)
def test_under_two_workers_each_component_waits_once(suite, peers, peer):
    """One component of every network kind, all hostile, under ``-n 2``: each waits once."""
    started: dict[str, tuple[str, SilentServer]] = {}
    for kind, kind_peer in CASES:
        if kind_peer == peer or (peer == "trickle" and kind_peer == "stall"):
            started[f"{kind}-{kind_peer}"] = (kind, peers.start(kind, kind_peer))
    suite.inventory(f"[system]\ntimeout = {TIMEOUT}\n" + "".join(
        entry(name, kind, hostile, peers.real) for name, (kind, hostile) in started.items()))
    output, found = run(suite, {KINDS[kind].checks for kind, _ in started.values()},
                        workers=True)
    for name, (kind, hostile) in started.items():
        assert_waited_once(name, found[name], KINDS[kind], output)
        if peer != "garbage":
            assert len(found[name].waited) == 1, f"{name}: no check waited for the deadline"
        assert_one_line(name, peer, output)
        assert hostile.connection_count == 1, f"{name} was connected to more than once"


def scratch_dbs(server) -> list[str]:
    return server.psql("SELECT datname FROM pg_database WHERE datname LIKE "
                       "'opscheck_restore%'").split()


@pytest.mark.parametrize("workers", [False, True], ids=["sequential", "n2"])
@pytest.mark.parametrize("stalls", ["restore-server", "source"])
def test_deep_restore_against_a_stalling_server_fails_at_its_timeout(
        suite, hostile, postgres_server_session, tmp_path, stalls, workers):
    """restore_timeout = 20, timeout = 1: the server stops answering after the handshake;
    the restore check fails in one line at the timeout, leaves no scratch database, and
    the backup's other checks (its files) still pass."""
    server = postgres_server_session
    db = pg_source(server, rows=10)
    (tmp_path / "b").mkdir()
    set_age(pg_dump(server, db, tmp_path / "b" / "backup-1.dump"), HOUR)
    proxy = hostile("stall", server.port)
    real, stalled = (f"postgresql://postgres@127.0.0.1:{port}/{db}"
                     for port in (server.port, proxy.port))
    source, restore = (real, stalled) if stalls == "restore-server" else (stalled, real)
    suite.inventory(f'[system]\ntimeout = {TIMEOUT}\n[[components]]\nname = "live"\n'
                    f'kind = "postgres"\ndsn = "{source}"\n'
                    + backup_entry("nightly", tmp_path / "b", "*.dump", "pg_custom",
                                   source="live", restore_dsn=restore, tables=["stories"],
                                   restore_timeout=20.0, scratch_dir=str(tmp_path)))
    output, found = run(suite, {"backup"}, workers)
    nightly = found["nightly"]
    assert nightly.outcomes["failure"] == 1 and nightly.outcomes["error"] == 0, output[-3000:]
    assert nightly.outcomes["passed"] >= 1, dict(nightly.outcomes)
    assert len(nightly.waited) == 1 and nightly.waited[0] < 20 / 2, nightly.waited
    pytest.LineMatcher(output.splitlines()).fnmatch_lines([
        f"nightly: restoring backup-1.dump: PostgreSQL at 127.0.0.1:{proxy.port}/{db}: "
        "no complete answer within the timeout of 1 s"])
    assert proxy.handshakes == 1
    assert scratch_dbs(server) == []
    assert not list(tmp_path.glob("opscheck-restore-*"))
