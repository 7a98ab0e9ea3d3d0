"""Container resource use from the Engine API's stats (``docker stats --no-stream``).

Each container is sampled twice, ``stats_interval`` seconds apart, with one-shot stats
(``GET /containers/{id}/stats?stream=false&one-shot=true``: an answer at once, without
Docker's own one-second wait). CPUs used are the container's CPU time between the two
samples over the wall-clock time between them (``docker stats`` divides by the host's CPU
time read from /proc/stat instead, which reads high on a VM whose host steals time); CPU % is
that of what the container may use (its ``--cpus``/CPU quota, else every online CPU): 100 %
is its whole allowance, and a container whose quota the engine does not enforce can read
above it. Memory % is its usage, less the page cache where the engine reports it
(``inactive_file``, as docker stats subtracts), of its memory limit (the host's memory when
it has none).

Podman's compatible API (4.x) fills ``precpu_stats`` with zeros (so the two samples are
taken here, for Docker and podman alike) and reports memory usage and limit without the
breakdown: there, usage is podman's figure as given, the page cache not subtracted. The
line says so.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from typing import Any

GIB = 1024**3
MIB = 1024**2


@dataclass(frozen=True)
class Usage:
    """A container's CPU and memory use over one sampling window."""

    cpu_pct: float  # of its allowance
    cpus: float  # CPUs it used (docker stats' CPU % / 100)
    allowance: float  # CPUs it may use
    allowance_source: str  # "--cpus", "CPU quota", "host CPUs"
    mem_used: int
    mem_limit: int
    mem_limited: bool  # a limit of its own, or only the host's memory
    cache_subtracted: bool

    @property
    def mem_pct(self) -> float:
        return 100.0 * self.mem_used / self.mem_limit if self.mem_limit else 0.0

    def cpu_text(self) -> str:
        """``1.70 of 2 CPUs (--cpus)``."""
        return f"{self.cpus:.2f} of {self.allowance:g} CPUs ({self.allowance_source})"

    def memory_text(self) -> str:
        """``312 MiB of its 512 MiB limit``, or of the host's memory."""
        used = _size(self.mem_used)
        limit = (f"its {_size(self.mem_limit)} limit" if self.mem_limited else
                 f"the host's {_size(self.mem_limit)} (no memory limit set)")
        cache = "" if self.cache_subtracted else (
            "; the engine gives no page-cache figure (podman), so cache is counted as used")
        return f"{used} of {limit}{cache}"


def _size(n: float) -> str:
    return f"{n / GIB:.2f} GiB" if n >= GIB else f"{n / MIB:.0f} MiB"


def allowance(inspect: dict[str, Any], online: int) -> tuple[float, str]:
    """(CPUs the container may use, where that comes from), from its inspect HostConfig."""
    host = inspect.get("HostConfig") or {}
    nano = int(host.get("NanoCpus") or 0)
    if nano > 0:
        return nano / 1e9, "--cpus"
    quota, period = int(host.get("CpuQuota") or 0), int(host.get("CpuPeriod") or 0)
    if quota > 0 and period > 0:
        return quota / period, "CPU quota"
    return float(online), "host CPUs"


def online_cpus(stats: dict[str, Any]) -> int:
    cpu = stats.get("cpu_stats") or {}
    return int(cpu.get("online_cpus") or len((cpu.get("cpu_usage") or {}).get("percpu_usage")
                                             or []) or 1)


def usage(first: dict[str, Any], second: dict[str, Any], inspect: dict[str, Any],
          seconds: float) -> Usage:
    """The container's use between two stats answers ``seconds`` apart."""
    def cpu(stats: dict[str, Any]) -> int:
        block = stats.get("cpu_stats") or {}
        return int((block.get("cpu_usage") or {}).get("total_usage") or 0)

    grown = cpu(second) - cpu(first)
    used = grown / (seconds * 1e9) if seconds > 0 and grown >= 0 else 0.0
    online = online_cpus(second)
    cpus, source = allowance(inspect, online)
    memory = second.get("memory_stats") or {}
    detail = memory.get("stats") or {}
    cache = detail.get("inactive_file", detail.get("total_inactive_file"))
    raw = int(memory.get("usage") or 0)
    limit = int(memory.get("limit") or 0)
    host_limit = int(((inspect.get("HostConfig") or {}).get("Memory")) or 0)
    return Usage(cpu_pct=100.0 * used / cpus if cpus else 0.0, cpus=used, allowance=cpus,
                 allowance_source=source,
                 mem_used=raw - int(cache) if cache is not None and int(cache) < raw else raw,
                 mem_limit=limit or host_limit, mem_limited=host_limit > 0,
                 cache_subtracted=cache is not None)


def sample(api: Any, names: list[str], interval: float) -> dict[str, Usage]:
    """Each running container of ``names`` sampled twice, ``interval`` seconds apart."""
    first: dict[str, tuple[dict[str, Any], dict[str, Any], float]] = {}
    for name in names:
        inspect = api.inspect_container(name)
        if (inspect.get("State") or {}).get("Running"):
            first[name] = (inspect, *_stats(api, name))
    if not first:
        return {}
    time.sleep(interval)
    found = {}
    for name, (inspect, before, at) in first.items():
        after, later = _stats(api, name)
        found[name] = usage(before, after, inspect, later - at)
    return found


def _stats(api: Any, name: str) -> tuple[dict[str, Any], float]:
    """One stats answer and (about) when it was read: the middle of the request."""
    start = time.monotonic()
    try:
        answer = dict(api.stats(name, stream=False, one_shot=True))
    except Exception as exc:  # API < 1.41 has no one-shot: Docker then waits a second itself
        if type(exc).__name__ != "InvalidVersion":
            raise
        answer = dict(api.stats(name, stream=False))
        return answer, time.monotonic()  # its cpu_stats were read at the end of the wait
    return answer, (start + time.monotonic()) / 2
