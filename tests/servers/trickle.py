"""An HTTP peer that answers one byte at a time, never finishing ("trickling" answer)."""

from __future__ import annotations

import contextlib
import socket
import threading

from .base import LOOPBACK, STOP_TIMEOUT

HEAD = (b"HTTP/1.1 200 OK\r\nContent-Type: text/xml\r\nContent-Length: 1000000\r\n\r\n"
        b"<GetCallerIdentityResponse>")


class TrickleServer:
    """Reads a request, sends a status line and headers promising a large body, then one
    byte every ``interval`` seconds: each read is quick, the answer never complete."""

    def __init__(self, interval: float = 0.2) -> None:
        self.interval = interval
        self.host, self.port = LOOPBACK, 0
        self._sock: socket.socket | None = None
        self._stop = threading.Event()
        self._threads: list[threading.Thread] = []

    @property
    def url(self) -> str:
        return f"http://{self.host}:{self.port}"

    def start(self) -> TrickleServer:
        sock = socket.create_server((self.host, 0))
        sock.settimeout(0.1)
        self.port = int(sock.getsockname()[1])
        self._sock = sock
        self._spawn(self._accept)
        return self

    def _spawn(self, target: object, *args: object) -> None:
        thread = threading.Thread(target=target, args=args, daemon=True)  # type: ignore[arg-type]
        self._threads.append(thread)
        thread.start()

    def _accept(self) -> None:
        assert self._sock is not None
        while not self._stop.is_set():
            try:
                conn, _ = self._sock.accept()
            except TimeoutError:
                continue
            except OSError:
                return
            self._spawn(self._trickle, conn)

    def _trickle(self, conn: socket.socket) -> None:
        with contextlib.suppress(OSError), conn:
            conn.settimeout(5)
            conn.recv(65536)
            conn.sendall(HEAD)
            while not self._stop.wait(self.interval):
                conn.sendall(b" ")

    def stop(self) -> None:
        self._stop.set()
        if self._sock is not None:
            self._sock.close()
        for thread in self._threads:
            thread.join(timeout=STOP_TIMEOUT)

    def __enter__(self) -> TrickleServer:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()
