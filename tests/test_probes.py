"""Declarative probes against real Redis, PostgreSQL and SQLite: levels, rows, bad probes."""

from __future__ import annotations

import sqlite3
import time
from pathlib import Path

# imported here, outside the in-process runs: pytester drops modules a run imports, and
# psycopg's C extension would then raise exception classes of the dropped copy
import psycopg  # noqa: F401
import pytest
from servers import PostgresServer, RedisServer

CHECKS = ("probes",)


@pytest.fixture
def coord_db(tmp_path: Path) -> Path:
    """A coordination database: heartbeats, tests, decisions (times are unix seconds)."""
    path = tmp_path / "coordination.db"
    now = time.time()
    conn = sqlite3.connect(path)
    conn.executescript("""
        PRAGMA journal_mode=wal;
        CREATE TABLE component_health (component TEXT PRIMARY KEY, last_heartbeat REAL);
        CREATE TABLE tests (id TEXT PRIMARY KEY, status TEXT, started REAL);
        CREATE TABLE decisions (id TEXT PRIMARY KEY, status TEXT, created REAL);
    """)
    conn.executemany("INSERT INTO component_health VALUES (?, ?)",
                     [("monitor", now - 5), ("pm", now - 10)])
    conn.executemany("INSERT INTO tests VALUES (?, ?, ?)",
                     [("CP-UFS-001", "in_progress", now - 60), ("CP-UFS-002", "pending", None)])
    conn.execute("INSERT INTO decisions VALUES ('DEC-001', 'pending', ?)", (now - 60,))
    conn.commit()
    conn.close()
    return path


ROW_PROBES = '''
[[probes]]
name = "stale-heartbeats"
component = "coord"
type = "rows"
tier = "critical"
query = """SELECT component, round(unixepoch('now') - last_heartbeat) AS age_s
           FROM component_health WHERE last_heartbeat < unixepoch('now') - 300"""
action = "Restart the agent whose heartbeat is stale"

[[probes]]
name = "stuck-tests"
component = "coord"
type = "rows"
query = """SELECT id, status FROM tests
           WHERE status = 'in_progress' AND started < unixepoch('now') - 1800"""
action = "cli.py skip/reset the test, or restart its loop"

[[probes]]
name = "old-pending-decisions"
component = "coord"
type = "rows"
query = "SELECT id FROM decisions WHERE status = 'pending' AND created < unixepoch('now') - 3600"
action = "cli.py decide DEC-… or escalate"
'''


def coord(path: Path) -> str:
    return f'[[components]]\nname = "coord"\nkind = "sqlite"\npath = "{path}"\n'


def test_row_probes_pass_on_fresh_rows_and_carry_their_markers(suite, coord_db):
    suite.inventory(coord(coord_db) + ROW_PROBES)
    result = suite.run("-v", checks=CHECKS)
    result.assert_outcomes(passed=3)
    result.stdout.fnmatch_lines(["*test_probe[[]coord:stale-heartbeats[]] PASSED*"])
    result.stdout.fnmatch_lines(["coord (sqlite): 3 passed"])
    critical = suite.run("-m", "critical and sqlite", checks=CHECKS)
    critical.assert_outcomes(passed=1, deselected=2)


def test_stale_heartbeats_stuck_tests_and_old_decisions_are_listed(suite, coord_db):
    conn = sqlite3.connect(coord_db)
    conn.execute("UPDATE component_health SET last_heartbeat = last_heartbeat - 600 "
                 "WHERE component = 'monitor'")
    conn.execute("UPDATE tests SET started = started - 3600 WHERE id = 'CP-UFS-001'")
    conn.execute("UPDATE decisions SET created = created - 7200")
    conn.commit()
    conn.close()
    suite.inventory(coord(coord_db) + ROW_PROBES)
    result = suite.run(checks=CHECKS)
    result.assert_outcomes(failed=3)
    result.stdout.fnmatch_lines([
        "*coord probe stale-heartbeats 1 rows ≥ critical 1 rows. Action: Restart the agent whose "
        "heartbeat is stale; rows: {component: monitor, age_s: 6*}"])
    result.stdout.fnmatch_lines(["*coord probe stuck-tests 1 rows ≥ critical 1 rows*"
                                 "rows: {id: CP-UFS-001, status: in_progress}"])
    result.stdout.fnmatch_lines(["*coord probe old-pending-decisions 1 rows*{id: DEC-001}"])


def test_row_listing_is_bounded(suite, tmp_path):
    path = tmp_path / "many.db"
    conn = sqlite3.connect(path)
    conn.execute("CREATE TABLE t (id INTEGER)")
    conn.executemany("INSERT INTO t VALUES (?)", [(i,) for i in range(25)])
    conn.commit()
    conn.close()
    suite.inventory(coord(path) + '[[probes]]\nname = "all"\ncomponent = "coord"\n'
                    'type = "rows"\nquery = "SELECT id FROM t"\n')
    result = suite.run(checks=CHECKS)
    result.assert_outcomes(failed=1)
    result.stdout.fnmatch_lines(["*coord probe all 25 rows ≥ critical 1 rows. Action: rows: "
                                 "{id: 0}; *; {id: 9} (+15 more)"])


def redis_component(server: RedisServer) -> str:
    return (f'[[components]]\nname = "factory-redis"\nkind = "redis"\n'
            f'url = "redis://127.0.0.1:{server.port}/0"\n')


SPEND = """
[[probes]]
name = "spend-today"
component = "factory-redis"
query = "GET dash:spend:daily:total"
warning = 30
critical = 50
unit = "USD"
description = "LiteLLM spend today"
action = "Find the runaway agent (dash:spend:daily:*) and pause it"
remediation = "pause_agents"
"""


@pytest.mark.parametrize(("spend", "outcome"), [("12.5", "passed"), ("35", "warning"),
                                                 ("55.2", "failed")])
def test_redis_value_probe_against_its_levels(suite, redis_server, spend, outcome):
    redis_server.client().set("dash:spend:daily:total", spend)
    suite.inventory(redis_component(redis_server) + SPEND)
    result = suite.run(checks=CHECKS)
    if outcome == "failed":
        result.assert_outcomes(failed=1)
        result.stdout.fnmatch_lines([
            "*factory-redis probe spend-today 55.2 USD ≥ critical 50 USD (warning 30 USD). "
            "Action: Find the runaway agent (dash:spend:daily:*) and pause it"])
    elif outcome == "warning":
        result.assert_outcomes(passed=1, warnings=1)
    else:
        result.assert_outcomes(passed=1)


@pytest.mark.parametrize(("setup", "message"), [
    ("", "probe spend-today on factory-redis: returned no value (no row, NULL or missing key); "
         "query: GET dash:spend:daily:total"),
    ("lots", "probe spend-today on factory-redis: returned 'lots', not a number; query: *"),
])
def test_bad_redis_probe_answers_name_the_probe(suite, redis_server, setup, message):
    if setup:
        redis_server.client().set("dash:spend:daily:total", setup)
    suite.inventory(redis_component(redis_server) + SPEND)
    result = suite.run(checks=CHECKS)
    result.assert_outcomes(failed=1)
    result.stdout.fnmatch_lines([message])


def pg_component(server: PostgresServer) -> str:
    return (f'[[components]]\nname = "wave-postgres"\nkind = "postgres"\n'
            f'dsn = "postgresql://postgres@127.0.0.1:{server.port}/postgres"\n')


@pytest.mark.parametrize(("query", "message"), [
    ("SELECT count(*) FROM stories", "probe stories on wave-postgres: query failed: "
     'UndefinedTable: relation "stories" does not exist*; query: SELECT count(*) FROM stories'),
    ("SELECT 1 WHERE false", "probe stories on wave-postgres: returned no value*"),
    ("SELECT 'many'", "probe stories on wave-postgres: returned 'many', not a number*"),
    ("SELECT 7", "*wave-postgres probe stories 7 ≥ critical 5 (warning 3)*"),
])
def test_postgres_value_probes_and_bad_queries(suite, postgres_server_session, query, message):
    suite.inventory(pg_component(postgres_server_session) + '[[probes]]\nname = "stories"\n'
                    f'component = "wave-postgres"\nquery = "{query}"\nwarning = 3\ncritical = 5\n')
    result = suite.run(checks=CHECKS)
    result.assert_outcomes(failed=1)
    result.stdout.fnmatch_lines([message])


def test_a_bad_probe_does_not_mark_its_component_unreachable(suite, coord_db):
    suite.inventory(coord(coord_db) + '[[probes]]\nname = "broken"\ncomponent = "coord"\n'
                    'query = "SELECT nope FROM nowhere"\ncritical = 1\n\n'
                    '[[probes]]\nname = "tests-pending"\ncomponent = "coord"\n'
                    "query = \"SELECT count(*) FROM tests WHERE status = 'pending'\"\n"
                    "warning = 3\ncritical = 5\n")
    result = suite.run(checks=CHECKS)
    result.assert_outcomes(passed=1, failed=1)
    result.stdout.fnmatch_lines(["probe broken on coord: query failed: OperationalError: no such "
                                 "table: nowhere; query: SELECT nope FROM nowhere"])


def test_probe_of_a_stopped_component_fails_in_one_line(suite, tmp_path):
    server = RedisServer(tmp_path / "r").start()
    server.stop()
    suite.inventory(redis_component(server) + SPEND + SPEND.replace("spend-today", "spend-2"))
    result = suite.run(checks=CHECKS)
    result.assert_outcomes(failed=1, errors=1)
    result.stdout.fnmatch_lines([f"factory-redis unreachable at 127.0.0.1:{server.port}: "
                                 "ConnectionError: *"])
    result.stdout.fnmatch_lines(["*could not run: factory-redis unreachable*"])


def test_no_probes_means_no_probe_checks(suite, coord_db):
    suite.inventory(coord(coord_db))
    result = suite.run(checks=CHECKS)
    assert result.ret == 5  # no test ran: the probe check's placeholder is deselected
    result.stdout.fnmatch_lines(["*= 1 deselected in *"])


@pytest.mark.parametrize(("probe", "message"), [
    ('name = "p"\ncomponent = "ghost"\nquery = "SELECT 1"\ncritical = 1\n',
     "probes.0: probe 'p' names unknown component 'ghost'; use one of: coord"),
    ('name = "p"\ncomponent = "coord"\nquery = "SELECT 1"\n',
     "probes.0: probe 'p' has no levels; set warning and/or critical"),
    ('name = "p"\ncomponent = "coord"\nquery = "SELECT 1"\ncritical = 1\ntier = "urgent"\n',
     "probes.0.tier: *"),
    ('name = "p"\ncomponent = "coord"\nquery = "SELECT 1"\ncritical = 1\nlimit = 3\n',
     "probes.0.limit: unknown key 'limit'; allowed keys here: *"),
    ('name = "p q"\ncomponent = "coord"\nquery = "SELECT 1"\ncritical = 1\n',
     "probes.0: probe name 'p q' must start with a letter or digit*"),
])
def test_bad_probes_are_usage_errors(suite, coord_db, probe, message):
    suite.inventory(coord(coord_db) + "[[probes]]\n" + probe)
    result = suite.run(checks=CHECKS)
    assert result.ret == 4
    result.stderr.fnmatch_lines([f"*inventory.toml: {message}"])


def test_unsupported_probe_kind_and_duplicates_are_usage_errors(suite, redis_server, coord_db):
    rows = ('[[probes]]\nname = "q"\ncomponent = "factory-redis"\ntype = "rows"\n'
            'query = "KEYS *"\n')
    suite.inventory(redis_component(redis_server) + rows)
    result = suite.run(checks=CHECKS)
    assert result.ret == 4
    result.stderr.fnmatch_lines(["*probes.0: probe 'q': a redis component cannot answer rows "
                                 "probes; point it at a component of kind *postgres*"])
    suite.inventory(coord(coord_db) + ROW_PROBES + ROW_PROBES.split("\n\n")[0])
    result = suite.run(checks=CHECKS)
    assert result.ret == 4
    result.stderr.fnmatch_lines(["*probes: duplicate probe name 'stale-heartbeats'*"])


@pytest.mark.parametrize("query", ["FLUSHALL", "set dash:spend:daily:total 0", "INFO memory",
                                   "MGET a b", "CONFIG SET save ''", "EVAL 'return 1' 0", "  "])
def test_redis_probe_runs_read_only_commands_only(suite, redis_server, query):
    client = redis_server.client()
    client.set("dash:spend:daily:total", "12.5")
    suite.inventory(redis_component(redis_server)
                    + SPEND.replace('"GET dash:spend:daily:total"', repr(query)))
    result = suite.run(checks=CHECKS)
    assert result.ret == 4
    errors = [line for line in result.stderr.lines if line.startswith("ERROR")]
    assert len(errors) == 1, result.stderr.str()
    shown = query.split()[0].upper() if query.strip() else "(empty)"
    result.stderr.fnmatch_lines([f"ERROR: *inventory.toml: probes.0: probe 'spend-today': "
                                 f"command {shown} is not allowed: probes are read-only and "
                                 "answer one value; use one of GET, HGET, *, PTTL, DBSIZE"])
    assert client.get("dash:spend:daily:total") == "12.5"  # nothing ran
    assert "Traceback" not in result.stdout.str() + result.stderr.str()


def test_redis_probe_read_only_commands_load_and_run(suite, redis_server):
    suite.inventory(redis_component(redis_server)
                    + SPEND.replace("GET dash:spend:daily:total", "dbsize")
                    + SPEND.replace("spend-today", "spend-key").replace(
                        "GET dash:spend:daily:total", "EXISTS dash:spend:daily:total"))
    result = suite.run("-k", "spend", checks=CHECKS)
    result.assert_outcomes(passed=2)
