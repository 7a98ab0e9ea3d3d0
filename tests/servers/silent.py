"""A listener that accepts and never answers ("dead host"); the base of the hostile peers.

:class:`SilentServer` listens on loopback TCP, or on a unix socket when given ``unix``
(a Docker API socket that accepts and never answers). Subclasses answer each accepted
connection in :meth:`SilentServer._serve`, on a thread of its own (``servers.hostile``).
"""

from __future__ import annotations

import contextlib
import os
import socket
import threading
from pathlib import Path
from typing import Self

from .base import LOOPBACK, STOP_TIMEOUT


class SilentServer:
    """Accepts connections on loopback (or a unix socket) and never sends a byte."""

    def __init__(self, port: int | None = None, unix: str | Path | None = None) -> None:
        self.host = LOOPBACK
        self.port = port or 0
        self.unix = Path(unix) if unix is not None else None
        self.connections: list[socket.socket] = []
        self._sock: socket.socket | None = None
        self._thread: threading.Thread | None = None
        self._stopping = threading.Event()

    @property
    def address(self) -> tuple[str, int]:
        return (self.host, self.port)

    @property
    def url(self) -> str:
        return f"http://{self.host}:{self.port}"

    @property
    def connection_count(self) -> int:
        return len(self.connections)

    def start(self) -> Self:
        if self._sock is not None:
            return self
        if self.unix is not None:
            sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
            with contextlib.suppress(FileNotFoundError):
                os.unlink(self.unix)
            sock.bind(str(self.unix))
        else:
            sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            sock.bind((self.host, self.port))
            self.port = int(sock.getsockname()[1])
        sock.listen(128)
        sock.settimeout(0.1)
        self._sock = sock
        self._stopping.clear()
        self._thread = threading.Thread(target=self._accept_loop, daemon=True)
        self._thread.start()
        return self

    def _accept_loop(self) -> None:
        assert self._sock is not None
        while not self._stopping.is_set():
            try:
                conn, _ = self._sock.accept()
            except TimeoutError:
                continue
            except OSError:
                return
            self.connections.append(conn)
            if type(self)._serve is not SilentServer._serve:
                threading.Thread(target=self._serve_quietly, args=(conn,), daemon=True).start()

    def _serve_quietly(self, conn: socket.socket) -> None:
        with contextlib.suppress(OSError):  # the client gave up: that is the point
            self._serve(conn)

    def _serve(self, conn: socket.socket) -> None:
        """Answer one accepted connection (runs on its own thread); silent here."""

    def stop(self) -> None:
        self._stopping.set()
        if self._thread is not None:
            self._thread.join(timeout=STOP_TIMEOUT)
            self._thread = None
        if self._sock is not None:
            self._sock.close()
            self._sock = None
        if self.unix is not None:
            with contextlib.suppress(FileNotFoundError):
                os.unlink(self.unix)
        for conn in self.connections:
            with contextlib.suppress(OSError):
                conn.shutdown(socket.SHUT_RDWR)
            with contextlib.suppress(OSError):
                conn.close()
        self.connections.clear()

    def __enter__(self) -> Self:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()
