"""A TCP service: a host and port that must accept connections (Nagios's ``check_tcp``).

The smallest kind, and the one ``docs/adding-a-kind.md`` walks through: a model (this file),
a target (``opscheck/targets/tcp.py``), checks (``checks/tcp/``) and one registry line.
"""

from __future__ import annotations

from typing import Literal

from pydantic import Field

from opscheck.components import Component
from opscheck.thresholds import Threshold, Thresholds, level


class TcpThresholds(Thresholds):
    """How long the connection takes to be accepted."""

    connect_time: Threshold = level(0.5, 1.0, "s", action=(
        "Slow to accept: check the service's backlog and the network path"))


class TcpComponent(Component):
    kind: Literal["tcp"] = "tcp"

    host: str = Field(description="host name or IP address to connect to")
    port: int = Field(ge=1, le=65535, description="TCP port that must accept connections")
    thresholds: TcpThresholds = Field(default_factory=TcpThresholds)

    @property
    def address(self) -> str:
        return f"{self.host}:{self.port}"
