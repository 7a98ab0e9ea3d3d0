"""A host, reached through any testinfra host spec (local://, ssh://, docker://, ansible://)."""

from __future__ import annotations

import ipaddress
import os
from typing import ClassVar, Literal

from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    ValidationInfo,
    field_validator,
    model_validator,
)

from opscheck.commands import Command
from opscheck.components import Component, regex
from opscheck.logs import LogSignal
from opscheck.thresholds import Threshold, Thresholds, level

#: testinfra's connection backends (``testinfra.backend.BACKENDS``; no import at load)
BACKENDS = ("local", "ssh", "safe-ssh", "paramiko", "docker", "podman", "kubectl",
            "openshift", "winrm", "lxc", "ansible", "salt", "chroot")
#: testinfra's socket protocols (``testinfra.modules.socket.parse_socketspec``)
SOCKET_PROTOCOLS = ("udp", "tcp", "unix")


def socket_problem(spec: str) -> str | None:
    """Why ``spec`` is not a testinfra socket spec (as testinfra parses it), or None."""
    protocol, sep, address = spec.partition("://")
    if not sep or protocol not in SOCKET_PROTOCOLS:
        return "its protocol is not tcp://, udp:// or unix://"
    if protocol == "unix":
        return None if address.startswith("/") else "a unix socket needs an absolute path"
    host, _, port = address.rpartition(":")
    if host:
        try:
            ipaddress.ip_address(host)
        except ValueError:
            return f"{host!r} is not an IP address"
    if not (port.isdigit() and 1 <= int(port) <= 65535):
        return f"{port!r} is not a port from 1 to 65535"
    return None


class HostThresholds(Thresholds):
    """The runbooks' alerting levels (WAVE: disk 75/85 %, memory 75/90 %, CPU 70/85 %)."""

    disk: Threshold = level(75, 85, "%", action="Clean up or expand")
    inodes: Threshold = level(75, 85, "%", action="Find and remove small-file sprawl")
    memory: Threshold = level(75, 90, "%", action="Check for leaks")
    cpu: Threshold = level(70, 85, "%", action="Scale up or investigate")
    swap: Threshold = level(50, 80, "%", action="Find the process that pushes memory to swap")


class ProcessCommand(BaseModel):
    """Processes matched by their whole command line, in ``pgrep -f``'s sense
    (``[[components.process_commands]]``): how many run, between ``min`` and ``max``."""

    model_config = ConfigDict(extra="forbid")

    pattern: str = Field(description="regex searched in each process's command line (argv "
                         "joined by spaces), e.g. 'python3 .*agents/monitor_agent\\.py'")
    name: str = Field(default="", description="id of the check (default: the pattern)")
    min: int = Field(default=1, ge=0, description="fewest matching processes")
    max: int | None = Field(default=None, ge=0, description="most matching processes")
    tier: Literal["critical", "standard", "deep"] = Field(default="standard",
                                                          description="the check's tier")
    action: str | None = Field(default=None, description="the runbook's action, on failure")

    @field_validator("pattern")
    @classmethod
    def _regex(cls, value: str) -> str:
        return regex(value, "pattern")

    @model_validator(mode="after")
    def _complete(self) -> ProcessCommand:
        self.name = self.name or self.pattern
        if self.max is not None and self.max < self.min:
            raise ValueError(f"process_commands {self.name!r}: max {self.max} is below min "
                             f"{self.min}")
        return self

    def mark_names(self) -> list[str]:
        return [self.tier]


class HostComponent(Component):
    kind: Literal["host"] = "host"
    ITEMS: ClassVar[dict[str, str]] = {
        "mount": "mounts", "process": "processes", "listener": "sockets", "unit": "units",
        "command": "commands", "log": "logs", "cmdline": "process_commands"}

    spec: str = Field(default="local://",
                      description="testinfra host spec: local://, ssh://user@host:22, docker://name")
    mounts: list[str] = Field(default_factory=lambda: ["/"], description="mount points to watch")
    processes: list[str] = Field(default_factory=list,
                                 description="process names (comm) that must be running")
    sockets: list[str] = Field(default_factory=list,
                               description="testinfra socket specs that must listen: tcp://0.0.0.0:22")
    units: list[str] = Field(default_factory=list, description="systemd units that must be active")
    process_commands: list[ProcessCommand] = Field(default_factory=list, description=(
        "processes matched by command line, pgrep -f style, with a min/max count "
        "([[components.process_commands]])"))
    commands: list[Command] = Field(default_factory=list, description=(
        "command probes: a command run on the host, its exit status, output, JSON or number "
        "judged ([[components.commands]]; see commands-and-logs)"))
    logs: list[LogSignal] = Field(default_factory=list, description=(
        "log signals over files or a unit's journal ([[components.logs]])"))
    cpu_sample: float = Field(default=0.5, gt=0, le=10,
                              description="seconds over which CPU busy % is sampled")
    thresholds: HostThresholds = Field(default_factory=HostThresholds)

    @field_validator("spec")
    @classmethod
    def _spec(cls, value: str) -> str:
        scheme, sep, rest = value.partition("://")
        if not sep or scheme not in BACKENDS:
            raise ValueError(f"spec {value!r} is not a testinfra host spec; write "
                             "BACKEND://HOST with a backend of "
                             f"{', '.join(BACKENDS)}, e.g. \"local://\" or \"ssh://user@host\"")
        if scheme not in ("local", "chroot") and not rest.split("/", 1)[0].split("?", 1)[0]:
            raise ValueError(f"spec {value!r} names no host; write e.g. \"{scheme}://NAME\"")
        if scheme == "chroot" and not rest.strip("/"):
            raise ValueError(f"spec {value!r} names no folder; write e.g. \"chroot:///srv/root\"")
        return value

    @field_validator("mounts")
    @classmethod
    def _mounts(cls, value: list[str]) -> list[str]:
        for mount in value:
            if not mount.startswith("/"):
                raise ValueError(f"{mount!r} is not a mount point; write absolute "
                                 "paths, e.g. \"/\" or \"/var/lib/docker\"")
        return value

    @field_validator("sockets")
    @classmethod
    def _sockets(cls, value: list[str]) -> list[str]:
        for spec in value:
            problem = socket_problem(spec)
            if problem:
                raise ValueError(f"{spec!r} is not a socket spec ({problem}); write "
                                 "e.g. \"tcp://0.0.0.0:22\", \"tcp://22\" or "
                                 "\"unix:///run/app.sock\"")
        return value

    @model_validator(mode="after")
    def _entries(self, info: ValidationInfo) -> HostComponent:
        for field in ("commands", "logs", "process_commands"):
            names = [entry.name for entry in getattr(self, field)]
            twice = sorted({n for n in names if names.count(n) > 1})
            if twice:
                raise ValueError(f"two {field} entries are named {twice[0]!r}; give each a "
                                 "unique name")
        remote = not self.spec.startswith("local://")
        base = (info.context or {}).get("base")
        for command in self.commands:
            if command.cwd and not remote and base is not None:
                command.cwd = os.path.join(base, os.path.expanduser(command.cwd))
            if command.env and remote:
                raise ValueError(
                    f"command {command.name!r}: env passes values from opscheck's own "
                    f"environment, which only reaches local:// hosts (on {self.spec} the "
                    "value would travel on a command line); set the variable on that host")
        for signal in self.logs:
            if signal.container:
                raise ValueError(f"log signal {signal.name!r}: container logs are read from "
                                 "a docker component; on a host use files or unit")
        return self

    @property
    def address(self) -> str:
        return self.spec
