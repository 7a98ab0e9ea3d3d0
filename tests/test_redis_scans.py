"""Redis key patterns against a real redis-server holding thousands of keys: the per-agent
spend of whichever agents exist (AF:663-665), a quiet day, counts, values that are not
numbers, the bounds in keys and time, read-only commands only; and the memory check that no
longer skips without maxmemory."""

from __future__ import annotations

import pytest

from opscheck.errors import CouldNotRun
from opscheck.readings.keyscan import KeyScan
from opscheck.readings.redisscan import matching_keys

SPEND = """
[[components.scans]]
name = "spend-per-agent"
match = "dash:spend:daily:*"
exclude = ["dash:spend:daily:total"]
aggregate = "max"
missing = "zero"
critical = 10
unit = "USD"
action = "Runaway agent: pause its work"
[[components.scans]]
name = "agents-spending"
match = "dash:spend:daily:*"
exclude = ["dash:spend:daily:total"]
aggregate = "count"
critical = 7
unit = "agents"
tier = "critical"
"""


def inventory(server, extra: str) -> str:
    return (f'[[components]]\nname = "factory-redis"\nkind = "redis"\n'
            f'url = "redis://127.0.0.1:{server.port}/0"\ntimeout = 2\n{extra}')


def run(suite, *args: str):
    return suite.run("-m", "critical or standard", "-k", "key_scan", "-rA", *args,
                     checks=("redis",))


def fill(server, count: int, prefix: str = "cache:item:") -> None:
    """``count`` unrelated keys the scan must page past."""
    with server.client() as client:
        pipe = client.pipeline(transaction=False)
        for i in range(count):
            pipe.set(f"{prefix}{i}", "x" * 16)
            if i % 5000 == 4999:
                pipe.execute()
        pipe.execute()


def test_per_agent_spend_of_whichever_agents_exist(suite, redis_server):
    fill(redis_server, 5000)
    with redis_server.client() as client:
        client.mset({"dash:spend:daily:total": "31.5", "dash:spend:daily:kev": "9.5",
                     "dash:spend:daily:forge": "4", "dash:spend:daily:scout": "0.75"})
        suite.inventory(inventory(redis_server, SPEND))
        run(suite).assert_outcomes(passed=2)

        client.set("dash:spend:daily:rex", "12.25")  # an agent the profile never named
        result = run(suite)
        result.assert_outcomes(passed=1, failed=1)
        result.stdout.fnmatch_lines([
            "factory-redis spend-per-agent (worst: dash:spend:daily:rex 12.25 USD, "
            "dash:spend:daily:kev 9.5 USD, dash:spend:daily:forge 4 USD, dash:spend:daily:scout "
            "0.75 USD) 12.25 USD ≥ critical 10 USD. Action: Runaway agent: pause its work"])
        assert "dash:spend:daily:total" not in result.stdout.str()

        critical = suite.run("-m", "critical", "-k", "key_scan", checks=("redis",))
        critical.assert_outcomes(passed=1)  # the count carries its own tier

        client.delete(*client.keys("dash:spend:daily:[a-s]*"))  # a quiet day: no agent key
        client.delete("dash:spend:daily:rex")
        run(suite).assert_outcomes(passed=2)


def test_no_key_fails_unless_it_means_zero_and_bad_values_name_their_key(suite, redis_server):
    with redis_server.client() as client:
        client.set("job:1:cost", "2.5")
        client.set("job:2:cost", "n/a")
        client.hset("job:3:cost", mapping={"usd": "1"})
        client.set("queue:depth", "3")
    entries = """
[[components.scans]]
name = "strict"
match = "gone:*"
critical = 1
[[components.scans]]
name = "text"
match = "job:[12]:cost"
critical = 100
[[components.scans]]
name = "hash"
match = "job:[13]:cost"
aggregate = "sum"
critical = 100
"""
    suite.inventory(inventory(redis_server, entries))
    result = run(suite)
    result.assert_outcomes(failed=3)
    result.stdout.fnmatch_lines_random([
        "factory-redis strict: no key matches gone:*; expected at least one (set missing = "
        "\"zero\" if none means 0)",
        "factory-redis text: key job:2:cost: 'n/a' is not a number",
        "factory-redis hash: key job:3:cost is a hash, not a number (GET gives nothing)",
    ])


def test_the_scan_is_bounded_in_keys_and_time(suite, redis_server):
    fill(redis_server, 20000)
    entries = """
[[components.scans]]
name = "too-many"
match = "cache:item:*"
aggregate = "count"
max_keys = 1000
critical = 1
[[components.scans]]
name = "too-slow"
match = "nothing:*"
aggregate = "count"
count = 10
seconds = 0.05
critical = 1
"""
    suite.inventory(inventory(redis_server, entries))
    result = run(suite)
    result.assert_outcomes(errors=2)
    result.stdout.fnmatch_lines_random([
        "*could not run: more than max_keys 1000 keys match cache:item:*; raise max_keys or "
        "narrow match",
        "*could not run: SCAN MATCH nothing:* not done within 0.05 s (about * keys examined); "
        "raise seconds on the entry",
    ])


def test_a_scan_sends_read_only_commands_only(suite, redis_server):
    fill(redis_server, 3000)
    with redis_server.client() as client:
        client.set("dash:spend:daily:kev", "1")
        client.hset("dash:spend:daily:odd", mapping={"a": "1"})
        client.config_resetstat()
    suite.inventory(inventory(redis_server, SPEND))
    run(suite)
    with redis_server.client() as client:
        used = {name.removeprefix("cmdstat_") for name in client.info("commandstats")}
        flags = {name: set(client.execute_command("COMMAND", "INFO", name)[name]["flags"])
                 for name in used if "|" not in name}
    assert used >= {"scan", "mget", "type"}
    writers = {name for name, f in flags.items() if "write" in f}
    assert writers == set(), writers  # CONFIG RESETSTAT itself ran before the run's stats


def test_matching_keys_pages_through_a_large_keyspace(redis_server):
    fill(redis_server, 12000)
    fill(redis_server, 40, prefix="dash:spend:daily:agent-")
    entry = KeyScan(name="s", match="dash:spend:daily:*", critical=1, count=500)
    with redis_server.client() as client:
        keys = matching_keys(client, entry, seconds=10)
        assert len(keys) == 40
        with pytest.raises(CouldNotRun, match="more than max_keys 39"):
            matching_keys(client, entry.model_copy(update={"max_keys": 39}), seconds=10)


def test_memory_without_maxmemory_is_held_against_the_machines_memory(suite, redis_server):
    """Formerly skipped ("maxmemory 0 and no memory_budget"): the audit's silent pass (E9)."""
    suite.inventory(inventory(redis_server, "[components.thresholds.memory]\nwarning = false\n"
                                            "critical = 0.001\n"))
    result = suite.run("-k", "memory_used", checks=("redis",))
    result.assert_outcomes(failed=1)
    result.stdout.fnmatch_lines(["*factory-redis memory used (of system memory, maxmemory 0) "
                                 "*% ≥ critical 0.001%*"])
