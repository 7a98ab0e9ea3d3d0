"""Redis checks against real redis-server instances: healthy passes, each fault fails."""

from __future__ import annotations

import socket
import time
from pathlib import Path

import pytest
from servers import RedisServer

ALL = ("redis",)
PASSWORD = "s3cret-redis-pw"


def redis_inventory(server: RedisServer, extra: str = "", name: str = "bus") -> str:
    return (f'[[components]]\nname = "{name}"\nkind = "redis"\n'
            f'url = "redis://127.0.0.1:{server.port}/0"\ntimeout = 2\n{extra}')


def wait_for(predicate, timeout: float = 10.0) -> None:
    deadline = time.monotonic() + timeout
    while not predicate():
        assert time.monotonic() < deadline, "condition not reached in time"
        time.sleep(0.05)


@pytest.fixture
def server_factory(tmp_path: Path):
    started: list[RedisServer] = []

    def make(**kwargs) -> RedisServer:
        server = RedisServer(tmp_path / f"redis-{len(started)}", **kwargs).start()
        started.append(server)
        return server

    yield make
    for server in started:
        server.stop()


def test_healthy_redis_with_password_and_persistence_passes(suite, server_factory, monkeypatch):
    monkeypatch.setenv("BUS_PASSWORD", PASSWORD)
    server = server_factory(password=PASSWORD, extra_config={
        "save": "3600 1", "appendonly": "yes", "maxmemory": "64mb"})
    server.client().bgsave()
    wait_for(lambda: server.client().info("persistence")["rdb_bgsave_in_progress"] == 0)
    suite.inventory(redis_inventory(server, 'password_env = "BUS_PASSWORD"\n'))
    result = suite.run("-rs", checks=ALL)
    result.assert_outcomes(passed=8, skipped=1)
    result.stdout.fnmatch_lines(["bus (redis): 8 passed, 1 skipped"])
    result.stdout.fnmatch_lines(["*bus is not a replica (role master)*"])


def test_stopped_redis_fails_once_in_one_line_and_the_rest_could_not_run(suite, server_factory):
    server = server_factory()
    server.stop()
    suite.inventory(redis_inventory(server))
    result = suite.run(checks=ALL)
    result.assert_outcomes(failed=1, errors=7, skipped=1)  # refuses_strangers: no password set
    result.stdout.fnmatch_lines(["could not run: bus unreachable (ConnectionError: Error 111*"])
    result.stdout.fnmatch_lines([
        f"bus unreachable at 127.0.0.1:{server.port}: ConnectionError: Error 111 connecting*"])
    assert "Traceback" not in result.stdout.str()


def test_silent_redis_fails_within_the_timeout(suite, silent_server):
    suite.inventory(redis_inventory(silent_server, "timeout = 1\n").replace("timeout = 2\n", ""))
    result = suite.run("-m", "critical", checks=ALL)
    # the deadline's own message (not pytest-timeout's 30 s, nor a hang) on the first check;
    # the others report "could not run" at once instead of waiting out a timeout each
    result.assert_outcomes(failed=1, errors=2)
    result.stdout.fnmatch_lines(["*bus unreachable at 127.0.0.1:*: TimeoutError: no complete "
                                 "answer within the timeout of 1 s"])
    result.stdout.fnmatch_lines(["*could not run: bus unreachable*"])


def test_password_required_but_not_in_the_inventory_says_so(suite, server_factory):
    server = server_factory(password=PASSWORD)
    suite.inventory(redis_inventory(server))
    result = suite.run("-m", "critical", checks=ALL)
    result.assert_outcomes(errors=3)
    result.stdout.fnmatch_lines(["*could not run: bus at 127.0.0.1:*: authentication required: "
                                 "set password_env to the variable holding its password*"])


def test_wrong_password_is_refused_without_showing_it(suite, server_factory, monkeypatch):
    monkeypatch.setenv("BUS_PASSWORD", "not-the-password")
    server = server_factory(password=PASSWORD)
    suite.inventory(redis_inventory(server, 'password_env = "BUS_PASSWORD"\n'))
    result = suite.run("-m", "critical", checks=ALL)
    result.assert_outcomes(errors=3)
    result.stdout.fnmatch_lines(["*authentication refused: check the password in BUS_PASSWORD*"])
    assert "not-the-password" not in result.stdout.str()


def test_redis_without_a_password_where_one_is_required_fails(suite, server_factory, monkeypatch):
    monkeypatch.setenv("BUS_PASSWORD", PASSWORD)
    server = server_factory()
    suite.inventory(redis_inventory(server, 'password_env = "BUS_PASSWORD"\n'))
    result = suite.run("-k", "strangers", checks=ALL)
    result.assert_outcomes(failed=1)
    result.stdout.fnmatch_lines(["*bus answers PING without AUTH (expected NOAUTH)*"])


def test_maxmemory_filled_fails_memory_and_evictions(suite, server_factory):
    server = server_factory(extra_config={"maxmemory": "4mb", "maxmemory-policy": "allkeys-lru"})
    client = server.client()
    for i in range(80):
        client.set(f"event:{i}", "x" * 100_000)
    assert client.info("stats")["evicted_keys"] > 0
    suite.inventory(redis_inventory(server))
    result = suite.run("-k", "memory or evicted", checks=ALL)
    result.assert_outcomes(failed=2)
    result.stdout.fnmatch_lines([
        "*bus memory used (of maxmemory) *% ≥ critical 90% (warning 75%). Action: Check for leaks*",
        "*bus evicted keys * ≥ critical 1. Action: Keys were evicted*"])


def test_memory_budget_applies_when_maxmemory_is_zero(suite, server_factory):
    server = server_factory()
    suite.inventory(redis_inventory(server, "memory_budget = 1000000\n"))
    result = suite.run("-k", "memory", checks=ALL)
    result.assert_outcomes(failed=1)
    result.stdout.fnmatch_lines(["*bus memory used (of memory_budget) *% ≥ critical 90%*"])


def hold(server: RedisServer, count: int) -> list[socket.socket]:
    """``count`` client connections that PINGed (rejected ones got -ERR max clients)."""
    socks = []
    for _ in range(count):
        sock = socket.create_connection((server.host, server.port), timeout=2)
        sock.sendall(b"PING\r\n")
        sock.recv(100)
        socks.append(sock)
    return socks


def test_clients_near_maxclients_and_rejected_connections_fail(suite, server_factory):
    server = server_factory(extra_config={"maxclients": 20})
    # One watching connection, opened while slots are free and reused for every look: a
    # fresh client per look would be rejected itself while the slots are full (a second
    # rejected connection)
    watch = server.client(single_connection_client=True)
    watch.ping()
    held = hold(server, 17)  # with the watcher: 18 of 20
    extra = hold(server, 3)  # 20 slots: the 21st connection is rejected
    for sock in extra:
        sock.close()
    wait_for(lambda: watch.info("clients")["connected_clients"] <= 18)
    assert watch.info("stats")["rejected_connections"] == 1
    suite.inventory(redis_inventory(server))
    result = suite.run("-k", "clients or rejected", checks=ALL)  # the check's own: 19 of 20
    watch.close()
    for sock in held:
        sock.close()
    result.assert_outcomes(failed=2)
    result.stdout.fnmatch_lines([
        "*bus clients connected (of maxclients) 95% ≥ critical 90%*",
        "*bus rejected connections 1 ≥ critical 1*"])


def test_failing_saves_fail_persistence_and_age_the_last_save(suite, server_factory):
    server = server_factory(extra_config={"save": "3600 1", "enable-protected-configs": "yes"})
    gone = server.dir / "gone"
    gone.mkdir()
    server.config_set("dir", str(gone))
    gone.rmdir()  # the next snapshot cannot create its temp file
    client = server.client()
    client.bgsave()
    wait_for(lambda: client.info("persistence")["rdb_last_bgsave_status"] == "err")
    time.sleep(0.7)
    suite.inventory(redis_inventory(
        server, "[components.thresholds.last_save_age]\nwarning = 0.001\ncritical = 0.01\n"))
    result = suite.run("-k", "ping or persistence or save_age", checks=ALL)
    server.config_set("dir", str(server.dir))  # so that it can shut down (it saves on exit)
    result.assert_outcomes(failed=3)
    result.stdout.fnmatch_lines([
        "*bus answered PING with MISCONF Redis is configured to save RDB snapshots, but *"
        "(expected PONG)",
        "*bus persistence failing: rdb_last_bgsave_status err (expected ok)*",
        "*bus last successful save * min ≥ critical 0.01 min*"])


def test_an_idle_redis_has_no_unsaved_age_until_a_write(suite, server_factory):
    """An idle Redis never saves again, so its last save time only grows: with nothing
    changed since a good save the snapshot is current (0 min); one write starts the age."""
    server = server_factory(extra_config={"save": "3600 1"})
    time.sleep(0.7)  # the startup "save" is now older than the level
    suite.inventory(redis_inventory(
        server, "[components.thresholds.last_save_age]\nwarning = 0.001\ncritical = 0.01\n"))
    result = suite.run("-k", "save_age", checks=ALL)
    result.assert_outcomes(passed=1)
    server.client().set("story:1", "x")
    result = suite.run("-k", "save_age", checks=ALL)
    result.assert_outcomes(failed=1)
    result.stdout.fnmatch_lines(["*bus last successful save * min ≥ critical 0.01 min*"])


def test_failing_aof_rewrite_fails_persistence(suite, server_factory):
    server = server_factory(extra_config={"appendonly": "yes", "enable-protected-configs": "yes"})
    gone = server.dir / "gone"
    gone.mkdir()
    server.config_set("dir", str(gone))
    gone.rmdir()  # the rewrite cannot create its new AOF directory
    client = server.client()
    with pytest.raises(Exception, match="AOF background rewriting"):
        client.bgrewriteaof()
    suite.inventory(redis_inventory(server))
    result = suite.run("-k", "persistence", checks=ALL)
    server.config_set("dir", str(server.dir))
    result.assert_outcomes(failed=1)
    result.stdout.fnmatch_lines(["*bus persistence failing: aof_last_bgrewrite_status err "
                                 "(expected ok)*"])


def test_replica_link_up_then_down_when_its_master_stops(suite, server_factory):
    master = server_factory(extra_config={"repl-diskless-sync-delay": 0})
    replica = server_factory(extra_config={"replicaof": f"127.0.0.1 {master.port}"})
    link = lambda: replica.client().info("replication").get("master_link_status")  # noqa: E731
    wait_for(lambda: link() == "up")
    suite.inventory(redis_inventory(replica, name="bus-replica"))
    result = suite.run("-k", "link_up", checks=ALL)
    result.assert_outcomes(passed=1)
    master.stop()
    wait_for(lambda: link() == "down")
    result = suite.run("-k", "link_up", checks=ALL)
    result.assert_outcomes(failed=1)
    result.stdout.fnmatch_lines([f"*bus-replica replica link to 127.0.0.1:{master.port} is down "
                                 "(expected up)*"])


def test_acl_user_from_username_env_authenticates(suite, server_factory, monkeypatch):
    server = server_factory(password=PASSWORD)
    server.client().acl_setuser("checker", enabled=True, passwords=["+checker-pw-91"],
                                commands=["+@all"], keys=["*"])
    monkeypatch.setenv("BUS_USER", "checker")
    monkeypatch.setenv("BUS_PASSWORD", "checker-pw-91")
    suite.inventory(redis_inventory(server, 'username_env = "BUS_USER"\n'
                                            'password_env = "BUS_PASSWORD"\n'))
    result = suite.run("-k", "ping or strangers", checks=ALL)
    result.assert_outcomes(passed=2)


@pytest.mark.parametrize(("extra", "message"), [
    ('username_env = "NO_SUCH_USER_VAR"\n', "*components[[]0[]] (bus): environment variable "
     "NO_SUCH_USER_VAR (named by username_env) is not set; export NO_SUCH_USER_VAR*"),
    ('password_env = "NO_SUCH_PW_VAR"\n', "*components[[]0[]] (bus): environment variable "
     "NO_SUCH_PW_VAR (named by password_env) is not set*"),
    ("memory_budget = -1\n", "*components[[]0[]] (bus).memory_budget: *"),
])
def test_bad_redis_inventory_is_a_usage_error(suite, redis_server, extra, message):
    suite.inventory(redis_inventory(redis_server, extra))
    result = suite.run(checks=ALL)
    assert result.ret == 4
    result.stderr.fnmatch_lines([message])


@pytest.mark.parametrize(("url", "message"), [
    ("redis://", "url 'redis://' is not a redis:// or rediss:// URL with a host; write it like "
     '"redis://127.0.0.1:6379/0"'),
    ("redis://127.0.0.1:70000/0", "url 'redis://127.0.0.1:70000/0' has a port that is not a "
     "number from 1 to 65535*"),
])
def test_url_without_host_or_with_bad_port_is_a_usage_error(suite, url, message):
    suite.inventory(f'[[components]]\nname = "bus"\nkind = "redis"\nurl = "{url}"\n')
    result = suite.run(checks=ALL)
    assert result.ret == 4
    result.stderr.fnmatch_lines([f"*(bus): {message}"])


def test_bad_url_scheme_and_inline_password_are_usage_errors(suite):
    suite.inventory('[[components]]\nname = "bus"\nkind = "redis"\nurl = "http://127.0.0.1:1"\n')
    result = suite.run(checks=ALL)
    assert result.ret == 4
    result.stderr.fnmatch_lines(["*(bus): url 'http://127.0.0.1:1' is not a redis:// or "
                                 "rediss:// URL with a host*"])
    suite.inventory('[[components]]\nname = "bus"\nkind = "redis"\n'
                    'url = "redis://:hunter2@127.0.0.1:1/0"\n')
    result = suite.run(checks=ALL)
    assert result.ret == 4
    result.stderr.fnmatch_lines(["*secret written inline*"])
