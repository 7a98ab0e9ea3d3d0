"""Run a configured command: the runbooks' service restarts.

``systemctl restart redis``, ``docker restart wave-redis``, a script path: the command is
split like a shell would (``shlex``) but never run through a shell, in its own process group
so that on timeout the whole group is killed. Output (stdout and stderr together) is kept
for the report and the audit log, redacted there.
"""

from __future__ import annotations

import contextlib
import os
import shlex
import shutil
import signal
import subprocess

from pydantic import Field, field_validator

from opscheck.remediations.registry import ActionContext, ActionResult, LocalPath, Params, action

#: seconds to collect the output of a killed command: a grandchild that left the process
#: group (setsid, a daemon) may hold the pipe open for ever
DRAIN = 5.0


class CommandParams(Params):
    command: list[str] | str = Field(description="argv list, or a string split like a shell's")
    cwd: LocalPath | None = Field(default=None,
                                  description="working folder (default: where pytest runs)")

    @field_validator("command")
    @classmethod
    def _argv(cls, value: list[str] | str) -> list[str]:
        argv = shlex.split(value) if isinstance(value, str) else list(value)
        if not argv or not argv[0]:
            raise ValueError("command is empty; give the restart command, e.g. "
                             "\"systemctl restart redis\"")
        return argv


def _startable(exe: str, cwd: object) -> bool:
    """Would ``exe`` start: a path to an executable file, or a name found on PATH?"""
    if os.sep not in exe:
        return shutil.which(exe) is not None
    path = exe if os.path.isabs(exe) else os.path.join(str(cwd or "."), exe)
    return os.path.isfile(path) and os.access(path, os.X_OK)


def run_command(ctx: ActionContext, params: CommandParams) -> ActionResult:
    argv = list(params.command)
    shown = shlex.join(argv)
    if ctx.plan:  # the dry run: would the command start at all?
        if not _startable(argv[0], params.cwd):
            return ActionResult(False, f"{argv[0]} is not an executable file (for {shown}); "
                                "fix the command", exit_status=127)
        return ActionResult(True, f"would run: {shown}")
    try:
        proc = subprocess.Popen(argv, cwd=params.cwd, stdout=subprocess.PIPE,
                                stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL,
                                start_new_session=True)
    except OSError as exc:
        return ActionResult(False, f"could not start {shown}: {exc.strerror or exc}",
                            exit_status=127)
    try:
        out, _ = proc.communicate(timeout=max(ctx.remaining(), 0.1))
    except subprocess.TimeoutExpired:
        with contextlib.suppress(ProcessLookupError):  # it may have ended just now
            os.killpg(proc.pid, signal.SIGKILL)
        summary = f"{shown} timed out after {ctx.timeout:g} s (killed)"
        try:
            out, _ = proc.communicate(timeout=DRAIN)
        except subprocess.TimeoutExpired:  # the pipe is held outside the killed group
            proc.stdout.close()  # type: ignore[union-attr]
            proc.wait(timeout=DRAIN)
            return ActionResult(True, f"{summary}; output abandoned: a process outside its "
                                "group still holds the pipe", exit_status=124)
        return ActionResult(True, summary, out.decode(errors="replace"), 124)
    text = out.decode(errors="replace")
    return ActionResult(True, f"ran {shown}", text, proc.returncode)


@action(CommandParams, summary="run a configured command")
def run_command_action(ctx: ActionContext, params: CommandParams) -> ActionResult:
    """Run the configured command (a runbook's CLI step: ``cli.py reset CP-UFS-001``)."""
    return run_command(ctx, params)


@action(CommandParams, summary="run the configured restart command of a service")
def restart_service(ctx: ActionContext, params: CommandParams) -> ActionResult:
    """Restart a service with its configured command."""
    return run_command(ctx, params)


@action(CommandParams, risky=True, summary="run the configured restart command of a database")
def restart_database(ctx: ActionContext, params: CommandParams) -> ActionResult:
    """Restart a database (risky: needs --approve restart_database)."""
    return run_command(ctx, params)
