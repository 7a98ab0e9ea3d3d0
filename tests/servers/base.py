"""Shared pieces of the loopback servers: errors, ports, binaries, logs and
the child-process lifecycle (``_ServerProcess``).
"""

from __future__ import annotations

import atexit
import contextlib
import http.client
import os
import shutil
import signal
import socket
import subprocess
import tempfile
import time
import urllib.error
import urllib.request
import weakref
from pathlib import Path
from typing import Any, Self

LOOPBACK = "127.0.0.1"
STARTUP_TIMEOUT = 15.0
STOP_TIMEOUT = 5.0
LOG_TAIL_LINES = 20

# Never route loopback requests through a proxy from the environment.
_OPENER = urllib.request.build_opener(urllib.request.ProxyHandler({}))


class ServerError(RuntimeError):
    """A server failed to start, answer or stop."""


class MissingBinaryError(ServerError):
    """A server binary is not installed; the message names the Debian package."""


def free_port(host: str = LOOPBACK) -> int:
    """Return a TCP port that was free on ``host`` a moment ago."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind((host, 0))
        return int(sock.getsockname()[1])


def require_binary(name: str, package: str, path: str | Path | None = None) -> str:
    """Return the binary's path or raise MissingBinaryError naming the Debian package."""
    found = str(path) if path and Path(path).is_file() else shutil.which(name)
    if not found:
        raise MissingBinaryError(
            f"{name} is not installed: install the Debian package '{package}' "
            f"(apt-get install -y {package}); `make test` installs it"
        )
    return found


def log_tail(path: Path, lines: int = LOG_TAIL_LINES) -> str:
    """Last ``lines`` lines of a log file, or a note that it is missing."""
    try:
        text = path.read_text(errors="replace")
    except OSError as exc:
        return f"(no log at {path}: {exc})"
    return "\n".join(text.splitlines()[-lines:])


def http_get(url: str, timeout: float = 5.0) -> tuple[int, bytes]:
    """GET ``url`` without proxies; return (status, body) even for HTTP errors."""
    try:
        with _OPENER.open(url, timeout=timeout) as resp:
            return resp.status, resp.read()
    except urllib.error.HTTPError as exc:
        return exc.code, exc.read()


_LIVE: weakref.WeakSet[_ServerProcess] = weakref.WeakSet()


@atexit.register
def _stop_leftovers() -> None:
    for server in list(_LIVE):
        with contextlib.suppress(Exception):
            server.stop()


class _ServerProcess:
    """One child process in its own session, logging to ``dir/<name>.log``."""

    name = "server"
    startup_timeout = STARTUP_TIMEOUT
    stop_signal = signal.SIGTERM

    def __init__(self, dir: str | Path, port: int | None = None) -> None:
        self.dir = Path(dir).resolve()
        self.dir.mkdir(parents=True, exist_ok=True)
        self.host = LOOPBACK
        self._auto_port = port is None
        self.port = port if port is not None else free_port()
        self.log_path = self.dir / f"{self.name}.log"
        self.proc: subprocess.Popen[bytes] | None = None
        self.returncode: int | None = None
        self.startup_seconds: float | None = None
        self._started_once = False

    # -- hooks -------------------------------------------------------------------------
    def _command(self) -> list[str]:
        raise NotImplementedError

    def _ready(self) -> bool:
        raise NotImplementedError

    def _prepare(self) -> None:
        """Write config files before each spawn."""

    def _popen_kwargs(self) -> dict[str, Any]:
        return {}

    def _repick_ports(self) -> None:
        """Choose new ports after losing a free_port() race (first start only)."""
        self.port = free_port()

    def _where(self) -> str:
        return f"{self.host}:{self.port}"

    # -- lifecycle ---------------------------------------------------------------------
    @property
    def running(self) -> bool:
        return self.proc is not None and self.proc.poll() is None

    def start(self) -> Self:
        """Start (or restart) the server and wait until it answers."""
        if self.running:
            return self
        t0 = time.monotonic()
        attempts = 3 if self._auto_port and not self._started_once else 1
        for attempt in range(attempts):
            try:
                self._spawn_and_wait()
                break
            except ServerError as exc:
                if attempt + 1 < attempts and "already in use" in str(exc).lower():
                    self._repick_ports()
                    continue
                raise
        self._started_once = True
        self.startup_seconds = time.monotonic() - t0
        _LIVE.add(self)
        return self

    def _spawn_and_wait(self) -> None:
        self._prepare()
        with self.log_path.open("ab") as log:
            log.write(f"--- {time.strftime('%H:%M:%S')} starting {self.name}\n".encode())
            log.flush()
            self.proc = subprocess.Popen(
                self._command(),
                stdin=subprocess.DEVNULL,
                stdout=log,
                stderr=subprocess.STDOUT,
                start_new_session=True,
                **self._popen_kwargs(),
            )
        try:
            self._wait_ready()
        except BaseException:
            self._kill()
            raise

    def _wait_ready(self) -> None:
        assert self.proc is not None
        deadline = time.monotonic() + self.startup_timeout
        while True:
            code = self.proc.poll()
            if code is not None:
                raise ServerError(
                    f"{self.name} exited with code {code} during startup; "
                    f"last log lines ({self.log_path}):\n{log_tail(self.log_path)}"
                )
            with contextlib.suppress(OSError, ValueError, http.client.HTTPException):
                if self._ready():
                    return
            if time.monotonic() > deadline:
                raise ServerError(
                    f"{self.name} did not become ready within {self.startup_timeout:g}s on "
                    f"{self._where()}; last log lines ({self.log_path}):\n"
                    f"{log_tail(self.log_path)}"
                )
            time.sleep(0.05)

    def _signal(self, sig: int) -> None:
        assert self.proc is not None
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.killpg(self.proc.pid, sig)

    def _kill(self) -> None:
        """SIGKILL the process group, reap the child and forget it (so pids are never reused)."""
        if self.proc is None:
            return
        if self.proc.poll() is None:
            self._signal(signal.SIGKILL)
        with contextlib.suppress(subprocess.TimeoutExpired):
            self.proc.wait(timeout=STOP_TIMEOUT)
        self._signal(signal.SIGKILL)  # stragglers left in the process group
        self.returncode = self.proc.returncode
        self.proc = None

    def stop(self, timeout: float = STOP_TIMEOUT) -> None:
        """Ask the server to exit; SIGKILL its process group after ``timeout`` seconds."""
        proc = self.proc
        if proc is None:
            return
        if proc.poll() is None:
            with contextlib.suppress(ProcessLookupError):
                proc.send_signal(self.stop_signal)
            with contextlib.suppress(subprocess.TimeoutExpired):
                proc.wait(timeout=timeout)
        self._kill()
        _LIVE.discard(self)

    def __enter__(self) -> Self:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    def __repr__(self) -> str:
        state = "running" if self.running else "stopped"
        return f"<{type(self).__name__} {self._where()} {state} dir={self.dir}>"


def make_owned_tempdir(prefix: str, owner: str | None = None) -> Path:
    """mkdtemp under the system temp dir (0700, chowned to ``owner`` if given)."""
    path = Path(tempfile.mkdtemp(prefix=prefix))
    if owner:
        shutil.chown(path, owner, owner)
    return path
