"""Each built-in action against a real target, through a check that fails on the real fault.

A redis-server stopped and brought back by the configured command; Redis BGSAVE writing
its dump; a real WAL truncated; real task files requeued, paused and resumed; old files
cleaned under a folder, never outside it; plan mode leaving every target byte-identical.
"""

from __future__ import annotations

import json
import os
import signal
import sqlite3
import textwrap
from pathlib import Path

import pytest
from remediation_kit import age, audit, decisions, make_queue, remediation_toml, snapshot
from servers import RedisServer

HEADER = """import json, os, pathlib, socket, pytest

def pong(port):
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=1) as sock:
            sock.sendall(b"PING\\r\\n")
            return sock.recv(64).startswith(b"+PONG")
    except OSError:
        return False
"""


def check(suite, name: str, action: str, component: str, condition: str, message: str,
          kind: str = "files") -> None:
    """A check file: fails while ``condition`` (a Python expression) is true."""
    (suite.path / f"test_{name}.py").write_text(HEADER + textwrap.dedent(f'''
        @pytest.mark.critical
        @pytest.mark.{kind}
        @pytest.mark.remediation({action!r}, component={component!r})
        def test_{name}():
            assert not ({condition}), {message}
        '''))


def ran(result) -> None:
    assert result.parseoutcomes() == {"remediated": 1}, result.stdout.str()


def test_restart_brings_a_stopped_redis_back(suite, tmp_path):
    server = RedisServer(tmp_path / "redis").start()
    port, conf, pidfile = server.port, server.config_path, tmp_path / "redis.pid"
    server.stop()  # the fault: redis is down
    check(suite, "redis_up", "restart_database", "wave-redis",
          f"not pong({port})", f"'redis on 127.0.0.1:{port} does not answer PING'",
          kind="redis")
    command = ["redis-server", str(conf), "--daemonize", "yes", "--pidfile", str(pidfile)]
    suite.inventory(remediation_toml([{"component": "wave-redis", "action": "restart_database",
                                       "params": {"command": command}}], settle=0.3))
    try:
        failing = suite.run_files("--remediate=plan", "--approve", "restart_database")
        failing.assert_outcomes(failed=1)
        failing.stdout.fnmatch_lines([f"*redis on 127.0.0.1:{port} does not "
                                      "answer PING"])
        ran(suite.run_files("--remediate=apply", "--approve", "restart_database"))
        import redis
        assert redis.Redis("127.0.0.1", port, socket_timeout=2).ping()
    finally:
        if pidfile.exists():
            os.kill(int(pidfile.read_text()), signal.SIGTERM)
    assert decisions(suite.path) == ["planned", "ran"]


def test_bgsave_writes_the_missing_dump(suite, redis_server):
    dump = redis_server.rdb_path
    dump.unlink(missing_ok=True)
    check(suite, "dump", "redis_bgsave", "r", f"not os.path.exists({str(dump)!r})",
          "'no RDB dump'", kind="redis")
    suite.inventory(remediation_toml([{"component": "r", "action": "redis_bgsave",
                                       "params": {"url": redis_server.url}}]))
    ran(suite.run_files("--remediate=apply"))
    assert dump.stat().st_size > 0
    assert audit(suite.path)[0]["summary"].startswith(f"BGSAVE on {redis_server.url} done")


def test_checkpoint_truncates_a_real_wal(suite, tmp_path):
    db = tmp_path / "state.db"
    writer = sqlite3.connect(db)
    writer.execute("PRAGMA journal_mode=WAL")
    writer.execute("PRAGMA wal_autocheckpoint=0")
    writer.execute("CREATE TABLE t (x TEXT)")
    writer.executemany("INSERT INTO t VALUES (?)", [("x" * 500,)] * 2000)
    writer.commit()
    wal = Path(f"{db}-wal")
    assert wal.stat().st_size > 1_000_000
    check(suite, "wal", "checkpoint_wal", "coordination", f"os.path.getsize({str(wal)!r}) > "
          "100_000", "'WAL over 100000 bytes'", kind="sqlite")
    suite.inventory(remediation_toml([{"component": "coordination", "action": "checkpoint_wal",
                                       "params": {"path": str(db)}}]))
    try:
        ran(suite.run_files("--remediate=apply"))
        assert wal.stat().st_size == 0
        assert writer.execute("SELECT count(*) FROM t").fetchone() == (2000,)
    finally:
        writer.close()


def test_requeue_moves_stuck_tasks_back_with_attempt_plus_one(suite, tmp_path):
    queue = make_queue(tmp_path / "queue", in_progress=3, age_min=180, attempt=1)
    fresh = queue / "in-progress" / "fresh.json"
    fresh.write_text('{"id": "fresh", "attempt": 1}')
    check(suite, "stuck", "requeue_stuck_tasks", "factory-queue",
          f"[p for p in pathlib.Path({str(queue / 'in-progress')!r}).glob('*.json') "
          "if p.stat().st_mtime < __import__('time').time() - 7200]", "'stuck tasks'",
          kind="queue")
    suite.inventory(remediation_toml([{"component": "factory-queue",
                                       "action": "requeue_stuck_tasks",
                                       "params": {"queue": str(queue), "older_than": 120}}]))
    ran(suite.run_files("--remediate=apply"))
    ready = sorted(p.name for p in (queue / "ready").iterdir())
    assert ready == [f"in-progress-{i:04d}.json" for i in range(3)]
    assert [json.loads((queue / "ready" / n).read_text())["attempt"] for n in ready] == [2] * 3
    assert [p.name for p in (queue / "in-progress").iterdir()] == ["fresh.json"]
    assert "requeued 3 task(s) to ready/ (attempt + 1)" in audit(suite.path)[0]["summary"]


def test_pause_and_resume_move_ready_tasks(suite, tmp_path):
    queue = make_queue(tmp_path / "queue", ready=4)
    stop = tmp_path / "spend-over-limit"
    stop.write_text("runaway spend\n")
    check(suite, "drained", "pause_queue", "q", f"os.path.exists({str(stop)!r}) and "
          f"list(pathlib.Path({str(queue / 'ready')!r}).glob('*.json'))",
          "'spend over limit and the queue still has ready tasks'", kind="queue")
    check(suite, "flowing", "resume_queue", "q", f"not os.path.exists({str(stop)!r}) and "
          f"list(pathlib.Path({str(queue / 'paused')!r}).glob('*.json'))",
          "'queue paused though spend is fine'", kind="queue")
    params = {"queue": str(queue)}
    suite.inventory(remediation_toml([{"component": "q", "action": "pause_queue",
                                       "params": params},
                                      {"component": "q", "action": "resume_queue",
                                       "params": params}]))
    result = suite.run_files("--remediate=apply")
    assert result.parseoutcomes() == {"remediated": 1, "passed": 1}
    assert len(list((queue / "paused").glob("*.json"))) == 4
    assert not list((queue / "ready").glob("*.json"))
    stop.unlink()
    result = suite.run_files("--remediate=apply")
    assert result.parseoutcomes() == {"remediated": 1, "passed": 1}
    assert len(list((queue / "ready").glob("*.json"))) == 4
    assert not list((queue / "paused").glob("*.json"))


@pytest.fixture
def old_files(tmp_path):
    """folder/ with old and new files, and symlinks to an outside folder of old files."""
    folder, outside = tmp_path / "logs", tmp_path / "outside"
    (folder / "sub").mkdir(parents=True)
    outside.mkdir()
    for p in (folder / "old.log", folder / "sub" / "old.log", outside / "precious.log"):
        p.write_text("old\n")
        age(p, 40)
    (folder / "new.log").write_text("new\n")
    (folder / "link.log").symlink_to(outside / "precious.log")
    (folder / "linkdir").symlink_to(outside)
    for p in (folder / "link.log", folder / "linkdir"):
        age(p, 40)
    return folder, outside


def _clean_check(suite, folder: Path) -> None:
    check(suite, "old", "clean_old_files", "logs",
          f"[p for p in pathlib.Path({str(folder)!r}).rglob('*') if not p.is_symlink() and "
          "p.is_file() and p.stat().st_mtime < __import__('time').time() - 30 * 86400]",
          "'files older than 30 days'")


def test_clean_deletes_old_files_inside_only(suite, old_files):
    folder, outside = old_files
    _clean_check(suite, folder)
    suite.inventory(remediation_toml([{"component": "logs", "action": "clean_old_files",
                                       "params": {"folder": str(folder), "days": 30}}]))
    ran(suite.run_files("--remediate=apply", "--approve", "clean_old_files"))
    assert sorted(str(p.relative_to(folder)) for p in folder.rglob("*")) == [
        "link.log", "linkdir", "new.log", "sub"]
    assert (outside / "precious.log").read_text() == "old\n"


def test_clean_refuses_a_path_through_a_symlink(suite, old_files):
    folder, outside = old_files
    _clean_check(suite, folder)
    suite.inventory(remediation_toml([{"component": "logs", "action": "clean_old_files",
                                       "params": {"folder": str(folder), "path": "linkdir",
                                                  "days": 30}}]))
    result = suite.run_files("--remediate=apply", "--approve", "clean_old_files")
    result.assert_outcomes(failed=1)
    result.stdout.fnmatch_lines(["*REMEDIATION FAILED: logs clean_old_files*: clean_old_files "
                                 f"refused or failed: {folder}/linkdir: linkdir is a symlink "
                                 "(refused: it could lead outside); exit 1*"])
    assert (outside / "precious.log").exists()


@pytest.mark.parametrize("linked", ["folder", "parent"])
def test_clean_refuses_a_folder_that_is_or_lies_under_a_symlink(suite, tmp_path, old_files,
                                                                linked):
    """A folder (or one of its parents) that is a symlink: its target's files were deleted."""
    _, outside = old_files
    (outside / "deeper").mkdir()
    (outside / "deeper" / "precious.log").write_text("old\n")
    age(outside / "deeper" / "precious.log", 40)
    before = snapshot(outside)
    (tmp_path / "link").symlink_to(outside)
    folder = tmp_path / "link" if linked == "folder" else tmp_path / "link" / "deeper"
    _clean_check(suite, outside)
    suite.inventory(remediation_toml([{"component": "logs", "action": "clean_old_files",
                                       "params": {"folder": str(folder), "days": 30}}]))
    result = suite.run_files("--remediate=apply", "--approve", "clean_old_files")
    assert snapshot(outside) == before
    assert result.ret == pytest.ExitCode.USAGE_ERROR
    result.stderr.fnmatch_lines([f"ERROR: *remediation.allow.0: params.folder: folder {folder}: "
                                 f"{tmp_path / 'link'} is a symlink (refused: it could lead "
                                 "anywhere); write the real path, "
                                 f"{outside if linked == 'folder' else outside / 'deeper'}"])


def test_clean_refuses_a_folder_swapped_for_a_symlink_after_load(tmp_path, old_files):
    """Checked again as it runs, without following: a symlink placed after the load."""
    from opscheck.remediations import registry
    from opscheck.remediations.registry import ActionContext, ActionError

    folder, outside = old_files
    before = snapshot(outside)
    spec = registry.get("clean_old_files")
    params = spec.params.model_validate({"folder": str(folder), "days": 30})
    folder.rename(tmp_path / "moved")
    folder.symlink_to(outside)
    with pytest.raises(ActionError, match=f"folder {folder}: {folder} is a symlink"):
        spec.func(ActionContext("logs", False, 60), params)
    assert snapshot(outside) == before


def test_plan_mode_leaves_every_target_byte_identical(suite, tmp_path, old_files, redis_server):
    folder, _ = old_files
    queue = make_queue(tmp_path / "queue", ready=2, in_progress=2, age_min=180)
    db = tmp_path / "state.db"
    writer = sqlite3.connect(db)
    writer.execute("PRAGMA journal_mode=WAL")
    writer.execute("PRAGMA wal_autocheckpoint=0")
    writer.execute("CREATE TABLE t (x)")
    writer.commit()
    always = "True"
    for name, action in [("a", "restart_service"), ("b", "requeue_stuck_tasks"),
                         ("c", "pause_queue"), ("d", "checkpoint_wal"), ("e", "clean_old_files"),
                         ("f", "redis_bgsave")]:
        check(suite, name, action, "target", always, f"'fault {name}'")
    suite.inventory(remediation_toml([
        {"component": "target", "action": "restart_service",
         "params": {"command": ["rm", "-rf", str(tmp_path)]}},
        {"component": "target", "action": "requeue_stuck_tasks", "params": {"queue": str(queue)}},
        {"component": "target", "action": "pause_queue", "params": {"queue": str(queue)}},
        {"component": "target", "action": "checkpoint_wal", "params": {"path": str(db)}},
        {"component": "target", "action": "clean_old_files",
         "params": {"folder": str(folder), "days": 30}},
        {"component": "target", "action": "redis_bgsave", "params": {"url": redis_server.url}},
    ]))
    before = snapshot(tmp_path)
    try:
        result = suite.run_files("--remediate=plan", "--approve", "clean_old_files")
        after = snapshot(tmp_path)  # before closing the writer, which checkpoints the WAL
    finally:
        writer.close()
    result.assert_outcomes(failed=6)
    result.stdout.fnmatch_lines_random([
        "*PLANNED (nothing run): target restart_service*: would run: rm -rf *",
        "*PLANNED*requeue_stuck_tasks*: would requeue 2 task(s) older than 120 min: *",
        "*PLANNED*pause_queue*: would pause 2 task(s) ready/ -> paused/",
        "*PLANNED*checkpoint_wal*: would checkpoint *",
        "*PLANNED*clean_old_files*: would delete 2 file(s) older than 30 days under *",
        "*PLANNED*redis_bgsave*: would send BGSAVE to redis://127.0.0.1:*"])
    assert after == before and "state.db-wal" in after
    assert decisions(suite.path) == ["planned"] * 6


def test_the_queue_kinds_stuck_check_is_remediated_by_requeue(suite, tmp_path):
    queue = make_queue(tmp_path / "queue", in_progress=2, age_min=180)
    (queue / "paused").mkdir()
    suite.inventory(f'[[components]]\nname = "factory-queue"\nkind = "queue"\nroot = "{queue}"\n'
                    + remediation_toml([{"component": "factory-queue",
                                         "action": "requeue_stuck_tasks",
                                         "params": {"queue": str(queue)}}]))
    failing = suite.run("-k", "stuck", checks=("queue",))
    failing.assert_outcomes(failed=1)
    result = suite.run("--remediate=apply", "-k", "stuck", checks=("queue",))
    assert result.parseoutcomes()["remediated"] == 1, result.stdout.str()
    result.stdout.fnmatch_lines(["factory-queue (queue): 1 remediated"])
    assert len(list((queue / "ready").glob("*.json"))) == 2
    assert audit(suite.path)[0]["evidence"].startswith("factory-queue oldest in-progress task age")
