"""pytest fixtures that start the loopback servers; loaded through ``servers/__init__.py``."""

from __future__ import annotations

import contextlib
import shutil
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from .base import MissingBinaryError, ServerError, _ServerProcess, make_owned_tempdir
from .hostile import GarbageServer, StallingProxy, TricklingServer
from .http import HTTPServer
from .nats import NatsServer
from .podman import PodmanService
from .postgres import PostgresServer
from .prometheus import PrometheusServer
from .redis import RedisServer
from .silent import SilentServer


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


@contextlib.contextmanager
def _serving_in_tempdir(prefix: str, cls: type[_ServerProcess]) -> Iterator[Any]:
    """``_serving`` in a fresh ``make_owned_tempdir(prefix)``, removed afterwards."""
    tmp = make_owned_tempdir(prefix)
    try:
        with _serving(lambda: cls(tmp)) as server:
            yield server
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


@contextlib.contextmanager
def _factory(tmp_path: Path, prefix: str, cls: type[_ServerProcess]) -> Iterator[Callable]:
    """A ``make(**kwargs)`` that starts ``cls`` in ``tmp_path/<prefix>-<n>``; all stopped after."""
    with contextlib.ExitStack() as stack:
        count = 0

        def make(**kwargs: Any) -> Any:
            nonlocal count
            count += 1
            path = tmp_path / f"{prefix}-{count}"
            return stack.enter_context(_serving(lambda: cls(path, **kwargs)))

        yield make


@pytest.fixture
def redis_server(tmp_path: Path) -> Iterator[RedisServer]:
    """A fresh redis-server (no persistence unless configured)."""
    with _serving(lambda: RedisServer(tmp_path / "redis")) as server:
        yield server


@pytest.fixture(scope="session")
def postgres_server_session() -> Iterator[PostgresServer]:
    """One PostgreSQL shared by the session: create uniquely named databases."""
    with _serving_in_tempdir("opscheck-pg-", PostgresServer) as server:
        yield server


@pytest.fixture
def postgres_server() -> Iterator[PostgresServer]:
    """A fresh PostgreSQL cluster per test (initdb + start is about a second)."""
    with _serving_in_tempdir("opscheck-pg-", PostgresServer) as server:
        yield server


@pytest.fixture
def prometheus_server(tmp_path: Path) -> Iterator[Callable[..., PrometheusServer]]:
    """Factory: ``prometheus_server(scrape_targets=[...], **kw)`` returns a started one."""
    with _factory(tmp_path, "prometheus", PrometheusServer) as make:
        yield make


@pytest.fixture
def nats_server(tmp_path: Path) -> Iterator[NatsServer]:
    """nats-server with monitoring, JetStream off."""
    with _serving(lambda: NatsServer(tmp_path / "nats")) as server:
        yield server


@pytest.fixture
def nats_server_factory(tmp_path: Path) -> Iterator[Callable[..., NatsServer]]:
    """Factory: ``nats_server_factory(jetstream=True, ...)`` returns a started one."""
    with _factory(tmp_path, "nats", NatsServer) as make:
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
    with _serving_in_tempdir("opscheck-podman-", PodmanService) as service:
        yield service


@pytest.fixture
def hostile() -> Iterator[Callable[..., SilentServer]]:
    """Factory of started misbehaving peers, all stopped after the test:
    ``hostile("trickle", head, trickle)``, ``hostile("garbage")``, ``hostile("silent")``,
    ``hostile("stall", upstream_port)`` (keyword arguments go to the class, ``unix=PATH``)."""
    classes: dict[str, type[SilentServer]] = {
        "silent": SilentServer, "trickle": TricklingServer, "garbage": GarbageServer,
        "stall": StallingProxy}
    with contextlib.ExitStack() as stack:
        def make(kind: str, *args: Any, **kwargs: Any) -> SilentServer:
            return stack.enter_context(classes[kind](*args, **kwargs))

        yield make
