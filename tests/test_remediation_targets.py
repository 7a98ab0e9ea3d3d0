"""Where an action acts: the emergency-stop file the files check watches, and targets taken
from the component the action runs for (its Redis with AUTH, its SQLite file, its queue).

Also path parameters (``~``, ``${VARS}``) and kind mismatches: one-line usage errors.
"""

from __future__ import annotations

import sqlite3
import textwrap
from pathlib import Path

import pytest
from remediation_kit import (
    allow_command,
    audit,
    decisions,
    flag_check,
    make_queue,
    remediation_toml,
)
from servers import RedisServer
from test_remediation_actions import check, ran

from opscheck.suite import load as load_inventory

STOP = "${OPSCHECK_TEST_PROJECT}/.claude/EMERGENCY-STOP"


def files_component(name: str = "project-files") -> str:
    return f'[[components]]\nname = "{name}"\nkind = "files"\n'


@pytest.mark.parametrize("where", ["system", "remediation"])
def test_a_stop_file_with_variables_vetoes_as_the_files_check_sees_it(suite, monkeypatch,
                                                                      where):
    project = suite.path / "project"
    monkeypatch.setenv("OPSCHECK_TEST_PROJECT", str(project))
    stop = project / ".claude" / "EMERGENCY-STOP"
    stop.parent.mkdir(parents=True)
    stop.write_text("STOP\n")
    flag = suite.path / "flag"
    flag.write_text("down\n")
    flag_check(suite, flag)
    log = suite.path / "actions.log"
    table = {"emergency_stop": STOP} if where == "remediation" else {}
    system = f'[system]\nemergency_stop = "{STOP}"\n' if where == "system" else ""
    own = f'emergency_stop = "{STOP}"\n' if where == "remediation" else ""  # same file
    path = suite.inventory(system + files_component() + own + remediation_toml(
        [allow_command(["sh", "-c", f"echo ran >> {log}; rm -f {flag}"])], **table))
    inv = load_inventory(path)
    assert inv.section("remediation").emergency_stop == inv.get("project-files").emergency_stop \
        == str(stop)
    halted = suite.run("-k", "emergency", checks=("files",))
    halted.assert_outcomes(failed=1)
    halted.stdout.fnmatch_lines([f"*emergency-stop file {stop} present*"])
    result = suite.run_files("--remediate=apply")
    result.assert_outcomes(failed=1)
    result.stdout.fnmatch_lines([f"*NOT REMEDIATED (skipped: emergency stop)*: emergency-stop "
                                 f"file {stop} exists"])
    assert flag.exists() and not log.exists()
    assert decisions(suite.path) == ["skipped: emergency stop"]


@pytest.mark.parametrize("where", ["system", "remediation"])
def test_an_unset_variable_in_the_stop_file_is_a_usage_error(suite, monkeypatch, where):
    monkeypatch.delenv("OPSCHECK_TEST_PROJECT", raising=False)
    table = {"emergency_stop": STOP} if where == "remediation" else {}
    system = f'[system]\nemergency_stop = "{STOP}"\n' if where == "system" else ""
    suite.inventory(system + remediation_toml([allow_command(["true"])], **table))
    result = suite.run("--collect-only")
    assert result.ret == pytest.ExitCode.USAGE_ERROR
    key = ("remediation: emergency_stop (default: [[]system[]].emergency_stop): "
           if where == "system" else "remediation.emergency_stop: ")
    result.stderr.fnmatch_lines([f"ERROR: *inventory.toml: {key}path '{STOP}' uses environment "
                                 "variable OPSCHECK_TEST_PROJECT, which is not set; export "
                                 "OPSCHECK_TEST_PROJECT or write the path in full"])


def test_bgsave_without_url_saves_its_components_redis_with_auth(suite, tmp_path, monkeypatch):
    server = RedisServer(tmp_path / "redis", password="s3cret pw").start()
    monkeypatch.setenv("OPSCHECK_TEST_REDIS_PW", "s3cret pw")
    try:
        dump = server.rdb_path
        dump.unlink(missing_ok=True)
        check(suite, "dump", "redis_bgsave", "cache", f"not os.path.exists({str(dump)!r})",
              "'no RDB dump'", kind="redis")
        url = f"redis://127.0.0.1:{server.port}/0"
        suite.inventory(textwrap.dedent(f'''
            [[components]]
            name = "cache"
            kind = "redis"
            url = "{url}"
            password_env = "OPSCHECK_TEST_REDIS_PW"
            ''') + remediation_toml([{"component": "cache", "action": "redis_bgsave"}]))
        ran(suite.run_files("--remediate=apply"))
        assert dump.stat().st_size > 0
        assert audit(suite.path)[0]["summary"].startswith(f"BGSAVE on {url} done")
    finally:
        server.stop()


def test_checkpoint_without_path_checkpoints_its_components_file(suite, tmp_path):
    db = tmp_path / "state.db"
    writer = sqlite3.connect(db)
    writer.execute("PRAGMA journal_mode=WAL")
    writer.execute("PRAGMA wal_autocheckpoint=0")
    writer.execute("CREATE TABLE t (x TEXT)")
    writer.executemany("INSERT INTO t VALUES (?)", [("x" * 500,)] * 400)
    writer.commit()
    wal = Path(f"{db}-wal")
    check(suite, "wal", "checkpoint_wal", "coordination",
          f"os.path.getsize({str(wal)!r}) > 100_000", "'WAL over 100000 bytes'", kind="sqlite")
    suite.inventory(f'[[components]]\nname = "coordination"\nkind = "sqlite"\npath = "{db}"\n'
                    + remediation_toml([{"component": "coordination",
                                         "action": "checkpoint_wal"}]))
    try:
        ran(suite.run_files("--remediate=apply"))
        assert wal.stat().st_size == 0
    finally:
        writer.close()


def test_requeue_without_queue_uses_its_components_layout(suite, tmp_path):
    root = make_queue(tmp_path / "queue")
    (root / "claimed").mkdir()
    for i in range(2):
        (root / "claimed" / f"t{i}.task").write_text(f'{{"id": "t{i}", "tries": 1}}')
        __import__("os").utime(root / "claimed" / f"t{i}.task", (0, 0))
    check(suite, "stuck", "requeue_stuck_tasks", "factory-queue",
          f"list(pathlib.Path({str(root / 'claimed')!r}).iterdir())", "'stuck tasks'",
          kind="queue")
    suite.inventory(textwrap.dedent(f'''
        [[components]]
        name = "factory-queue"
        kind = "queue"
        root = "{root}"
        folders = ["ready", "claimed", "failed"]
        in_progress = "claimed"
        pattern = "*.task"
        attempt_field = "tries"
        ''') + remediation_toml([{"component": "factory-queue",
                                  "action": "requeue_stuck_tasks"}]))
    ran(suite.run_files("--remediate=apply"))
    assert sorted(p.name for p in (root / "ready").iterdir()) == ["t0.task", "t1.task"]
    assert '"tries": 2' in (root / "ready" / "t0.task").read_text()


REDIS = '[[components]]\nname = "cache"\nkind = "redis"\nurl = "redis://127.0.0.1:1/0"\n'
SQLITE = '[[components]]\nname = "db"\nkind = "sqlite"\npath = "x.db"\n'

MISMATCH = {
    "bgsave_for_sqlite": (SQLITE, "db", "redis_bgsave", "url", "a sqlite component", "redis"),
    "checkpoint_for_redis": (REDIS, "cache", "checkpoint_wal", "path", "a redis component",
                             "sqlite"),
    "requeue_for_unknown": ("", "nowhere", "requeue_stuck_tasks", "queue",
                            "not a component of the inventory", "queue"),
}


@pytest.mark.parametrize("case", MISMATCH)
def test_no_target_parameter_for_another_kind_is_a_usage_error(suite, case):
    components, name, action, param, what, kind = MISMATCH[case]
    suite.inventory(components + remediation_toml([{"component": name, "action": action}]))
    result = suite.run("--collect-only")
    assert result.ret == pytest.ExitCode.USAGE_ERROR
    result.stderr.fnmatch_lines([f"ERROR: *inventory.toml: remediation.allow.0: params: {name} "
                                 f"is {what}, so {param} has no default; give params.{param} "
                                 f"or allow the action for a {kind} component"])


def test_an_explicit_parameter_wins_over_the_component(suite, tmp_path):
    other = tmp_path / "other.db"
    suite.inventory(SQLITE + remediation_toml([{"component": "db", "action": "checkpoint_wal",
                                                "params": {"path": str(other)}}]))
    inv = load_inventory(suite.inventory_path)
    assert inv.section("remediation").allow[0].validated.path == str(other)


def test_another_servers_url_does_not_get_the_components_password(suite, monkeypatch):
    monkeypatch.setenv("OPSCHECK_TEST_REDIS_PW", "pw")
    own = REDIS + 'password_env = "OPSCHECK_TEST_REDIS_PW"\n'
    entries = [{"component": "cache", "action": "redis_bgsave"},
               {"component": "cache", "action": "redis_bgsave",
                "params": {"url": "redis://127.0.0.1:2/0"}}]
    for entry in entries:
        suite.inventory(own + remediation_toml([entry]))
        target = load_inventory(suite.inventory_path).section("remediation").allow[
            0].validated.target
        assert (target.url, target.password_env, target.timeout) == (
            ("redis://127.0.0.1:1/0", "OPSCHECK_TEST_REDIS_PW", 3.0) if "params" not in entry
            else ("redis://127.0.0.1:2/0", None, 3.0))


def test_path_parameters_expand_variables_and_name_an_unset_one(suite, monkeypatch, tmp_path):
    monkeypatch.setenv("OPSCHECK_TEST_LOGS", str(tmp_path))
    suite.inventory(remediation_toml([{"component": "logs", "action": "clean_old_files",
                                       "params": {"folder": "${OPSCHECK_TEST_LOGS}/app",
                                                  "days": 7}}]))
    inv = load_inventory(suite.inventory_path)
    assert inv.section("remediation").allow[0].validated.folder == str(tmp_path / "app")
    monkeypatch.delenv("OPSCHECK_TEST_LOGS")
    result = suite.run("--collect-only")
    assert result.ret == pytest.ExitCode.USAGE_ERROR
    result.stderr.fnmatch_lines(["ERROR: *remediation.allow.0: params.folder: path "
                                 "'${OPSCHECK_TEST_LOGS}/app' uses environment variable "
                                 "OPSCHECK_TEST_LOGS, which is not set; export *"])


def test_an_empty_stop_path_is_unset_as_for_the_files_kind(suite):
    suite.inventory(remediation_toml([], emergency_stop=""))
    loaded = load_inventory(suite.inventory_path)
    assert loaded.section("remediation").emergency_stop is None  # not the inventory's folder
