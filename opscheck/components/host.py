"""A host, reached through any testinfra host spec (local://, ssh://, docker://, ansible://)."""

from __future__ import annotations

from typing import ClassVar, Literal

from pydantic import Field

from opscheck.components import Component
from opscheck.thresholds import Threshold, Thresholds, level


class HostThresholds(Thresholds):
    """The runbooks' alerting levels (WAVE: disk 75/85 %, memory 75/90 %, CPU 70/85 %)."""

    disk: Threshold = level(75, 85, "%", action="Clean up or expand")
    inodes: Threshold = level(75, 85, "%", action="Find and remove small-file sprawl")
    memory: Threshold = level(75, 90, "%", action="Check for leaks")
    cpu: Threshold = level(70, 85, "%", action="Scale up or investigate")
    swap: Threshold = level(50, 80, "%", action="Find the process that pushes memory to swap")


class HostComponent(Component):
    kind: Literal["host"] = "host"
    ITEMS: ClassVar[dict[str, str]] = {
        "mount": "mounts", "process": "processes", "listener": "sockets", "unit": "units"}

    spec: str = Field(default="local://",
                      description="testinfra host spec: local://, ssh://user@host:22, docker://name")
    mounts: list[str] = Field(default_factory=lambda: ["/"], description="mount points to watch")
    processes: list[str] = Field(default_factory=list,
                                 description="process names (comm) that must be running")
    sockets: list[str] = Field(default_factory=list,
                               description="testinfra socket specs that must listen: tcp://0.0.0.0:22")
    units: list[str] = Field(default_factory=list, description="systemd units that must be active")
    cpu_sample: float = Field(default=0.5, gt=0, le=10,
                              description="seconds over which CPU busy % is sampled")
    thresholds: HostThresholds = Field(default_factory=HostThresholds)

    @property
    def address(self) -> str:
        return self.spec
