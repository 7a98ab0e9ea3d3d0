"""CPU busy samples: two readings of ``/proc/stat``'s first line, ``seconds`` apart.

A sample may be started early (:meth:`Sample.start`, a thread of its own): the suite starts
every host's sample as the run starts (:mod:`opscheck.preopen` calls
:meth:`~opscheck.targets.host.HostTarget.prepare`), so N hosts cost one sample in all, not
N in a row; the CPU check then reads the result (waiting for what is left of it, if any).

On the machine the suite runs on (``local://``), the suite's own CPU time is left out: the
CPU time (user + system, in the kernel's clock ticks, the unit of ``/proc/stat``) that
opscheck's own process tree used between the two readings is taken from the busy ticks.
The tree is this process and its descendants, or, on an xdist worker, the controller
(the worker's parent) and all its descendants: the sibling workers too. A command a check
runs and waits for counts as the suite's own (its time is in its parent's).
"""

from __future__ import annotations

import os
import threading
import time
from collections.abc import Callable
from pathlib import Path

STAT = "head -n1 /proc/stat"


def reading(run: Callable[[str], str]) -> list[int]:
    """The jiffies of the ``cpu`` line (user nice system idle iowait irq softirq steal …)."""
    return [int(v) for v in run(STAT).split()[1:]]


def tree_root() -> int:
    """The process whose tree is the suite: the xdist controller on a worker, else this one."""
    return os.getppid() if os.environ.get("PYTEST_XDIST_WORKER") else os.getpid()


def tree_ticks(root: int, proc: Path = Path("/proc")) -> int:
    """CPU clock ticks used so far by ``root`` and its descendants (live ones, and the
    reaped children each has waited for)."""
    parents: dict[int, int] = {}
    ticks: dict[int, int] = {}
    for entry in proc.iterdir():
        if not entry.name.isdigit():
            continue
        try:
            stat = (entry / "stat").read_text()
        except OSError:  # gone meanwhile
            continue
        fields = stat[stat.rindex(")") + 2:].split()  # after "pid (comm) "
        pid = int(entry.name)
        parents[pid] = int(fields[1])
        ticks[pid] = sum(int(v) for v in fields[11:15])  # utime stime cutime cstime
    total = 0
    for pid, used in ticks.items():
        walk, seen = pid, 0
        while walk and walk != root and seen < 64:
            walk, seen = parents.get(walk, 0), seen + 1
        if walk == root:
            total += used
    return total


def busy_pct(first: list[int], second: list[int], own: int = 0) -> float:
    """Busy % between two readings, ``own`` ticks (the suite's) left out of the busy ones."""
    deltas = [b - a for a, b in zip(first, second, strict=False)]
    total = sum(deltas[:8])  # user nice system idle iowait irq softirq steal
    idle = deltas[3] + deltas[4]
    busy = max(0, total - idle - own)
    return 100.0 * busy / total if total else 0.0


class Sample:
    """One CPU busy sample over ``seconds`` through ``run`` (a host's command runner);
    ``local``: leave the suite's own CPU time out."""

    def __init__(self, run: Callable[[str], str], seconds: float, local: bool) -> None:
        self.run = run
        self.seconds = seconds
        self.local = local
        self._result: float | None = None
        self._error: Exception | None = None
        self._thread: threading.Thread | None = None

    def start(self) -> Sample:
        """Take the sample in a thread of its own; :meth:`busy` waits for it."""
        self._thread = threading.Thread(target=self._take, daemon=True, name="opscheck-cpu")
        self._thread.start()
        return self

    def _take(self) -> None:
        try:
            root = tree_root()
            own = tree_ticks(root) if self.local else 0
            first = reading(self.run)
            time.sleep(self.seconds)
            second = reading(self.run)
            own = tree_ticks(root) - own if self.local else 0
            self._result = busy_pct(first, second, own)
        except Exception as exc:  # raised again by busy(), in the check
            self._error = exc

    def busy(self) -> float:
        """The busy %, taking the sample now unless it was started."""
        if self._thread is None:
            self._take()
        else:
            self._thread.join()
        if self._error is not None:
            raise self._error
        assert self._result is not None
        return self._result
