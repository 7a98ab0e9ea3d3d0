"""PostgreSQL checks against real PostgreSQL 15 clusters: healthy passes, each fault fails."""

from __future__ import annotations

import contextlib
import shutil
import subprocess
import threading
import time
from collections.abc import Iterator

import psycopg
import pytest
from servers import PostgresServer, _pg_bindir, make_owned_tempdir

ALL = ("postgres",)


def pg_inventory(server: PostgresServer, extra: str = "", name: str = "state") -> str:
    return (f'[[components]]\nname = "{name}"\nkind = "postgres"\n'
            f'dsn = "postgresql://postgres@127.0.0.1:{server.port}/postgres"\ntimeout = 2\n{extra}')


@pytest.fixture
def pg_factory() -> Iterator:
    """Fresh clusters: ``pg_factory(**PostgresServer kwargs)``; ``before_start(server)`` hook."""
    made: list[tuple[PostgresServer, object]] = []

    def make(before_start=None, **kwargs) -> PostgresServer:
        tmp = make_owned_tempdir("opscheck-pg-", "postgres")
        server = PostgresServer(tmp, **kwargs)
        made.append((server, tmp))
        if before_start is not None:
            before_start(server)
        return server.start()

    yield make
    for server, tmp in made:
        server.stop()
        shutil.rmtree(tmp, ignore_errors=True)


def wait_for(predicate, timeout: float = 10.0) -> None:
    deadline = time.monotonic() + timeout
    while not predicate():
        assert time.monotonic() < deadline, "condition not reached in time"
        time.sleep(0.05)


def as_postgres(server: PostgresServer, *args: str) -> None:
    subprocess.run([str(_pg_bindir() / args[0]), *args[1:]], check=True, capture_output=True,
                   timeout=60, **server._as_postgres())


def test_healthy_postgres_passes_and_skips_replica_checks(suite, postgres_server_session):
    suite.inventory(pg_inventory(postgres_server_session))
    result = suite.run("-rs", checks=ALL)
    result.assert_outcomes(passed=7, skipped=2)  # the superuser role check warns
    result.stdout.fnmatch_lines(["state (postgres): 6 passed, 1 warning, 2 skipped"])
    result.stdout.fnmatch_lines(["*state is not a replica (not in recovery)*"])


def test_connections_nearly_used_up_fail(suite, postgres_server_session):
    # max_connections 30: 27 held = 90 % (the check's own session is not counted)
    server = postgres_server_session
    held = [psycopg.connect(server.dsn, connect_timeout=5) for _ in range(27)]
    try:
        suite.inventory(pg_inventory(server))
        result = suite.run("-k", "connections", checks=ALL)
    finally:
        for conn in held:
            conn.close()
    result.assert_outcomes(failed=1)
    result.stdout.fnmatch_lines(["*state connections used (27 of max_connections 30) 90% ≥ "
                                 "critical 90% (warning 75%). Action: Find the client holding*"])


def test_long_query_and_idle_transaction_are_listed(suite, postgres_server_session):
    server = postgres_server_session
    sleeper = psycopg.connect(server.dsn, autocommit=True)
    idle = psycopg.connect(server.dsn)
    idle.execute("SELECT 1")  # a transaction left open: idle in transaction
    thread = threading.Thread(target=lambda: _swallow(sleeper, "SELECT pg_sleep(30)"))
    thread.start()
    try:
        time.sleep(0.5)
        suite.inventory(pg_inventory(server, "long_query_minutes = 0.005\n"
                                             "idle_in_transaction_minutes = 0.005\n"))
        result = suite.run("-k", "long or idle", checks=ALL)
    finally:
        sleeper.cancel_safe()
        thread.join(10)
        sleeper.close()
        idle.close()
    result.assert_outcomes(failed=2)
    result.stdout.fnmatch_lines(["*state queries running > 0.005 min 1 ≥ critical 1. Action: "
                                 "Kill long-running queries if needed (pg_cancel_backend); rows: "
                                 "{pid: *, state: active, seconds: *, query: SELECT pg_sleep(30)}"])
    result.stdout.fnmatch_lines(["*state sessions idle in transaction > 0.005 min 1 ≥ critical 1*"
                                 "state: idle in transaction, seconds: *, query: SELECT 1}"])


def _swallow(conn: psycopg.Connection, sql: str) -> None:
    with contextlib.suppress(psycopg.errors.QueryCanceled):
        conn.execute(sql)


def test_database_size_over_its_level_fails(suite, postgres_server_session):
    suite.inventory(pg_inventory(postgres_server_session,
                                 "[components.thresholds.database_size]\ncritical = 1\n"))
    result = suite.run("-k", "size", checks=ALL)
    result.assert_outcomes(failed=1)
    result.stdout.fnmatch_lines(["*state database size * MB ≥ critical 1 MB*"])


def push_xids(server: PostgresServer) -> None:
    """Stop a fresh cluster and move its next XID to 1.7 billion: 79 % of the way to wraparound."""
    server.start()
    server.stop()
    xid = 1_700_000_000
    segment = server.data_dir / "pg_xact" / f"{xid // 1048576:04X}"
    segment.write_bytes(bytes(262144))  # the commit log page pg_resetwal expects us to supply
    shutil.chown(segment, "postgres", "postgres")
    as_postgres(server, "pg_resetwal", "-x", str(xid), "-D", str(server.data_dir))


def test_xid_age_near_wraparound_fails(suite, pg_factory):
    # autovacuum off and the freeze age at its maximum: nothing freezes the old XIDs away
    server = pg_factory(before_start=push_xids, settings={
        "autovacuum": "off", "autovacuum_freeze_max_age": 2_000_000_000})
    suite.inventory(pg_inventory(server))
    result = suite.run("-k", "wraparound", checks=ALL)
    result.assert_outcomes(failed=1)
    result.stdout.fnmatch_lines(["*state XID age of the oldest database (*, of the wraparound "
                                 "limit) 79.*% ≥ critical 75% (warning 50%). Action: VACUUM "
                                 "FREEZE the oldest database*"])


def test_replica_streams_lags_when_replay_pauses_and_breaks_when_primary_stops(suite,
                                                                              pg_factory):
    primary = pg_factory()
    primary.query("CREATE TABLE events (id serial PRIMARY KEY, at timestamptz DEFAULT now())")
    primary.query("INSERT INTO events DEFAULT VALUES")

    def basebackup(replica: PostgresServer) -> None:
        as_postgres(replica, "pg_basebackup", "-h", "127.0.0.1", "-p", str(primary.port),
                    "-U", "postgres", "-D", str(replica.data_dir), "-R", "-X", "stream",
                    "--no-sync", "-c", "fast")

    replica = pg_factory(before_start=basebackup)
    both = (pg_inventory(primary) + "\n" + pg_inventory(replica, name="replica")
            + "[components.thresholds.replication_lag]\nwarning = 0.2\ncritical = 0.5\n")
    suite.inventory(both)
    result = suite.run("-m", "critical", "-rs", checks=ALL)
    result.assert_outcomes(passed=3, skipped=1)  # the primary is not a replica

    primary.query("INSERT INTO events DEFAULT VALUES")
    wait_for(lambda: replica.query("SELECT count(*) FROM events")[0][0] == 2)
    replica.query("SELECT pg_wal_replay_pause()")
    primary.query("INSERT INTO events DEFAULT VALUES")  # received, not replayed
    wait_for(lambda: replica.query("SELECT pg_last_wal_receive_lsn() > pg_last_wal_replay_lsn()")
             [0][0])
    time.sleep(0.6)
    result = suite.run("-k", "lag", checks=ALL)
    result.assert_outcomes(failed=1, skipped=1)
    result.stdout.fnmatch_lines(["*replica replication lag * s ≥ critical 0.5 s (warning 0.2 s)*"])

    primary.stop()
    result = suite.run(checks=ALL)
    result.stdout.fnmatch_lines([f"state unreachable at 127.0.0.1:{primary.port}/postgres: "
                                 "OperationalError: *"])
    result.stdout.fnmatch_lines(["*could not run: state unreachable*"])
    result.stdout.fnmatch_lines(["*replica replica is * (expected streaming)*"])
    result.stdout.fnmatch_lines(["state (postgres): 1 failed, 8 could not run"])


def test_silent_postgres_fails_within_the_connect_timeout(suite, silent_server):
    suite.inventory(pg_inventory(silent_server))  # accepts TCP, never answers
    result = suite.run("-m", "critical", checks=ALL)
    # the connect deadline's failure (a hang would end in pytest-timeout's, 30 s on), once:
    # the other critical check could not run rather than wait out a timeout of its own
    result.assert_outcomes(failed=1, errors=1)
    result.stdout.fnmatch_lines([f"state unreachable at 127.0.0.1:{silent_server.port}/postgres: "
                                 "*Timeout*: *"])
    result.stdout.fnmatch_lines(["*could not run: state unreachable*"])


def test_sub_second_timeout_is_kept_not_rounded_up_to_libpq_minimum(suite, silent_server):
    suite.inventory(pg_inventory(silent_server).replace("timeout = 2", "timeout = 0.5"))
    result = suite.run("-m", "critical", checks=ALL)
    result.assert_outcomes(failed=1, errors=1)
    # This line is the suite's own deadline giving up at 0.5 s: had the connect waited for
    # libpq (which never gives up before 2 s), libpq's own error would be the one reported.
    # No wall clock: on a loaded machine a run's length proves nothing either way.
    result.stdout.fnmatch_lines([f"state unreachable at 127.0.0.1:{silent_server.port}/postgres: "
                                 "TimeoutError: no connection within 0.5 s"])


def test_password_in_the_dsn_is_a_usage_error(suite):
    suite.inventory('[[components]]\nname = "db"\nkind = "postgres"\n'
                    'dsn = "host=127.0.0.1 password=hunter2"\n')
    result = suite.run(checks=ALL)
    assert result.ret == 4
    result.stderr.fnmatch_lines(["*inventory.toml: components[[]0[]].dsn: secret written "
                                 "inline; the inventory never holds secrets: name an environment "
                                 "variable instead (password_env = *"])
