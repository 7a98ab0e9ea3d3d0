"""PostgreSQL probes cannot write, whatever their text: hostile probes against a real server.

Each hostile probe is refused (at load, or before it runs) and the server is left as it was:
the table's rows, the next transaction ID (none assigned), the sequence, advisory locks,
settings, another session, files on the server's disk.
"""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from typing import Any

# imported here, outside the in-process runs: pytester drops modules a run imports, and
# psycopg's C extension would then raise exception classes of the dropped copy
import psycopg
import pytest
from servers import PostgresServer, make_owned_tempdir

from opscheck.components.postgres import PostgresComponent
from opscheck.probes import ProbeError
from opscheck.readonly.postgres import ACTS_ANYWAY, function_problem
from opscheck.targets.postgres import PostgresTarget

CHECKS = ("probes",)


@pytest.fixture(scope="module")
def pg() -> Iterator[PostgresServer]:
    """A cluster with autovacuum off (nothing else takes transaction IDs), table t (n 1..50),
    sequence s, dblink, and an empty folder the server may write to."""
    tmp = make_owned_tempdir("opscheck-pg-ro-", "postgres")
    server = PostgresServer(tmp, settings={"autovacuum": "off"})
    try:
        server.start()
        server.query("CREATE TABLE t (n int); INSERT INTO t SELECT generate_series(1, 50); "
                     "CREATE SEQUENCE s; CREATE EXTENSION dblink; "
                     "CREATE FUNCTION mine() RETURNS int LANGUAGE sql AS 'SELECT 1'")
        outbox = tmp / "outbox"
        outbox.mkdir()
        shutil.chown(outbox, "postgres", "postgres")
        yield server
    finally:
        server.stop()
        shutil.rmtree(tmp, ignore_errors=True)


@pytest.fixture
def victim(pg: PostgresServer) -> Iterator[psycopg.Connection]:
    """Another session, which no probe may end."""
    conn = psycopg.connect(pg.dsn_for("postgres"), autocommit=True, application_name="victim")
    yield conn
    conn.close()


def state(pg: PostgresServer, victim: psycopg.Connection) -> dict[str, Any]:
    """What a write would change; reading it assigns no transaction ID."""
    one = {
        "rows": "SELECT count(*), md5(string_agg(n::text, ',' ORDER BY n)) FROM t",
        "next xid": "SELECT pg_snapshot_xmax(pg_current_snapshot())::text",
        "sequence": "SELECT last_value, is_called FROM s",
        "advisory locks": "SELECT count(*) FROM pg_locks WHERE locktype = 'advisory'",
        "tables": "SELECT count(*) FROM pg_class WHERE relkind = 'r'",
        "large objects": "SELECT count(*) FROM pg_largeobject_metadata",
    }
    found: dict[str, Any] = {key: pg.query(sql)[0] for key, sql in one.items()}
    found["victim"] = victim.execute("SELECT 'alive'").fetchone()
    found["files"] = sorted(p.name for p in (pg.dir / "outbox").iterdir())
    return found


def inventory(pg: PostgresServer, queries: list[str]) -> str:
    text = (f'[[components]]\nname = "state"\nkind = "postgres"\ntimeout = 2\n'
            f'dsn = "postgresql://postgres@127.0.0.1:{pg.port}/postgres"\n')
    for i, query in enumerate(queries):
        text += (f'\n[[probes]]\nname = "hostile-{i}"\ncomponent = "state"\n'
                 f"query = '''{query}'''\ncritical = 1000\n")
    return text


LOAD_REFUSED = [
    ("SET TRANSACTION READ WRITE; DELETE FROM t WHERE n <= 20; COMMIT; SELECT 1",
     "holds 4 statements: a probe is exactly one SELECT*"),
    ("COMMIT; SELECT pg_sleep(3)", "holds 2 statements*"),
    ("COPY (SELECT 1) TO PROGRAM 'touch {outbox}/program'", "COPY is not a SELECT*"),
    ("COPY t TO '{outbox}/copy'", "COPY is not a SELECT*"),
    ("DELETE FROM t", "DELETE is not a SELECT*"),
    ("WITH gone AS (DELETE FROM t WHERE n <= 20 RETURNING 1) SELECT count(*) FROM gone",
     "has a data-modifying WITH (DELETE): probes are read-only"),
    ("SELECT n INTO copied FROM t", "has SELECT INTO, which creates a table*"),
    ("SELECT count(*) FROM (SELECT n FROM t FOR UPDATE) AS locked",
     "locks rows (FOR UPDATE/SHARE)*"),
    ("SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity "
     "WHERE application_name = 'victim'",
     "calls pg_terminate_backend(), which ends other sessions: probes are read-only"),
    ("SELECT count(pg_catalog.pg_cancel_backend(pid)) FROM pg_stat_activity",
     "calls pg_cancel_backend(), which cancels other sessions' queries*"),
    ("SELEC 1", "is not valid SQL: syntax error at or near \"SELEC\" at character 1"),
]


@pytest.mark.parametrize(("query", "message"), LOAD_REFUSED)
def test_a_hostile_probe_is_refused_at_load_and_nothing_changes(suite, pg, victim, query,
                                                                message):
    query = query.replace("{outbox}", str(pg.dir / "outbox"))
    before = state(pg, victim)
    suite.inventory(inventory(pg, [query]))
    result = suite.run(checks=CHECKS)
    assert state(pg, victim) == before
    assert result.ret == pytest.ExitCode.USAGE_ERROR, result.stdout.str()
    errors = [line for line in result.stderr.lines if line.startswith("ERROR")]
    assert len(errors) == 1, result.stderr.str()
    result.stderr.fnmatch_lines([f"ERROR: *inventory.toml: probes.0: probe 'hostile-0': "
                                 f"{message}"])


RUN_REFUSED = [
    ("SELECT set_config('statement_timeout', '0', false)", "set_config", "PARALLEL UNSAFE"),
    ("SELECT set_config('default_transaction_read_only', 'off', false)", "set_config",
     "PARALLEL UNSAFE"),
    ("SELECT nextval('s')", "nextval", "PARALLEL UNSAFE"),
    ("SELECT setval('s', 99)", "setval", "PARALLEL UNSAFE"),
    ("SELECT txid_current()", "txid_current", "PARALLEL UNSAFE"),
    ("SELECT lo_export(lo_from_bytea(0, 'x'), '{outbox}/lo')", "lo_export", "PARALLEL UNSAFE"),
    ("SELECT mine()", "mine", "PARALLEL UNSAFE"),
    ("SELECT count(*) FROM query_to_xml('DELETE FROM t', true, false, '') AS x",
     "query_to_xml", "PARALLEL UNSAFE"),
    ("SELECT pg_advisory_lock(7)", "pg_advisory_lock", "VOLATILE and PARALLEL RESTRICTED"),
    ("SELECT pg_notify('channel', 'x') IS NULL", "pg_notify", "VOLATILE and PARALLEL RESTRICTED"),
    ("SELECT dblink_exec('{dsn}', 'DELETE FROM t')", "dblink_exec",
     "VOLATILE and PARALLEL RESTRICTED"),
    ("SELECT pg_reload_conf()", "pg_reload_conf", "VOLATILE administration function"),
    ("SELECT pg_switch_wal() IS NULL", "pg_switch_wal", "VOLATILE administration function"),
    ("SELECT pg_stat_reset() IS NULL", "pg_stat_reset", "VOLATILE administration function"),
]


def test_probes_calling_acting_functions_are_refused_before_they_run(suite, pg, victim):
    queries = [q.replace("{outbox}", str(pg.dir / "outbox")).replace("{dsn}", pg.dsn)
               for q, _, _ in RUN_REFUSED]
    before = state(pg, victim)
    suite.inventory(inventory(pg, queries))
    result = suite.run(checks=CHECKS)
    assert state(pg, victim) == before
    result.assert_outcomes(failed=len(RUN_REFUSED))
    for i, (_, function, why) in enumerate(RUN_REFUSED):
        result.stdout.fnmatch_lines([f"probe hostile-{i} on state: calls {function}(), refused: "
                                     f"*{why}*; probes are read-only; query: *"])


def test_read_only_probes_still_run(suite, pg, victim):
    reads = ["SELECT count(*) FROM t", "SELECT pg_database_size(current_database())",
             "SELECT sum(size) FROM pg_ls_waldir()", "SELECT extract(epoch FROM now())",
             "WITH x AS (SELECT n FROM t WHERE n > 40) SELECT count(*) FROM x",
             "SELECT count(*) FROM pg_stat_activity WHERE application_name = 'victim'"]
    before = state(pg, victim)
    suite.inventory(inventory(pg, reads).replace("critical = 1000", "critical = 1e12"))
    suite.run(checks=CHECKS).assert_outcomes(passed=len(reads))
    assert state(pg, victim) == before


@pytest.fixture
def target(pg: PostgresServer) -> Iterator[PostgresTarget]:
    component = PostgresComponent(name="state", dsn=pg.dsn_for("postgres"), timeout=2)
    opened = PostgresTarget.open(component)
    yield opened
    opened.close()


def test_the_extended_protocol_refuses_several_statements(target, pg, victim):
    """Below the probe guards: the target's own query path runs one statement only."""
    before = state(pg, victim)
    with pytest.raises(psycopg.errors.SyntaxError, match="cannot insert multiple commands"):
        target.query("SET TRANSACTION READ WRITE; DELETE FROM t WHERE n <= 20; COMMIT; SELECT 1")
    with pytest.raises(ProbeError, match="holds 4 statements"):
        target.scalar("SET TRANSACTION READ WRITE; DELETE FROM t WHERE n <= 20; COMMIT; SELECT 1")
    assert state(pg, victim) == before


#: PostgreSQL 15's volatile functions the catalog rule allows, each reviewed as a read or as
#: harmless (internal handlers and trigger functions cannot be called from a SELECT;
#: pg_sleep is bounded by statement_timeout); pg_read_file_old reads (superusers only)
REVIEWED = set("""
RI_FKey_cascade_del RI_FKey_cascade_upd RI_FKey_check_ins RI_FKey_check_upd
RI_FKey_noaction_del RI_FKey_noaction_upd RI_FKey_restrict_del RI_FKey_restrict_upd
RI_FKey_setdefault_del RI_FKey_setdefault_upd RI_FKey_setnull_del RI_FKey_setnull_upd
amvalidate bernoulli brinhandler bthandler clock_timestamp gen_random_uuid ginhandler
gisthandler hashhandler heap_tableam_handler pg_blocking_pids pg_collation_actual_version
pg_control_checkpoint pg_control_init pg_control_recovery pg_control_system
pg_current_wal_flush_lsn pg_current_wal_insert_lsn pg_current_wal_lsn
pg_database_collation_actual_version pg_database_size pg_get_multixact_members
pg_get_shmem_allocations pg_get_wal_replay_pause_state pg_get_wal_resource_managers
pg_indexes_size pg_is_in_recovery pg_is_wal_replay_paused pg_isolation_test_session_is_blocked
pg_jit_available pg_last_committed_xact pg_last_wal_receive_lsn pg_last_wal_replay_lsn
pg_last_xact_replay_timestamp pg_lock_status pg_ls_archive_statusdir pg_ls_logdir
pg_ls_logicalmapdir pg_ls_logicalsnapdir pg_ls_replslotdir pg_ls_tmpdir pg_ls_waldir
pg_partition_ancestors pg_partition_tree pg_prepared_xact pg_read_file_old pg_relation_size
pg_safe_snapshot_blocking_pids pg_sleep pg_sleep_for pg_sleep_until
pg_stat_get_recovery_prefetch pg_table_size pg_tablespace_size pg_total_relation_size
pg_xact_commit_timestamp pg_xact_commit_timestamp_origin pg_xact_status spghandler
suppress_redundant_updates_trigger system timeofday tsvector_update_trigger
tsvector_update_trigger_column txid_status unique_key_recheck
""".split())  # noqa: SIM905 - one name per word reads best here


def test_the_function_rule_over_the_whole_catalog(target):
    """Every volatile function of pg_catalog the rule lets through was reviewed; the names it
    cannot tell (ACTS_ANYWAY) are exactly the ones refused by name."""
    names = [r["proname"] for r in target.query(
        "SELECT DISTINCT proname FROM pg_proc WHERE pronamespace = 'pg_catalog'::regnamespace "
        "AND provolatile = 'v'")]
    allowed = {n for n in names if function_problem(("pg_catalog", n), target.query) is None}
    assert allowed - set(ACTS_ANYWAY) == REVIEWED, (
        f"review these: new {sorted(allowed - set(ACTS_ANYWAY) - REVIEWED)}, "
        f"gone {sorted(REVIEWED - allowed)}")
    assert set(ACTS_ANYWAY) <= allowed  # the flags miss them: the name list is needed
    refused = {"set_config", "nextval", "setval", "lo_import", "lo_export", "lo_unlink",
               "pg_advisory_lock", "pg_try_advisory_lock", "pg_notify", "pg_reload_conf",
               "pg_switch_wal", "pg_promote", "pg_stat_reset", "pg_rotate_logfile",
               "pg_create_physical_replication_slot", "pg_backup_start", "pg_read_file",
               "pg_logical_emit_message", "query_to_xml", "pg_export_snapshot"}
    assert refused <= set(names) - allowed
    stable = ["txid_current", "pg_current_xact_id"]  # stable, yet they take a transaction ID
    assert all(function_problem((None, n), target.query) for n in stable)


def test_a_superuser_role_warns_and_a_monitoring_role_passes(suite, pg):
    pg.query("DROP ROLE IF EXISTS watcher; CREATE ROLE watcher LOGIN IN ROLE pg_monitor")
    suite.inventory(inventory(pg, []))
    result = suite.run("-k", "role", "-W", "error::opscheck.thresholds.ThresholdWarning",
                       checks=("postgres",))
    result.assert_outcomes(failed=1)
    result.stdout.fnmatch_lines(["*state role superuser (postgres) 1 ≥ warning 1. Action: Connect "
                                 "as a role without write rights (pg_monitor and SELECT grants*"])
    suite.inventory(inventory(pg, []).replace("postgresql://postgres@", "postgresql://watcher@"))
    result = suite.run("-k", "role", "-W", "error::opscheck.thresholds.ThresholdWarning",
                       checks=("postgres",))
    result.assert_outcomes(passed=1)

