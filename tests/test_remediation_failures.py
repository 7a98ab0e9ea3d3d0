"""Actions that meet a hostile world: a pipe held after a kill, folders they may not touch,
files vanishing mid-walk, an audit log locked by another process. Nothing hangs; each
ends in one line.
"""

from __future__ import annotations

import fcntl
import json
import os
import shlex
import signal
import time
from pathlib import Path

import pytest
from remediation_kit import age

from opscheck.remediations import audit
from opscheck.remediations.actions import clean, command
from opscheck.remediations.registry import ActionContext, ActionError


def test_a_grandchild_holding_the_pipe_does_not_hang_a_timed_out_command(tmp_path,
                                                                          monkeypatch):
    monkeypatch.setattr(command, "DRAIN", 0.5)
    pidfile = tmp_path / "grandchild.pid"
    # the grandchild leaves the process group (setsid) and keeps stdout open for 900 s: an
    # unbounded drain would hold the action until pytest-timeout ends this test
    script = f"setsid sh -c 'echo $$ > {pidfile}; exec sleep 900' & sleep 900"
    params = command.CommandParams(command=["sh", "-c", script])
    try:
        result = command.run_command(ActionContext("svc", plan=False, timeout=0.5), params)
    finally:
        for _ in range(50):
            if pidfile.exists() and pidfile.read_text().strip():
                os.kill(int(pidfile.read_text()), signal.SIGKILL)
                break
            time.sleep(0.05)
    assert result.exit_status == 124
    assert result.summary == (f"{shlex.join(['sh', '-c', script])} timed out after 0.5 s "
                              "(killed); output abandoned: a process outside its group still "
                              "holds the pipe")


def _as_nobody(func) -> str:
    """Run ``func()`` in a forked child with uid/gid nobody; its return or error, as text."""
    read, write = os.pipe()
    pid = os.fork()
    if pid == 0:  # pragma: no cover - the child
        try:
            os.close(read)
            os.setgid(65534)
            os.setuid(65534)
            try:
                text = f"ok: {func()}"
            except ActionError as exc:
                text = f"ActionError: {exc}"
            except BaseException as exc:
                text = f"{type(exc).__name__}: {exc}"
            os.write(write, text.encode())
        finally:
            os._exit(0)
    os.close(write)
    with os.fdopen(read) as pipe:
        text = pipe.read()
    os.waitpid(pid, 0)
    return text


@pytest.fixture
def shared(tmp_path_factory):
    """A folder others may enter (pytest's own tmp folders are root-only)."""
    import tempfile

    path = Path(tempfile.mkdtemp(prefix="opscheck-clean-", dir="/tmp"))
    path.chmod(0o755)
    yield path
    import shutil

    shutil.rmtree(path)


@pytest.mark.skipif(os.geteuid() != 0, reason="needs root to act as another user")
@pytest.mark.parametrize("fault", ["cannot_delete", "cannot_open"])
def test_permission_denied_inside_the_folder_is_one_line(shared, fault):
    logs = shared / "logs"
    (logs / "sub").mkdir(parents=True)
    old = logs / "sub" / "old.log"
    old.write_text("old\n")
    age(old, 40)
    os.chown(logs, 65534, 65534)
    (logs / "sub").chmod(0o755 if fault == "cannot_delete" else 0o700)  # root's, not nobody's
    params = clean.CleanParams(folder=str(logs), days=30)
    text = _as_nobody(lambda: clean.clean_old_files(
        ActionContext("logs", plan=False, timeout=10), params).summary)
    expected = (f"ActionError: deleted 0 file(s), then cannot delete {logs}/sub/old.log: "
                "Permission denied" if fault == "cannot_delete"
                else f"ActionError: cannot open folder {logs}/sub: Permission denied")
    assert text == expected
    assert old.exists()


class Vanishing(ActionContext):
    """A context whose time checks delete ``victim`` first: it vanishes mid-walk."""

    victim: Path | None = None

    def check_time(self) -> None:
        if self.victim is not None and self.victim.exists():
            self.victim.unlink()
        super().check_time()


def test_a_file_vanishing_mid_walk_is_passed_over(tmp_path):
    logs = tmp_path / "logs"
    logs.mkdir()
    for name in ("a.log", "b.log", "c.log"):
        (logs / name).write_text("old\n")
        age(logs / name, 40)
    ctx = Vanishing("logs", plan=False, timeout=10)
    ctx.victim = logs / "b.log"
    result = clean.clean_old_files(ctx, clean.CleanParams(folder=str(logs), days=30))
    assert result.summary == f"deleted 2 file(s) older than 30 days under {logs}"
    assert result.output.splitlines() == [f"{logs}/a.log", f"{logs}/c.log"]
    assert not list(logs.iterdir())


def test_a_locked_audit_log_delays_a_record_but_never_hangs_it(tmp_path, monkeypatch):
    monkeypatch.setattr(audit, "LOCK_WAIT", 0.3)
    log = audit.AuditLog(tmp_path / "audit.jsonl", "run-1")
    log.touch()
    with open(log.path, "a") as holder:  # another process's writer that never lets go
        fcntl.flock(holder, fcntl.LOCK_EX)
        start = time.monotonic()
        log.record(decision="ran")
        assert time.monotonic() - start >= 0.3  # it waited for the lock, then wrote anyway
    assert json.loads(Path(log.path).read_text())["decision"] == "ran"
