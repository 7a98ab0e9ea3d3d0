"""Real loopback servers for opscheck's self-tests.

Every server binds 127.0.0.1 only, keeps its state and log in a directory, waits a bounded
time for readiness and is killed at teardown. The classes are plain context managers
(usable from bench scripts); the pytest fixtures in ``servers/fixtures.py`` build on them
and are loaded with ``pytest_plugins = ["servers"]`` (this module re-exports them).
"""

from __future__ import annotations

from .base import (
    LOG_TAIL_LINES,
    LOOPBACK,
    STARTUP_TIMEOUT,
    STOP_TIMEOUT,
    MissingBinaryError,
    ServerError,
    _ServerProcess,
    free_port,
    http_get,
    log_tail,
    make_owned_tempdir,
    require_binary,
)
from .hostile import GarbageServer, StallingProxy, TricklingServer
from .http import HTTPServer, RecordedRequest, Route
from .moto import MotoServer
from .nats import NatsServer
from .podman import PodmanService
from .postgres import PG_VERSION, PostgresServer, _pg_bindir
from .prometheus import PrometheusServer
from .redis import RedisServer
from .silent import SilentServer
from .tls import make_self_signed_cert

try:  # the fixtures need pytest; the classes work without it
    from .fixtures import (
        aws_test_env,
        hostile,
        http_server,
        moto_server,
        moto_server_session,
        nats_server,
        nats_server_factory,
        podman_service,
        postgres_server,
        postgres_server_session,
        prometheus_server,
        redis_server,
        silent_server,
        trickle_server,
    )
except ModuleNotFoundError as exc:  # pragma: no cover
    if exc.name != "pytest":
        raise

__all__ = [
    "LOG_TAIL_LINES",
    "LOOPBACK",
    "PG_VERSION",
    "STARTUP_TIMEOUT",
    "STOP_TIMEOUT",
    "GarbageServer",
    "HTTPServer",
    "MissingBinaryError",
    "MotoServer",
    "NatsServer",
    "PodmanService",
    "PostgresServer",
    "PrometheusServer",
    "RecordedRequest",
    "RedisServer",
    "Route",
    "ServerError",
    "SilentServer",
    "StallingProxy",
    "TricklingServer",
    "_ServerProcess",
    "_pg_bindir",
    "aws_test_env",
    "free_port",
    "hostile",
    "http_get",
    "http_server",
    "log_tail",
    "make_owned_tempdir",
    "make_self_signed_cert",
    "moto_server",
    "moto_server_session",
    "nats_server",
    "nats_server_factory",
    "podman_service",
    "postgres_server",
    "postgres_server_session",
    "prometheus_server",
    "redis_server",
    "require_binary",
    "silent_server",
    "trickle_server",
]
