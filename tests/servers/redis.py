"""redis-server on loopback."""

from __future__ import annotations

import socket
import urllib.parse
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from .base import ServerError, _ServerProcess, require_binary


def _resp(*args: str) -> bytes:
    out = [f"*{len(args)}\r\n".encode()]
    for arg in args:
        raw = arg.encode()
        out.append(b"$%d\r\n%s\r\n" % (len(raw), raw))
    return b"".join(out)


def _redis_quote(value: str) -> str:
    escaped = value.replace("\\", "\\\\").replace('"', '\\"')
    return f'"{escaped}"'


class RedisServer(_ServerProcess):
    """redis-server on 127.0.0.1 with dump.rdb in ``dir``; persistence off unless configured."""

    name = "redis"

    def __init__(
        self,
        dir: str | Path,
        port: int | None = None,
        password: str | None = None,
        extra_config: Mapping[str, str | int] | None = None,
    ) -> None:
        self.binary = require_binary("redis-server", "redis-server")
        super().__init__(dir, port)
        self.password = password
        self.extra_config = dict(extra_config or {})
        self.config_path = self.dir / "redis.conf"

    @property
    def url(self) -> str:
        auth = f":{urllib.parse.quote(self.password, safe='')}@" if self.password else ""
        return f"redis://{auth}{self.host}:{self.port}/0"

    @property
    def rdb_path(self) -> Path:
        return self.dir / str(self.extra_config.get("dbfilename", "dump.rdb"))

    def _prepare(self) -> None:
        conf: dict[str, str | int] = {
            "port": self.port,
            "bind": self.host,
            "dir": _redis_quote(str(self.dir)),
            "dbfilename": "dump.rdb",
            "save": '""',
            "appendonly": "no",
            "protected-mode": "no",
            "daemonize": "no",
            "logfile": '""',
        }
        if self.password:
            conf["requirepass"] = _redis_quote(self.password)
        conf.update(self.extra_config)  # written verbatim: quote values yourself
        lines = [f"{key} {value}" for key, value in conf.items()]
        self.config_path.write_text("\n".join(lines) + "\n")

    def _command(self) -> list[str]:
        return [self.binary, str(self.config_path)]

    def _ready(self) -> bool:
        try:
            import redis
            from redis.backoff import NoBackoff
            from redis.retry import Retry
        except ImportError:
            return self._raw_ping()
        try:
            with self.client(socket_timeout=1.0, retry=Retry(NoBackoff(), 0)) as client:
                return bool(client.ping())
        except redis.RedisError:
            return False

    def _raw_ping(self) -> bool:
        with socket.create_connection((self.host, self.port), timeout=1.0) as sock:
            payload = _resp("PING")
            if self.password:
                payload = _resp("AUTH", self.password) + payload
            sock.sendall(payload)
            data = b""
            while b"PONG" not in data and not data.startswith(b"-"):
                chunk = sock.recv(4096)
                if not chunk:
                    break
                data += chunk
            return b"+PONG" in data

    def client(self, **kwargs: Any) -> Any:
        """A redis-py client (``decode_responses=True``) for this server."""
        try:
            import redis
        except ImportError as exc:
            raise ServerError(
                "redis-py is not installed: pip install redis (Debian: python3-redis)"
            ) from exc
        kwargs.setdefault("decode_responses", True)
        kwargs.setdefault("socket_timeout", 5.0)
        return redis.Redis(host=self.host, port=self.port, password=self.password, **kwargs)

    def config_set(self, key: str, value: str | int) -> None:
        """CONFIG SET on the running server (not persisted to redis.conf)."""
        with self.client() as client:
            client.config_set(key, value)
