"""Redis probes cannot write: the server's own command flags decide, against real servers.

``PFCOUNT`` was allow-listed as read-only, yet caches its count into the HyperLogLog: the
key's bytes changed and ``rdb_changes_since_last_save`` (Redis's ``dirty``) grew. Now each
probe's command is judged by ``COMMAND INFO`` before it runs, less a documented deny list,
and every sweep leaves the keyspace byte-identical and ``dirty`` where it was.
"""

from __future__ import annotations

from typing import Any

import pytest
from servers import RedisServer

from opscheck.readonly.redis import WRITES_ANYWAY, command_problem

ALL = ("redis", "probes")


def keyspace(server: RedisServer) -> dict[str, Any]:
    """Every key's serialized bytes, and the count of changes since the last save."""
    with server.client(decode_responses=False) as client:
        found: dict[Any, Any] = {key: client.dump(key) for key in sorted(client.scan_iter())}
        found["(dirty)"] = client.info("persistence")["rdb_changes_since_last_save"]
    return found


def command_info(server: RedisServer, *names: str) -> list[Any]:
    """The server's raw ``COMMAND INFO`` entries, as opscheck's target reads them."""
    with server.client() as client:
        client.set_response_callback("COMMAND", lambda response, **_: response)
        return list(client.execute_command("COMMAND", "INFO", *names))


def inventory(server: RedisServer, *queries: str) -> str:
    text = (f'[[components]]\nname = "bus"\nkind = "redis"\n'
            f'url = "redis://127.0.0.1:{server.port}/0"\nmemory_budget = 1000000000\n')
    for i, query in enumerate(queries):
        text += (f'\n[[probes]]\nname = "p{i}"\ncomponent = "bus"\nquery = "{query}"\n'
                 "critical = 1000\n")
    return text


@pytest.fixture
def hll(redis_server: RedisServer) -> RedisServer:
    """A HyperLogLog whose cached count is stale (PFADD leaves it so), and a string."""
    with redis_server.client() as client:
        client.pfadd("visitors", "a", "b", "c")
        client.set("dash:spend:daily:total", "12.5")
    return redis_server


def test_pfcount_is_refused_at_load_and_the_hyperloglog_is_untouched(suite, hll):
    before = keyspace(hll)
    suite.inventory(inventory(hll, "PFCOUNT visitors"))
    result = suite.run(checks=ALL)
    assert keyspace(hll) == before
    assert result.ret == pytest.ExitCode.USAGE_ERROR
    result.stderr.fnmatch_lines(["ERROR: *inventory.toml: probes.0: probe 'p0': command PFCOUNT "
                                 "is refused: flagged readonly, yet stores its computed count in "
                                 "the HyperLogLog (a write); probes are read-only"])


def test_the_servers_own_flags_say_pfcount_writes(redis_server):
    """Without the deny list, Redis 7's key specs (RW) already refuse PFCOUNT; GET passes."""
    pfcount, get, missing = command_info(redis_server, "PFCOUNT", "GET", "NO-SUCH-COMMAND")
    assert "PFCOUNT" in WRITES_ANYWAY  # for Redis 6, whose COMMAND INFO has no key specs
    judged = command_problem("pfcount-by-its-flags-alone", pfcount)
    assert judged is not None and "its key spec says RW" in judged, judged
    assert command_problem("GET", get) is None
    assert "unknown to this server" in (command_problem("NO-SUCH-COMMAND", missing) or "")


def test_a_write_renamed_onto_an_allowed_name_is_judged_by_its_flags(suite, tmp_path):
    """GET is on the model's list, but on this server GET is SET: the flags refuse it."""
    config = {"rename-command": "GET GET_ORIGINAL\nrename-command SET GET"}
    with RedisServer(tmp_path / "renamed", extra_config=config) as server:
        before = keyspace(server)
        suite.inventory(inventory(server, "GET dash:spend:daily:total 99", "DBSIZE"))
        result = suite.run(checks=("probes",))
        assert keyspace(server) == before
    result.assert_outcomes(failed=1, passed=1)
    result.stdout.fnmatch_lines(["probe p0 on bus: command GET writes by the server's own "
                                 "account (not flagged readonly; flagged write; in ACL category "
                                 "@write; its key spec says RW; its key spec says UPDATE): "
                                 "probes are read-only; query: *"])


def test_a_full_redis_sweep_leaves_the_keyspace_byte_identical(suite, hll):
    before = keyspace(hll)
    suite.inventory(inventory(hll, "GET dash:spend:daily:total", "DBSIZE",
                              "EXISTS visitors", "STRLEN dash:spend:daily:total"))
    result = suite.run("-m", "critical or standard or deep", checks=ALL)
    assert keyspace(hll) == before
    outcomes = result.parseoutcomes()
    assert outcomes.get("passed", 0) >= 8 and "errors" not in outcomes, outcomes
