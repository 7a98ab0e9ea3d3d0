"""Bounded shell runs on any testinfra host: a deadline on the whole run, output capped.

testinfra's backends (local, ssh, docker, podman, …) collect a command's whole output in
memory and wait for it without limit. :func:`run` wraps a POSIX ``sh`` script so that, on
the target itself,

- coreutils ``timeout -k 1 LIMIT`` bounds the whole run: at the deadline it signals its
  process group (the script and everything the script started, unless a process left the
  group with ``setsid``), and kills what is left one second later;
- each stream is cut at ``max_output`` bytes (``head -c``), the rest read and discarded, so
  a command that floods its output costs memory bounded by the cap and keeps its exit status;
- the exit status comes back as a trailer on stdout under a random marker: a run without
  the trailer did not finish (it was killed at the deadline).

Environment variables for the script are passed by *name* only (``NAME="$VAR"``): their
values never appear on a command line. That needs the variables in the backend's own
environment, which only ``local://`` has.
"""

from __future__ import annotations

import re
import shlex
import time
import uuid
from dataclasses import dataclass
from typing import Any

IDENTIFIER = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")
#: exit statuses of coreutils timeout: 124 after TERM, 128+9 after the -k KILL
TIMEOUT_STATUSES = (124, 137)


@dataclass(frozen=True)
class Ran:
    """What one bounded run gave."""

    exit_status: int | None  # None: killed at the deadline (no trailer came back)
    stdout: bytes
    stderr: bytes
    stdout_cut: bool  # more than max_output bytes were written; the rest was discarded
    stderr_cut: bool
    seconds: float
    backend_status: int  # the status testinfra saw (timeout's 124 on expiry)

    @property
    def timed_out(self) -> bool:
        return self.exit_status is None

    def text(self, stream: str) -> str:
        return (self.stdout if stream == "stdout" else self.stderr).decode(errors="replace")


def wrapper(script: str, limit: float, max_output: int, marker: str,
            env: dict[str, str] | None = None, cwd: str | None = None) -> str:
    """The command line that runs ``script`` under the deadline, the caps and the trailer."""
    cap = f"{{ head -c {max_output + 1}; cat >/dev/null; }}"
    prelude = [f"export {name}=\"${{{var}}}\"" for name, var in (env or {}).items()]
    if cwd:
        prelude.append(f"cd -- {shlex.quote(cwd)} || exit 126")
    body = "\n".join([*prelude, script])
    inner = "\n".join([
        "exec 3>&1 4>&2",
        "rc=$( { { { sh -c " + shlex.quote(body) + " 3>&- 4>&- 5>&-; "
        "printf '%s' \"$?\" >&5; } | " + cap + " >&3; } 2>&1 | " + cap + " >&4; } 5>&1 )",
        f"printf '\\n{marker}%s' \"$rc\"",
    ])
    return f"timeout -k 1 {limit:g} sh -c {shlex.quote(inner)}"


def run(host: Any, script: str, limit: float, max_output: int = 1_048_576,
        env: dict[str, str] | None = None, cwd: str | None = None) -> Ran:
    """Run ``script`` (POSIX sh) on the testinfra ``host`` within ``limit`` seconds.

    Raises ConnectionError when the backend itself could not reach the host (ssh failed).
    """
    for name, var in (env or {}).items():
        if not (IDENTIFIER.match(name) and IDENTIFIER.match(var)):
            raise ValueError(f"environment {name}={var}: both must be variable names")
    marker = f"opscheck-exit-{uuid.uuid4().hex}:"
    start = time.monotonic()
    try:
        result = host.run(wrapper(script, limit, max_output, marker, env, cwd))
    except RuntimeError as exc:  # testinfra's ssh backends: the connection itself failed
        detail = getattr(exc.args[0] if exc.args else None, "stderr", "") or str(exc)
        raise ConnectionError((detail.strip().splitlines() or ["no answer"])[0]) from None
    seconds = time.monotonic() - start
    out, err = result.stdout_bytes, result.stderr_bytes
    head, sep, status = out.rpartition(b"\n" + marker.encode())
    exit_status: int | None = None
    if sep and status.strip().isdigit():
        out, exit_status = head, int(status.strip())
    return Ran(exit_status=exit_status, stdout=out[:max_output], stderr=err[:max_output],
               stdout_cut=len(out) > max_output, stderr_cut=len(err) > max_output,
               seconds=seconds, backend_status=result.rc)


def missing_tool(ran: Ran) -> str | None:
    """The tool the target lacks when the wrapper itself could not start, else None."""
    if ran.exit_status is None and ran.backend_status == 127:
        said = ran.text("stderr").strip().splitlines()
        return said[-1] if said else "timeout or sh not found"
    return None
