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
from .moto import FAKE_KEY_ID, FAKE_SECRET, MotoServer
from .nats import NatsServer
from .podman import PodmanService
from .postgres import PostgresServer
from .prometheus import PrometheusServer
from .redis import RedisServer
from .silent import SilentServer

#: an HTTP answer's head promising a body the trickling peer then never finishes
TRICKLED_HTTP = (b"HTTP/1.1 200 OK\r\nContent-Type: text/xml\r\nContent-Length: 1000000\r\n\r\n"
                 b"<GetCallerIdentityResponse>")


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
@pytest.fixture(scope="session")
def moto_server_session() -> Iterator[MotoServer]:
    """One moto emulator shared by the session (``moto_server`` resets it per test)."""
    with _serving_in_tempdir("opscheck-moto-", MotoServer) as server:
        yield server


#: variables that could lead boto3 away from loopback or to a developer's own credentials
AWS_VARS_CLEARED = ("AWS_PROFILE", "AWS_DEFAULT_PROFILE", "AWS_SESSION_TOKEN",
                    "AWS_SECURITY_TOKEN", "AWS_ROLE_ARN", "AWS_WEB_IDENTITY_TOKEN_FILE",
                    "AWS_CONTAINER_CREDENTIALS_RELATIVE_URI",
                    "AWS_CONTAINER_CREDENTIALS_FULL_URI", "AWS_CONTAINER_AUTHORIZATION_TOKEN",
                    "AWS_ENDPOINT_URL", "AWS_CA_BUNDLE", "HTTP_PROXY", "HTTPS_PROXY",
                    "ALL_PROXY", "http_proxy", "https_proxy", "all_proxy")


@pytest.fixture
def aws_test_env(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    """Fake credentials in the environment only, no config files, no metadata service, no
    proxy: boto3's chain finds the fake keys and nothing else."""
    for name in AWS_VARS_CLEARED:
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", FAKE_KEY_ID)
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", FAKE_SECRET)
    monkeypatch.setenv("AWS_EC2_METADATA_DISABLED", "true")
    monkeypatch.setenv("AWS_CONFIG_FILE", str(tmp_path / "no-aws-config"))
    monkeypatch.setenv("AWS_SHARED_CREDENTIALS_FILE", str(tmp_path / "no-aws-credentials"))
    monkeypatch.setenv("NO_PROXY", "127.0.0.1,localhost")


@pytest.fixture
def moto_server(moto_server_session: MotoServer, aws_test_env: None,
                monkeypatch: pytest.MonkeyPatch) -> MotoServer:
    """The session's moto emulator, reset; every boto3 endpoint defaults to it
    (``AWS_ENDPOINT_URL``), so a component without ``endpoint_url`` still stays on loopback."""
    moto_server_session.reset()
    monkeypatch.setenv("AWS_ENDPOINT_URL", moto_server_session.url)
    return moto_server_session


@pytest.fixture
def trickle_server() -> Iterator[TricklingServer]:
    """An HTTP peer that promises a large body, then sends it one byte every 0.2 s."""
    with TricklingServer(head=TRICKLED_HTTP, interval=0.2) as server:
        yield server
