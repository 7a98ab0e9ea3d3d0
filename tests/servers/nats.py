"""nats-server on loopback."""

from __future__ import annotations

import json as jsonlib
import socket
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from .base import ServerError, _ServerProcess, free_port, http_get, require_binary


class NatsServer(_ServerProcess):
    """nats-server on 127.0.0.1, optional JetStream (store in ``dir``) and monitoring port."""

    name = "nats"

    def __init__(
        self,
        dir: str | Path,
        port: int | None = None,
        jetstream: bool = False,
        monitor: bool = True,
        monitor_port: int | None = None,
        extra_args: Sequence[str] = (),
    ) -> None:
        self.binary = require_binary("nats-server", "nats-server")
        super().__init__(dir, port)
        self.jetstream = jetstream
        self.monitor = monitor
        self.monitor_port = (monitor_port or free_port()) if monitor else None
        self.extra_args = list(extra_args)
        self.store_dir = self.dir / "jetstream"

    @property
    def url(self) -> str:
        return f"nats://{self.host}:{self.port}"

    @property
    def monitor_url(self) -> str | None:
        return f"http://{self.host}:{self.monitor_port}" if self.monitor_port else None

    def _command(self) -> list[str]:
        args = [self.binary, "-a", self.host, "-p", str(self.port)]
        if self.monitor_port:
            args += ["-m", str(self.monitor_port)]
        if self.jetstream:
            args += ["-js", "-sd", str(self.store_dir)]
        return args + self.extra_args

    def _ready(self) -> bool:
        with socket.create_connection((self.host, self.port), timeout=1.0) as sock:
            if not sock.recv(4096).startswith(b"INFO "):
                return False
        if self.monitor_url:
            return http_get(f"{self.monitor_url}/healthz", timeout=1.0)[0] == 200
        return True

    def varz(self) -> dict[str, Any]:
        """GET the monitoring /varz document."""
        if not self.monitor_url:
            raise ServerError("monitoring is disabled")
        return dict(jsonlib.loads(http_get(f"{self.monitor_url}/varz")[1]))

    def _repick_ports(self) -> None:
        super()._repick_ports()
        if self.monitor_port:
            self.monitor_port = free_port()
