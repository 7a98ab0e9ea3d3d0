"""A TCP service: the fact is whether, and how fast, it accepts a connection.

``TcpTarget.open`` connects once per run within the component's timeout and closes the
connection at once: nothing is sent, so nothing is written.
"""

from __future__ import annotations

import socket
import time

from opscheck.components.tcp import TcpComponent


class TcpTarget:
    def __init__(self, component: TcpComponent, connect_seconds: float) -> None:
        self.component = component
        self.thresholds = component.thresholds
        self.connect_seconds = connect_seconds

    @classmethod
    def open(cls, component: TcpComponent) -> TcpTarget:
        """Connect and close; a refusal or no answer within the timeout raises OSError."""
        start = time.monotonic()
        with socket.create_connection((component.host, component.port),
                                      timeout=component.timeout):
            pass
        return cls(component, time.monotonic() - start)

    def __str__(self) -> str:
        return self.component.name
