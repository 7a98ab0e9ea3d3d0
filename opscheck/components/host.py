"""A host, reached through any testinfra host spec (local://, ssh://, docker://, ansible://)."""

from __future__ import annotations

import ipaddress
from typing import ClassVar, Literal

from pydantic import Field, field_validator

from opscheck.components import Component
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

    @property
    def address(self) -> str:
        return self.spec
