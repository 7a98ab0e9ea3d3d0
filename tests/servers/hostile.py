"""Misbehaving peers on loopback: they accept, then answer in ways no client should wait on.

- :class:`TricklingServer` (slowloris): a valid-looking answer, one byte at a time, forever.
  Every socket read gets a byte well within any per-read timeout; the answer never ends.
- :class:`GarbageServer`: random bytes (seeded: the same bytes every run), then silence.
- :class:`StallingProxy`: relays a real server (PostgreSQL) until the handshake is done
  (the server's first ReadyForQuery), then stops relaying (``stall``) or relays the
  server's bytes one at a time (``trickle``).

All are :class:`~servers.silent.SilentServer` subclasses (TCP on 127.0.0.1, or a unix
socket with ``unix=PATH``); ``connection_count`` says how many connections a client made.
The ``*_TRICKLE`` presets are heads and trickles that look like each protocol's answer.
"""

from __future__ import annotations

import itertools
import random
import selectors
import socket
from pathlib import Path

from .base import LOOPBACK
from .silent import SilentServer

#: (head sent at once, bytes trickled one at a time, cycling) per protocol
HTTP_BODY_TRICKLE = (b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\n"
                     b"Content-Length: 1000000\r\n\r\n{\"status\": \"", b"o")
HTTP_HEADER_TRICKLE = (b"HTTP/1.1 200 OK\r\n", b"X-Slow: a")
REDIS_TRICKLE = (b"", b"+PONG")          # a simple-string reply whose line never ends
NATS_TRICKLE = (b"INFO {\"server_id\":\"", b"N")  # the greeting, never finished
READY_FOR_QUERY = b"Z\x00\x00\x00\x05"    # PostgreSQL: the handshake is complete


class TricklingServer(SilentServer):
    """Sends ``head`` at once, then ``trickle`` one byte every ``interval`` s, cycling forever."""

    def __init__(self, head: bytes = b"", trickle: bytes = b" ", interval: float = 0.1,
                 port: int | None = None, unix: str | Path | None = None) -> None:
        super().__init__(port, unix)
        self.head, self.trickle, self.interval = head, trickle, interval

    def _serve(self, conn: socket.socket) -> None:
        conn.sendall(self.head)
        for byte in itertools.cycle(self.trickle):
            if self._stopping.wait(self.interval):
                return
            conn.sendall(bytes([byte]))


class GarbageServer(SilentServer):
    """Sends ``size`` random bytes (from ``seed``) on every connection, then nothing."""

    def __init__(self, size: int = 4096, seed: int = 11, port: int | None = None,
                 unix: str | Path | None = None) -> None:
        super().__init__(port, unix)
        self.garbage = random.Random(seed).randbytes(size)

    def _serve(self, conn: socket.socket) -> None:
        conn.sendall(self.garbage)
        self._stopping.wait()


class StallingProxy(SilentServer):
    """Relays ``upstream`` (a loopback port) until its first ReadyForQuery, then misbehaves:
    ``mode="stall"`` relays nothing more (both ways; the sockets stay open),
    ``mode="trickle"`` relays the client's bytes but the server's one every ``interval`` s."""

    def __init__(self, upstream: int, mode: str = "stall", interval: float = 0.1) -> None:
        super().__init__()
        if mode not in ("stall", "trickle"):
            raise ValueError(f"mode {mode!r}: stall or trickle")
        self.upstream, self.mode, self.interval = upstream, mode, interval
        self.handshakes = 0  # connections that reached ReadyForQuery (then misbehaved)

    def _serve(self, conn: socket.socket) -> None:
        with socket.create_connection((LOOPBACK, self.upstream), timeout=5) as server:
            if self._relay_handshake(conn, server):
                if self.mode == "stall":
                    self._stopping.wait()
                else:
                    self._trickle(conn, server)

    def _relay_handshake(self, client: socket.socket, server: socket.socket) -> bool:
        """Relay both ways until the server sent ReadyForQuery; False if either side closed."""
        seen = b""
        with selectors.DefaultSelector() as sel:
            sel.register(client, selectors.EVENT_READ, server)
            sel.register(server, selectors.EVENT_READ, client)
            while not self._stopping.is_set():
                for key, _ in sel.select(0.1):
                    data = key.fileobj.recv(65536)  # type: ignore[union-attr]
                    if not data:
                        return False
                    done = False
                    if key.fileobj is server:
                        seen = seen[-len(READY_FOR_QUERY):] + data
                        done = READY_FOR_QUERY in seen
                    if done:  # counted before the client can see it: tests read it after
                        self.handshakes += 1
                    key.data.sendall(data)
                    if done:
                        return True
        return False

    def _trickle(self, client: socket.socket, server: socket.socket) -> None:
        pending = b""
        with selectors.DefaultSelector() as sel:
            sel.register(client, selectors.EVENT_READ, server)
            sel.register(server, selectors.EVENT_READ, None)
            while not self._stopping.is_set():
                for key, _ in sel.select(0 if pending else 0.1):
                    data = key.fileobj.recv(65536)  # type: ignore[union-attr]
                    if not data:
                        return
                    if key.data is None:
                        pending += data
                    else:
                        key.data.sendall(data)
                if pending and not self._stopping.wait(self.interval):
                    client.sendall(pending[:1])
                    pending = pending[1:]
