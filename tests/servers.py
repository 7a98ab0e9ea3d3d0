"""Real loopback servers for opscheck's self-tests.

Every server binds 127.0.0.1 only, keeps its state and log in a directory, waits a bounded
time for readiness and is killed at teardown. The classes are plain context managers
(usable from bench scripts); the pytest fixtures at the bottom build on them and are loaded
with ``pytest_plugins = ["servers"]``.
"""

from __future__ import annotations

import atexit
import contextlib
import datetime as dt
import http.client
import http.server
import ipaddress
import json as jsonlib
import os
import resource
import shutil
import signal
import socket
import ssl
import subprocess
import tarfile
import tempfile
import threading
import time
import urllib.error
import urllib.parse
import urllib.request
import weakref
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Self

try:
    import pytest
except ImportError:  # pragma: no cover - the classes work without pytest
    pytest = None  # type: ignore[assignment]

LOOPBACK = "127.0.0.1"
STARTUP_TIMEOUT = 15.0
STOP_TIMEOUT = 5.0
LOG_TAIL_LINES = 20
PG_VERSION = "15"

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


# --------------------------------------------------------------------------------------
# Redis
# --------------------------------------------------------------------------------------
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


# --------------------------------------------------------------------------------------
# PostgreSQL
# --------------------------------------------------------------------------------------
_PG_TEMPLATES: dict[tuple[str, str | None], Path] = {}


@atexit.register
def _remove_pg_templates() -> None:
    for data_dir in _PG_TEMPLATES.values():
        shutil.rmtree(data_dir.parent, ignore_errors=True)


def _pg_bindir() -> Path:
    override = os.environ.get("OPSCHECK_PG_BINDIR")
    if override:
        return Path(override)
    preferred = Path(f"/usr/lib/postgresql/{PG_VERSION}/bin")
    if preferred.is_dir():
        return preferred
    found = sorted(Path("/usr/lib/postgresql").glob("*/bin"))
    return found[-1] if found else preferred


class PostgresServer(_ServerProcess):
    """A throwaway PostgreSQL cluster run as the ``postgres`` user (it refuses root).

    ``dir`` is chowned to postgres and must be reachable by that user (its parents need
    o+x: pytest's tmp_path is not, use ``make_owned_tempdir()``). With ``template`` the
    cluster is copied from one initdb per process instead of running initdb each time.
    """

    name = "postgres"
    stop_signal = signal.SIGINT  # what `pg_ctl stop -m fast` sends
    os_user = "postgres"

    def __init__(
        self,
        dir: str | Path,
        port: int | None = None,
        max_connections: int = 30,
        password: str | None = None,
        settings: Mapping[str, str | int] | None = None,
        template: bool = True,
    ) -> None:
        bindir = _pg_bindir()
        package = f"postgresql-{PG_VERSION}"
        self.postgres_bin = require_binary("postgres", package, bindir / "postgres")
        self.initdb_bin = require_binary("initdb", package, bindir / "initdb")
        self.pg_isready_bin = require_binary("pg_isready", package, bindir / "pg_isready")
        self.psql_bin = require_binary("psql", "postgresql-client-15", bindir / "psql")
        super().__init__(dir, port)
        self.max_connections = max_connections
        self.password = password
        self.settings = dict(settings or {})
        self.template = template
        self.data_dir = self.dir / "data"
        self.socket_dir = self.dir / "sock"
        self.initdb_seconds: float | None = None
        self._check_owner_dir()

    # -- helpers -----------------------------------------------------------------------
    def _as_postgres(self) -> dict[str, Any]:
        env = {k: v for k, v in os.environ.items() if not k.startswith(("PG", "LC_", "LANG"))}
        env.update(HOME=str(self.dir), LC_ALL="C.UTF-8", LANG="C.UTF-8")
        return {
            "user": self.os_user,
            "group": self.os_user,
            "extra_groups": [],
            "cwd": str(self.dir),
            "env": env,
        }

    def _check_owner_dir(self) -> None:
        try:
            shutil.chown(self.dir, self.os_user, self.os_user)
        except (LookupError, PermissionError) as exc:
            raise ServerError(f"cannot chown {self.dir} to {self.os_user}: {exc}") from exc
        probe = subprocess.run(
            ["test", "-w", str(self.dir), "-a", "-x", str(self.dir)],
            timeout=10,
            check=False,
            **{**self._as_postgres(), "cwd": "/"},
        )
        if probe.returncode != 0:
            raise ServerError(
                f"user {self.os_user} cannot write {self.dir}: a parent directory is not "
                "traversable (e.g. pytest's 0700 tmp dirs); use tempfile.mkdtemp()"
            )

    def _run_initdb(self, data_dir: Path) -> None:
        args = [
            self.initdb_bin,
            "-D",
            str(data_dir),
            "-U",
            "postgres",
            "--encoding=UTF8",
            "--locale=C.UTF-8",
            "--no-sync",
            "--auth=trust",
        ]
        pwfile = data_dir.parent / "pwfile"
        if self.password:
            pwfile.write_text(self.password + "\n")
            shutil.chown(pwfile, self.os_user, self.os_user)
            args += ["--auth-host=scram-sha-256", "--auth-local=trust", f"--pwfile={pwfile}"]
        with self.log_path.open("ab") as log:
            try:
                result = subprocess.run(
                    args,
                    stdout=log,
                    stderr=subprocess.STDOUT,
                    timeout=120,
                    check=False,
                    **self._as_postgres(),
                )
            finally:
                pwfile.unlink(missing_ok=True)
        if result.returncode != 0:
            raise ServerError(
                f"initdb failed with code {result.returncode}; last log lines "
                f"({self.log_path}):\n{log_tail(self.log_path)}"
            )

    def _initdb(self) -> None:
        """initdb once per process and password, then copy the cluster (saves ~0.6 s)."""
        if (self.data_dir / "PG_VERSION").exists():
            return
        t0 = time.monotonic()
        if not self.template:
            self._run_initdb(self.data_dir)
        else:
            key = (self.initdb_bin, self.password)
            tpl = _PG_TEMPLATES.get(key)
            if tpl is None or not (tpl / "PG_VERSION").exists():
                tpl = make_owned_tempdir("opscheck-pgtpl-", self.os_user) / "data"
                self._run_initdb(tpl)
                _PG_TEMPLATES[key] = tpl
            copied = subprocess.run(
                ["cp", "-a", str(tpl), str(self.data_dir)],
                capture_output=True,
                text=True,
                timeout=120,
                check=False,
            )
            if copied.returncode != 0:
                raise ServerError(f"copying the initdb template failed: {copied.stderr.strip()}")
        self.initdb_seconds = time.monotonic() - t0

    # -- lifecycle hooks ---------------------------------------------------------------
    def _prepare(self) -> None:
        self.socket_dir.mkdir(exist_ok=True)
        shutil.chown(self.socket_dir, self.os_user, self.os_user)
        self.log_path.touch()
        self._initdb()

    def _command(self) -> list[str]:
        conf: dict[str, str | int] = {
            "listen_addresses": self.host,
            "port": self.port,
            "unix_socket_directories": str(self.socket_dir),
            "max_connections": self.max_connections,
            "fsync": "off",
            "synchronous_commit": "off",
            "full_page_writes": "off",
            "shared_buffers": "32MB",
            "logging_collector": "off",
        }
        conf.update(self.settings)
        args = [self.postgres_bin, "-D", str(self.data_dir)]
        for key, value in conf.items():
            args += ["-c", f"{key}={value}"]
        return args

    def _popen_kwargs(self) -> dict[str, Any]:
        return self._as_postgres()

    def _ready(self) -> bool:
        result = subprocess.run(
            [self.pg_isready_bin, "-h", self.host, "-p", str(self.port), "-t", "1", "-q"],
            timeout=5,
            check=False,
            env=self._client_env(),
        )
        return result.returncode == 0

    # -- public API --------------------------------------------------------------------
    def dsn_for(self, dbname: str, user: str = "postgres") -> str:
        """libpq URI for ``dbname`` as ``user`` (password included for postgres)."""
        auth = urllib.parse.quote(user, safe="")
        if self.password and user == "postgres":
            auth += ":" + urllib.parse.quote(self.password, safe="")
        return f"postgresql://{auth}@{self.host}:{self.port}/{urllib.parse.quote(dbname)}"

    @property
    def dsn(self) -> str:
        return self.dsn_for("postgres")

    def _client_env(self) -> dict[str, str]:
        env = {k: v for k, v in os.environ.items() if not k.startswith("PG")}
        env["PGCONNECT_TIMEOUT"] = "5"
        if self.password:
            env["PGPASSWORD"] = self.password
        return env

    def psql(self, sql: str, db: str = "postgres", user: str = "postgres") -> str:
        """Run SQL with the psql CLI over TCP; return unaligned, tuples-only output."""
        result = subprocess.run(
            [
                self.psql_bin,
                "-X",
                "-q",
                "-A",
                "-t",
                "-v",
                "ON_ERROR_STOP=1",
                "-h",
                self.host,
                "-p",
                str(self.port),
                "-U",
                user,
                "-d",
                db,
                "-c",
                sql,
            ],
            capture_output=True,
            text=True,
            timeout=60,
            check=False,
            env=self._client_env(),
        )
        if result.returncode != 0:
            raise ServerError(f"psql failed ({result.returncode}): {result.stderr.strip()}")
        return result.stdout.rstrip("\n")

    def query(self, sql: str, params: Sequence[Any] | None = None, db: str = "postgres") -> list:
        """Run SQL with psycopg 3 (autocommit); return fetched rows (or [])."""
        try:
            import psycopg
        except ImportError as exc:
            raise ServerError(
                "psycopg 3 is not installed: pip install 'psycopg[binary]' "
                "(Debian: python3-psycopg)"
            ) from exc
        with psycopg.connect(self.dsn_for(db), autocommit=True, connect_timeout=5) as conn:
            cur = conn.execute(sql, params)
            return cur.fetchall() if cur.description else []

    def createdb(self, name: str) -> str:
        """CREATE DATABASE ``name``; return its DSN."""
        ident = '"' + name.replace('"', '""') + '"'
        self.psql(f"CREATE DATABASE {ident}")
        return self.dsn_for(name)


# --------------------------------------------------------------------------------------
# Prometheus
# --------------------------------------------------------------------------------------
class PrometheusServer(_ServerProcess):
    """Prometheus scraping ``scrape_targets`` ("host:port") with TSDB in ``dir``."""

    name = "prometheus"
    startup_timeout = 30.0

    def __init__(
        self,
        dir: str | Path,
        scrape_targets: Sequence[str] = (),
        scrape_interval: str = "1s",
        rule_files: Sequence[str | Path] | None = None,
        port: int | None = None,
        metrics_path: str = "/metrics",
        scrape_self: bool = False,
        extra_args: Sequence[str] = (),
    ) -> None:
        self.binary = require_binary("prometheus", "prometheus")
        super().__init__(dir, port)
        self.scrape_targets = list(scrape_targets)
        self.scrape_interval = scrape_interval
        self.rule_files = [str(Path(p).resolve()) for p in rule_files or []]
        self.metrics_path = metrics_path
        self.scrape_self = scrape_self
        self.extra_args = list(extra_args)
        self.config_path = self.dir / "prometheus.yml"
        self.data_dir = self.dir / "data"

    @property
    def url(self) -> str:
        return f"http://{self.host}:{self.port}"

    def _config(self) -> dict[str, Any]:
        scrape: list[dict[str, Any]] = []
        if self.scrape_targets:
            scrape.append(
                {
                    "job_name": "opscheck",
                    "metrics_path": self.metrics_path,
                    "static_configs": [{"targets": self.scrape_targets}],
                }
            )
        if self.scrape_self:
            scrape.append(
                {
                    "job_name": "prometheus",
                    "static_configs": [{"targets": [f"{self.host}:{self.port}"]}],
                }
            )
        return {
            "global": {
                "scrape_interval": self.scrape_interval,
                "evaluation_interval": self.scrape_interval,
            },
            "rule_files": self.rule_files,
            "scrape_configs": scrape,
        }

    def _prepare(self) -> None:
        # JSON is valid YAML, so no YAML library is needed.
        self.config_path.write_text(jsonlib.dumps(self._config(), indent=2) + "\n")

    def _command(self) -> list[str]:
        return [
            self.binary,
            f"--config.file={self.config_path}",
            f"--storage.tsdb.path={self.data_dir}",
            f"--web.listen-address={self.host}:{self.port}",
            "--web.enable-lifecycle",
            "--storage.tsdb.retention.time=1d",
            *self.extra_args,
        ]

    def _ready(self) -> bool:
        return http_get(f"{self.url}/-/ready", timeout=1.0)[0] == 200

    def api(self, path: str, params: Mapping[str, str] | None = None) -> Any:
        """GET /api/v1/<path>; return ``data`` or raise ServerError with Prometheus' error."""
        query = f"?{urllib.parse.urlencode(params)}" if params else ""
        status, body = http_get(f"{self.url}/api/v1/{path}{query}", timeout=10.0)
        try:
            doc = jsonlib.loads(body)
        except ValueError as exc:
            raise ServerError(f"prometheus answered {status}: {body[:200]!r}") from exc
        if doc.get("status") != "success":
            raise ServerError(f"prometheus {path} failed ({status}): {doc.get('error')}")
        return doc["data"]

    def query(self, promql: str) -> list[dict[str, Any]]:
        """Instant query; return ``data.result``."""
        return list(self.api("query", {"query": promql})["result"])

    def targets(self) -> list[dict[str, Any]]:
        return list(self.api("targets", {"state": "active"})["activeTargets"])

    def wait_for_targets(self, timeout: float = 15.0, health: str | None = "up") -> list:
        """Wait until every configured target was scraped (and has ``health``, if given)."""
        expected = len(self.scrape_targets) + int(self.scrape_self)
        deadline = time.monotonic() + timeout
        targets: list[dict[str, Any]] = []
        while True:
            targets = self.targets()
            states = [t.get("health") for t in targets]
            if len(targets) >= expected and all(
                s != "unknown" and (health is None or s == health) for s in states
            ):
                return targets
            if time.monotonic() > deadline:
                summary = [
                    (t.get("scrapeUrl"), t.get("health"), t.get("lastError")) for t in targets
                ]
                raise TimeoutError(f"targets not {health or 'scraped'} in {timeout:g}s: {summary}")
            time.sleep(0.2)

    def reload(self) -> None:
        """POST /-/reload after rewriting prometheus.yml from the current attributes."""
        self._prepare()
        req = urllib.request.Request(f"{self.url}/-/reload", method="POST")
        with _OPENER.open(req, timeout=10) as resp:
            if resp.status != 200:
                raise ServerError(f"reload answered {resp.status}")


# --------------------------------------------------------------------------------------
# NATS
# --------------------------------------------------------------------------------------
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


# --------------------------------------------------------------------------------------
# Podman
# --------------------------------------------------------------------------------------
class _UnixHTTPConnection(http.client.HTTPConnection):
    def __init__(self, path: str, timeout: float) -> None:
        super().__init__("localhost", timeout=timeout)
        self._path = path

    def connect(self) -> None:
        sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        sock.settimeout(self.timeout)
        sock.connect(self._path)
        self.sock = sock


def _ulimit(name: str, res: int, cap: int) -> str:
    """``name=N:N`` with N = min(our hard limit, cap): containers cannot exceed podman's own."""
    hard = resource.getrlimit(res)[1]
    value = cap if hard == resource.RLIM_INFINITY else min(hard, cap)
    return f"{name}={value}:{value}"


class PodmanService(_ServerProcess):
    """``podman system service`` on a unix socket, with all storage inside ``dir``.

    Sandbox notes: the host has hybrid cgroups (v1 + a v2 mount holding hugetlb), which crun
    refuses, so containers only run with ``runc``; default ulimits are pinned to the current
    hard limits (podman's 1048576 is not permitted); the default network is "none" and the
    bridge backend is disabled (CNI with an empty plugin dir), so nothing touches the host's
    interfaces or firewall. ``--network host`` works (the container sees host loopback).
    """

    name = "podman"
    startup_timeout = 20.0

    def __init__(
        self,
        dir: str | Path,
        runtime: str | None = None,
        storage_driver: str = "vfs",
    ) -> None:
        self.binary = require_binary("podman", "podman")
        super().__init__(dir, port=0)
        self.runtime = runtime or ("runc" if shutil.which("runc") else "crun")
        self.storage_driver = storage_driver
        self.socket_path = self.dir / "podman.sock"
        self.containers_conf = self.dir / "containers.conf"
        self.storage_conf = self.dir / "storage.conf"
        self.env = dict(os.environ)
        self.env.update(
            CONTAINERS_CONF=str(self.containers_conf),
            CONTAINERS_STORAGE_CONF=str(self.storage_conf),
            CONTAINERS_REGISTRIES_CONF=str(self.dir / "registries.conf"),
            TMPDIR=str(self.dir / "tmp"),
        )

    @property
    def base_url(self) -> str:
        return f"unix://{self.socket_path}"

    @property
    def can_run_containers(self) -> bool:
        """True when the OCI runtime can start containers here (runc; crun cannot)."""
        return self.runtime == "runc" and shutil.which("runc") is not None

    def _prepare(self) -> None:
        d = self.dir
        for sub in ("root", "runroot", "tmp", "libpod", "networks", "cni-plugins"):
            (d / sub).mkdir(exist_ok=True)
        ulimits = [
            # podman caps itself at nproc 32768 and tries nofile 1048576 (root defaults)
            _ulimit("nofile", resource.RLIMIT_NOFILE, 1048576),
            _ulimit("nproc", resource.RLIMIT_NPROC, 32768),
        ]
        self.containers_conf.write_text(
            "[containers]\n"
            f"default_ulimits = {jsonlib.dumps(ulimits)}\n"
            'netns = "none"\n'
            "[engine]\n"
            'cgroup_manager = "cgroupfs"\n'
            'events_logger = "file"\n'
            f'events_logfile_path = "{d}/events.log"\n'
            f'runtime = "{self.runtime}"\n'
            f'tmp_dir = "{d}/libpod"\n'
            f'image_copy_tmp_dir = "{d}/tmp"\n'
            "[network]\n"
            'network_backend = "cni"\n'
            f'network_config_dir = "{d}/networks"\n'
            f'cni_plugin_dirs = ["{d}/cni-plugins"]\n'
        )
        self.storage_conf.write_text(
            "[storage]\n"
            f'driver = "{self.storage_driver}"\n'
            f'graphroot = "{d}/root"\n'
            f'runroot = "{d}/runroot"\n'
        )
        (d / "registries.conf").write_text("unqualified-search-registries = []\n")
        self.socket_path.unlink(missing_ok=True)

    def _command(self) -> list[str]:
        return [self.binary, "system", "service", "--time=0", self.base_url]

    def _popen_kwargs(self) -> dict[str, Any]:
        return {"env": self.env}

    def _ready(self) -> bool:
        if not self.socket_path.exists():
            return False
        status, body = self.api("GET", "/_ping", timeout=2.0)
        return status == 200 and body == "OK"

    def _where(self) -> str:
        return self.base_url

    def api(
        self, method: str, path: str, body: Any = None, timeout: float = 30.0
    ) -> tuple[int, Any]:
        """One HTTP request over the unix socket; JSON answers are decoded."""
        conn = _UnixHTTPConnection(str(self.socket_path), timeout)
        try:
            payload = None if body is None else jsonlib.dumps(body).encode()
            headers = {"Content-Type": "application/json"} if payload is not None else {}
            conn.request(method, path, body=payload, headers=headers)
            resp = conn.getresponse()
            raw = resp.read()
            if resp.getheader("Content-Type", "").startswith("application/json") and raw:
                return resp.status, jsonlib.loads(raw)
            return resp.status, raw.decode(errors="replace")
        finally:
            conn.close()

    def podman(
        self, *args: str, check: bool = True, timeout: float = 60.0
    ) -> subprocess.CompletedProcess[str]:
        """Run the podman CLI against this service's storage."""
        result = subprocess.run(
            [self.binary, *args],
            capture_output=True,
            text=True,
            env=self.env,
            timeout=timeout,
            check=False,
        )
        if check and result.returncode != 0:
            raise ServerError(
                f"podman {' '.join(args)} failed ({result.returncode}): {result.stderr.strip()}"
            )
        return result

    def import_tiny_image(
        self,
        name: str = "localhost/opscheck-tiny:latest",
        binaries: Sequence[str] = ("/bin/sh", "/bin/sleep", "/bin/cat"),
        files: Mapping[str, bytes | str] | None = None,
        cmd: Sequence[str] = ("/bin/sleep", "3600"),
    ) -> str:
        """Build an image offline from host binaries (+ their ldd libraries) and files."""
        paths: set[str] = set()
        for binary in binaries:
            paths.add(binary)
            out = subprocess.run(
                ["ldd", binary], capture_output=True, text=True, timeout=10, check=False
            ).stdout
            paths.update(tok for tok in out.split() if tok.startswith("/"))
        tar_path = self.dir / "tmp" / f"image-{time.monotonic_ns()}.tar"
        tar_path.parent.mkdir(exist_ok=True)
        with tarfile.open(tar_path, "w") as tar:
            for path in sorted(paths):
                tar.add(os.path.realpath(path), arcname=path.lstrip("/"))
            for arc, content in (files or {}).items():
                data = content.encode() if isinstance(content, str) else content
                info = tarfile.TarInfo(arc.lstrip("/"))
                info.size, info.mode, info.mtime = len(data), 0o644, int(time.time())
                with tempfile.SpooledTemporaryFile() as buf:
                    buf.write(data)
                    buf.seek(0)
                    tar.addfile(info, buf)
        try:
            self.podman(
                "import", "-q", "--change", f"CMD {jsonlib.dumps(list(cmd))}", str(tar_path), name
            )
        finally:
            tar_path.unlink(missing_ok=True)
        return name

    def _stray_pids(self) -> list[int]:
        """conmon / cleanup processes started for this service (their cmdline names dir)."""
        needle = (str(self.dir) + "/").encode()
        pids = []
        for entry in Path("/proc").iterdir():
            if not entry.name.isdigit() or int(entry.name) == os.getpid():
                continue
            try:
                if needle in (entry / "cmdline").read_bytes():
                    pids.append(int(entry.name))
            except OSError:
                continue
        return pids

    def _reap_strays(self, timeout: float = STOP_TIMEOUT) -> None:
        deadline = time.monotonic() + timeout
        while self._stray_pids() and time.monotonic() < deadline:
            time.sleep(0.1)
        for pid in self._stray_pids():
            with contextlib.suppress(ProcessLookupError):
                os.kill(pid, signal.SIGKILL)

    def _unmount_leftovers(self) -> None:
        prefix = str(self.dir) + "/"
        try:
            lines = Path("/proc/self/mountinfo").read_text().splitlines()
        except OSError:
            return
        mounts = [line.split()[4] for line in lines if len(line.split()) > 4]
        for mnt in sorted((m for m in mounts if m.startswith(prefix)), key=len, reverse=True):
            subprocess.run(["umount", "-l", mnt], capture_output=True, timeout=10, check=False)

    def stop(self, timeout: float = STOP_TIMEOUT) -> None:
        """Remove all containers, stop the service, reap conmon and unmount what is left."""
        if self.proc is not None:
            with contextlib.suppress(Exception):
                self.podman("pod", "rm", "-a", "-f", check=False, timeout=30)
                self.podman("rm", "-a", "-f", "-t", "0", check=False, timeout=30)
        super().stop(timeout)
        self._reap_strays()
        self._unmount_leftovers()


# --------------------------------------------------------------------------------------
# HTTP(S), silent TCP
# --------------------------------------------------------------------------------------
_UNSET: Any = object()


@dataclass
class RecordedRequest:
    """A request received by HTTPServer."""

    method: str
    path: str
    query: dict[str, list[str]]
    headers: dict[str, str]
    body: bytes


@dataclass
class Route:
    """A canned answer: status, JSON or raw body, extra headers, delay before answering."""

    status: int = 200
    json: Any = _UNSET
    body: bytes | str | None = None
    delay: float = 0.0
    headers: dict[str, str] = field(default_factory=dict)
    handler: Callable[[RecordedRequest], Route] | None = None


def make_self_signed_cert(
    dir: str | Path, days: float = 30.0, hostname: str = "localhost"
) -> tuple[Path, Path]:
    """Write cert.pem/key.pem for hostname + 127.0.0.1; ``days`` <= 0 gives an expired cert."""
    out = Path(dir)
    out.mkdir(parents=True, exist_ok=True)
    cert_path, key_path = out / "cert.pem", out / "key.pem"
    try:
        from cryptography import x509
        from cryptography.hazmat.primitives import hashes, serialization
        from cryptography.hazmat.primitives.asymmetric import ec
        from cryptography.x509.oid import NameOID
    except ImportError:
        if days < 1 or days != int(days):
            raise ServerError(
                "expired or fractional-day certs need the cryptography package: "
                "pip install cryptography (Debian: python3-cryptography)"
            ) from None
        subprocess.run(
            [
                require_binary("openssl", "openssl"),
                "req",
                "-x509",
                "-newkey",
                "ec",
                "-pkeyopt",
                "ec_paramgen_curve:P-256",
                "-nodes",
                "-days",
                str(int(days)),
                "-subj",
                f"/CN={hostname}",
                "-addext",
                f"subjectAltName=DNS:{hostname},IP:{LOOPBACK}",
                "-keyout",
                str(key_path),
                "-out",
                str(cert_path),
            ],
            capture_output=True,
            timeout=60,
            check=True,
        )
        return cert_path, key_path
    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, hostname)])
    now = dt.datetime.now(dt.UTC)
    not_after = now + dt.timedelta(days=days)
    not_before = min(now, not_after) - dt.timedelta(days=1)
    ski = x509.SubjectKeyIdentifier.from_public_key(key.public_key())
    cert = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(not_before)
        .not_valid_after(not_after)
        .add_extension(
            x509.SubjectAlternativeName(
                [x509.DNSName(hostname), x509.IPAddress(ipaddress.ip_address(LOOPBACK))]
            ),
            critical=False,
        )
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .add_extension(
            x509.KeyUsage(
                digital_signature=True,
                content_commitment=False,
                key_encipherment=False,
                data_encipherment=False,
                key_agreement=False,
                key_cert_sign=True,
                crl_sign=True,
                encipher_only=False,
                decipher_only=False,
            ),
            critical=True,
        )
        .add_extension(
            x509.ExtendedKeyUsage([x509.oid.ExtendedKeyUsageOID.SERVER_AUTH]), critical=False
        )
        .add_extension(ski, critical=False)
        .add_extension(
            x509.AuthorityKeyIdentifier.from_issuer_subject_key_identifier(ski), critical=False
        )
        .sign(key, hashes.SHA256())
    )
    cert_path.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    key_path.write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
    )
    key_path.chmod(0o600)
    return cert_path, key_path


class _Httpd(http.server.ThreadingHTTPServer):
    daemon_threads = True
    allow_reuse_address = True
    owner: HTTPServer

    def finish_request(self, request: Any, client_address: Any) -> None:
        ctx = self.owner.ssl_context
        if ctx is None:
            super().finish_request(request, client_address)
            return
        request.settimeout(10.0)
        try:
            tls = ctx.wrap_socket(request, server_side=True)
        except (OSError, ssl.SSLError):
            return  # client gave up or rejected our certificate
        try:
            super().finish_request(tls, client_address)
        finally:
            tls.close()

    def handle_error(self, request: Any, client_address: Any) -> None:
        pass  # client disconnects are expected in failure tests


class _Handler(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server: _Httpd

    def _serve(self) -> None:
        owner = self.server.owner
        parsed = urllib.parse.urlsplit(self.path)
        length = int(self.headers.get("Content-Length") or 0)
        req = RecordedRequest(
            method=self.command,
            path=parsed.path,
            query=urllib.parse.parse_qs(parsed.query),
            headers={k.lower(): v for k, v in self.headers.items()},
            body=self.rfile.read(length) if length else b"",
        )
        with owner.lock:
            owner.requests.append(req)
            route = owner.routes.get((self.command, parsed.path)) or owner.routes.get(
                ("*", parsed.path)
            )
        if route is None:
            route = Route(status=404, json={"error": f"no route for {parsed.path}"})
        if route.handler is not None:
            route = route.handler(req)
        if route.delay > 0 and owner.stopping.wait(route.delay):
            return
        if route.json is not _UNSET:
            body, ctype = jsonlib.dumps(route.json).encode(), "application/json"
        elif isinstance(route.body, str):
            body, ctype = route.body.encode(), "text/plain; charset=utf-8"
        else:
            body, ctype = route.body or b"", "application/octet-stream"
        self.send_response(route.status)
        headers = {"Content-Type": ctype, "Content-Length": str(len(body)), **route.headers}
        for key, value in headers.items():
            self.send_header(key, value)
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(body)

    do_GET = do_POST = do_PUT = do_DELETE = do_PATCH = do_HEAD = do_OPTIONS = _serve

    def log_message(self, format: str, *args: Any) -> None:
        pass


class HTTPServer:
    """Threaded loopback HTTP(S) server answering per-path routes set by the test."""

    def __init__(
        self,
        port: int | None = None,
        tls: bool = False,
        cert_days: float = 30.0,
        cert_dir: str | Path | None = None,
    ) -> None:
        self.host = LOOPBACK
        self.port = port or 0
        self.tls = tls
        self.cert_days = cert_days
        self.routes: dict[tuple[str, str], Route] = {}
        self.requests: list[RecordedRequest] = []
        self.lock = threading.Lock()
        self.stopping = threading.Event()
        self.ssl_context: ssl.SSLContext | None = None
        self.cert_path: Path | None = None
        self.key_path: Path | None = None
        self._cert_dir = Path(cert_dir) if cert_dir else None
        self._own_cert_dir: Path | None = None
        self._httpd: _Httpd | None = None
        self._thread: threading.Thread | None = None

    @property
    def url(self) -> str:
        scheme = "https" if self.tls else "http"
        return f"{scheme}://{self.host}:{self.port}"

    def route(
        self,
        path: str,
        status: int = 200,
        json: Any = _UNSET,
        body: bytes | str | None = None,
        delay: float = 0.0,
        headers: Mapping[str, str] | None = None,
        method: str = "*",
        handler: Callable[[RecordedRequest], Route] | None = None,
    ) -> HTTPServer:
        """Answer ``method`` (default any) on ``path``; replaces an earlier route."""
        with self.lock:
            self.routes[(method.upper(), path)] = Route(
                status, json, body, delay, dict(headers or {}), handler
            )
        return self

    def client_ssl_context(self) -> ssl.SSLContext:
        """A client context that trusts this server's self-signed certificate."""
        if self.cert_path is None:
            raise ServerError("server is not running with tls=True")
        return ssl.create_default_context(cafile=str(self.cert_path))

    def start(self) -> HTTPServer:
        if self._httpd is not None:
            return self
        if self.tls:
            cert_dir = self._cert_dir
            if cert_dir is None:
                cert_dir = self._own_cert_dir = Path(tempfile.mkdtemp(prefix="opscheck-tls-"))
            self.cert_path, self.key_path = make_self_signed_cert(cert_dir, self.cert_days)
            ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
            ctx.load_cert_chain(self.cert_path, self.key_path)
            self.ssl_context = ctx
        self.stopping.clear()
        httpd = _Httpd((self.host, self.port), _Handler)
        httpd.owner = self
        self.port = int(httpd.server_address[1])
        self._httpd = httpd
        self._thread = threading.Thread(
            target=httpd.serve_forever,
            kwargs={"poll_interval": 0.1},
            daemon=True,
            name=f"opscheck-http-{self.port}",
        )
        self._thread.start()
        return self

    def stop(self) -> None:
        self.stopping.set()
        if self._httpd is not None:
            self._httpd.shutdown()
            self._httpd.server_close()
            self._httpd = None
        if self._thread is not None:
            self._thread.join(timeout=STOP_TIMEOUT)
            self._thread = None
        if self._own_cert_dir is not None:
            shutil.rmtree(self._own_cert_dir, ignore_errors=True)
            self._own_cert_dir = None

    def __enter__(self) -> HTTPServer:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()


class SilentServer:
    """Accepts TCP connections on loopback and never sends a byte ("dead host")."""

    def __init__(self, port: int | None = None) -> None:
        self.host = LOOPBACK
        self.port = port or 0
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

    def start(self) -> SilentServer:
        if self._sock is not None:
            return self
        sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        sock.bind((self.host, self.port))
        sock.listen(128)
        sock.settimeout(0.1)
        self.port = int(sock.getsockname()[1])
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

    def stop(self) -> None:
        self._stopping.set()
        if self._thread is not None:
            self._thread.join(timeout=STOP_TIMEOUT)
            self._thread = None
        if self._sock is not None:
            self._sock.close()
            self._sock = None
        for conn in self.connections:
            with contextlib.suppress(OSError):
                conn.close()
        self.connections.clear()

    def __enter__(self) -> SilentServer:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()


# --------------------------------------------------------------------------------------
# pytest fixtures
# --------------------------------------------------------------------------------------
def make_owned_tempdir(prefix: str, owner: str | None = None) -> Path:
    """mkdtemp under the system temp dir (0700, chowned to ``owner`` if given)."""
    path = Path(tempfile.mkdtemp(prefix=prefix))
    if owner:
        shutil.chown(path, owner, owner)
    return path


if pytest is not None:

    @contextlib.contextmanager
    def _serving(factory: Callable[[], Any]) -> Iterator[Any]:
        """Build and start a server; fail (never skip) with the reason; always stop it."""
        server = None
        try:
            error = None
            try:
                server = factory()
                server.start()
            except MissingBinaryError as exc:
                error = str(exc)
            except ServerError as exc:
                error = f"{type(server).__name__} failed to start: {exc}"
            if error is not None:
                pytest.fail(error, pytrace=False)
            yield server
        finally:
            if server is not None:
                server.stop()

    @pytest.fixture
    def redis_server(tmp_path: Path) -> Iterator[RedisServer]:
        """A fresh redis-server (no persistence unless configured)."""
        with _serving(lambda: RedisServer(tmp_path / "redis")) as server:
            yield server

    @contextlib.contextmanager
    def _postgres() -> Iterator[PostgresServer]:
        tmp = make_owned_tempdir("opscheck-pg-")
        try:
            with _serving(lambda: PostgresServer(tmp)) as server:
                yield server
        finally:
            shutil.rmtree(tmp, ignore_errors=True)

    @pytest.fixture(scope="session")
    def postgres_server_session() -> Iterator[PostgresServer]:
        """One PostgreSQL shared by the session: create uniquely named databases."""
        with _postgres() as server:
            yield server

    @pytest.fixture
    def postgres_server() -> Iterator[PostgresServer]:
        """A fresh PostgreSQL cluster per test (initdb + start is about a second)."""
        with _postgres() as server:
            yield server

    @pytest.fixture
    def prometheus_server(tmp_path: Path) -> Iterator[Callable[..., PrometheusServer]]:
        """Factory: ``prometheus_server(scrape_targets=[...], **kw)`` returns a started one."""
        with contextlib.ExitStack() as stack:
            count = 0

            def make(**kwargs: Any) -> PrometheusServer:
                nonlocal count
                count += 1
                path = tmp_path / f"prometheus-{count}"
                return stack.enter_context(_serving(lambda: PrometheusServer(path, **kwargs)))

            yield make

    @pytest.fixture
    def nats_server(tmp_path: Path) -> Iterator[NatsServer]:
        """nats-server with monitoring, JetStream off."""
        with _serving(lambda: NatsServer(tmp_path / "nats")) as server:
            yield server

    @pytest.fixture
    def nats_server_factory(tmp_path: Path) -> Iterator[Callable[..., NatsServer]]:
        """Factory: ``nats_server_factory(jetstream=True, ...)`` returns a started one."""
        with contextlib.ExitStack() as stack:
            count = 0

            def make(**kwargs: Any) -> NatsServer:
                nonlocal count
                count += 1
                path = tmp_path / f"nats-{count}"
                return stack.enter_context(_serving(lambda: NatsServer(path, **kwargs)))

            yield make

    @pytest.fixture
    def http_server(tmp_path: Path) -> Iterator[Callable[..., HTTPServer]]:
        """Factory: ``http_server(tls=False, cert_days=30)`` returns a started HTTPServer."""
        with contextlib.ExitStack() as stack:
            count = 0

            def make(**kwargs: Any) -> HTTPServer:
                nonlocal count
                count += 1
                kwargs.setdefault("cert_dir", tmp_path / f"tls-{count}")
                return stack.enter_context(HTTPServer(**kwargs))

            yield make

    @pytest.fixture
    def silent_server() -> Iterator[SilentServer]:
        """A TCP port that accepts connections and never answers."""
        with SilentServer() as server:
            yield server

    @pytest.fixture
    def podman_service() -> Iterator[PodmanService]:
        """A private podman API service (vfs storage, no network, runc when installed)."""
        tmp = make_owned_tempdir("opscheck-podman-")
        try:
            with _serving(lambda: PodmanService(tmp)) as service:
                yield service
        finally:
            shutil.rmtree(tmp, ignore_errors=True)
