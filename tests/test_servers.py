"""Smoke tests for tests/servers.py: each server starts, answers and stops."""

from __future__ import annotations

import json
import shutil
import socket
import ssl
import time
import urllib.error
import urllib.request
from collections.abc import Callable
from pathlib import Path

import pytest
from servers import (
    HTTPServer,
    MissingBinaryError,
    NatsServer,
    PodmanService,
    PostgresServer,
    PrometheusServer,
    RecordedRequest,
    RedisServer,
    Route,
    ServerError,
    SilentServer,
    free_port,
    make_owned_tempdir,
    require_binary,
)

# Harmless when tests/conftest.py already loads the plugin.

_NO_PROXY = urllib.request.build_opener(urllib.request.ProxyHandler({}))


def _get(
    url: str, timeout: float = 5.0, context: ssl.SSLContext | None = None
) -> tuple[int, bytes]:
    opener = _NO_PROXY
    if context is not None:
        opener = urllib.request.build_opener(
            urllib.request.ProxyHandler({}), urllib.request.HTTPSHandler(context=context)
        )
    try:
        with opener.open(url, timeout=timeout) as resp:
            return resp.status, resp.read()
    except urllib.error.HTTPError as exc:
        return exc.code, exc.read()


def _port_closed(port: int) -> bool:
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=1.0):
            return False
    except OSError:
        return True


def test_free_port_is_bindable() -> None:
    port = free_port()
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", port))


def test_missing_binary_names_the_package() -> None:
    with pytest.raises(MissingBinaryError, match="apt-get install -y some-package"):
        require_binary("opscheck-no-such-binary", "some-package")


def test_redis_server(redis_server: RedisServer) -> None:
    assert redis_server.url == f"redis://127.0.0.1:{redis_server.port}/0"
    client = redis_server.client()
    assert client.ping()
    client.set("k", "v")
    redis_server.config_set("maxmemory", "10mb")
    assert client.config_get("maxmemory")["maxmemory"] == str(10 * 1024 * 1024)
    port = redis_server.port
    redis_server.stop()
    assert _port_closed(port)
    redis_server.start()
    assert redis_server.port == port
    assert redis_server.client().ping()


def test_redis_password_and_raw_ping(tmp_path: Path) -> None:
    with RedisServer(tmp_path, password='s3cret "pw') as server:
        assert server._raw_ping()
        assert server.client().ping()
        assert ":s3cret%20%22pw@" in server.url


def test_startup_failure_reports_log_tail(tmp_path: Path) -> None:
    server = RedisServer(tmp_path, extra_config={"no-such-directive": "1"})
    with pytest.raises(ServerError, match=r"(?s)exited with code.*no-such-directive"):
        server.start()
    assert not server.running


def test_postgres_server(postgres_server: PostgresServer) -> None:
    assert postgres_server.psql("SELECT 1 + 1") == "2"
    assert postgres_server.psql("SHOW max_connections") == "30"
    dsn = postgres_server.createdb("opscheck_smoke")
    assert dsn == postgres_server.dsn_for("opscheck_smoke")
    assert postgres_server.query("SELECT current_database()", db="opscheck_smoke") == [
        ("opscheck_smoke",)
    ]
    postgres_server.stop()
    assert _port_closed(postgres_server.port)
    postgres_server.start()
    assert postgres_server.psql("SELECT 1", db="opscheck_smoke") == "1"


def test_postgres_password_without_template() -> None:
    tmp = make_owned_tempdir("opscheck-pg-test-")
    try:
        with PostgresServer(tmp, password="pw'1", template=False, max_connections=5) as server:
            assert server.initdb_seconds is not None
            assert server.dsn == f"postgresql://postgres:pw%271@127.0.0.1:{server.port}/postgres"
            assert server.psql("SHOW max_connections") == "5"
            assert server.query("SELECT current_user") == [("postgres",)]
    finally:
        shutil.rmtree(tmp)


def test_postgres_session_fixture(postgres_server_session: PostgresServer) -> None:
    assert postgres_server_session.query("SELECT 1") == [(1,)]


def test_prometheus_server(prometheus_server: Callable[..., PrometheusServer]) -> None:
    prom = prometheus_server(scrape_self=True)
    targets = prom.wait_for_targets(timeout=20)
    assert targets[0]["health"] == "up"
    result = prom.query('up{job="prometheus"}')
    assert result and result[0]["value"][1] == "1"
    assert _get(f"{prom.url}/-/healthy")[0] == 200


def test_prometheus_scrapes_http_server(
    prometheus_server: Callable[..., PrometheusServer],
    http_server: Callable[..., HTTPServer],
) -> None:
    exporter = http_server().route("/metrics", body="opscheck_smoke_value 42\n")
    prom = prometheus_server(scrape_targets=[f"127.0.0.1:{exporter.port}"])
    prom.wait_for_targets(timeout=20)
    assert prom.query("opscheck_smoke_value")[0]["value"][1] == "42"


def test_nats_server(nats_server: NatsServer) -> None:
    with socket.create_connection(("127.0.0.1", nats_server.port), timeout=5) as sock:
        assert sock.recv(4096).startswith(b"INFO ")
        sock.sendall(b"CONNECT {}\r\nPING\r\n")
        assert b"PONG" in sock.recv(4096)
    assert nats_server.url == f"nats://127.0.0.1:{nats_server.port}"
    assert nats_server.varz()["host"] == "127.0.0.1"


def test_nats_jetstream(nats_server_factory: Callable[..., NatsServer]) -> None:
    server = nats_server_factory(jetstream=True)
    assert server.monitor_url is not None
    status, body = _get(f"{server.monitor_url}/jsz")
    assert status == 200 and "config" in json.loads(body)
    assert server.store_dir.is_dir()


def test_http_server_routes(http_server: Callable[..., HTTPServer]) -> None:
    srv = http_server()
    srv.route("/health", json={"status": "ok"})
    srv.route("/broken", status=503, body="down")
    srv.route("/slow", json={}, delay=1.0)
    srv.route("/dyn", handler=lambda req: Route(json={"q": req.query.get("x")}))
    status, body = _get(f"{srv.url}/health")
    assert (status, json.loads(body)) == (200, {"status": "ok"})
    assert _get(f"{srv.url}/broken") == (503, b"down")
    assert _get(f"{srv.url}/missing")[0] == 404
    assert json.loads(_get(f"{srv.url}/dyn?x=1")[1]) == {"q": ["1"]}
    t0 = time.monotonic()
    with pytest.raises((TimeoutError, urllib.error.URLError)):
        _get(f"{srv.url}/slow", timeout=0.3)
    assert time.monotonic() - t0 < 0.9
    assert [r.path for r in srv.requests][:2] == ["/health", "/broken"]
    assert isinstance(srv.requests[0], RecordedRequest)


def test_https_server(http_server: Callable[..., HTTPServer]) -> None:
    srv = http_server(tls=True, cert_days=10).route("/", json={"tls": True})
    assert srv.url.startswith("https://")
    status, body = _get(srv.url + "/", context=srv.client_ssl_context())
    assert (status, json.loads(body)) == (200, {"tls": True})
    with pytest.raises(urllib.error.URLError, match="CERTIFICATE_VERIFY_FAILED"):
        _get(srv.url + "/", context=ssl.create_default_context())


def test_https_expired_cert(http_server: Callable[..., HTTPServer]) -> None:
    srv = http_server(tls=True, cert_days=-1).route("/", json={})
    with pytest.raises(urllib.error.URLError, match="certificate has expired"):
        _get(srv.url + "/", context=srv.client_ssl_context())


def test_silent_server(silent_server: SilentServer) -> None:
    with socket.create_connection(silent_server.address, timeout=2) as sock:
        sock.settimeout(0.3)
        sock.sendall(b"GET / HTTP/1.0\r\n\r\n")
        with pytest.raises(TimeoutError):
            sock.recv(1)
    assert silent_server.connection_count >= 1
    with pytest.raises(TimeoutError):
        _get(silent_server.url, timeout=0.3)


def test_podman_service(podman_service: PodmanService) -> None:
    status, body = podman_service.api("GET", "/_ping")
    assert (status, body) == (200, "OK")
    assert podman_service.base_url == f"unix://{podman_service.socket_path}"
    status, info = podman_service.api("GET", "/v4.0.0/libpod/info")
    assert status == 200 and info["store"]["graphRoot"].startswith(str(podman_service.dir))
    image = podman_service.import_tiny_image(files={"/etc/opscheck.txt": "hello\n"})
    status, images = podman_service.api("GET", "/v4.0.0/libpod/images/json")
    assert any(image in (i.get("Names") or []) for i in images)
    if not podman_service.can_run_containers:
        pytest.fail(
            f"podman cannot run containers with runtime {podman_service.runtime!r} here "
            "(crun rejects this host's hybrid cgroups): install the Debian package 'runc'",
            pytrace=False,
        )
    out = podman_service.podman("run", "--rm", image, "/bin/cat", "/etc/opscheck.txt")
    assert out.stdout == "hello\n"
    status, created = podman_service.api(
        "POST", "/v4.0.0/libpod/containers/create", {"image": image, "name": "smoke"}
    )
    assert status == 201, created
    status, _ = podman_service.api("POST", "/v4.0.0/libpod/containers/smoke/start")
    assert status == 204
    status, listed = podman_service.api("GET", "/v4.0.0/libpod/containers/json")
    assert [c["Names"] for c in listed] == [["smoke"]]
    assert listed[0]["State"] == "running"


def test_podman_stop_leaves_nothing_behind(tmp_path: Path) -> None:
    with PodmanService(tmp_path / "podman") as svc:
        assert svc.api("GET", "/_ping") == (200, "OK")
        if svc.can_run_containers:
            svc.podman("run", "-d", "--name", "bg", svc.import_tiny_image())
    assert not svc.running
    assert svc._stray_pids() == []
    assert str(svc.dir) not in Path("/proc/self/mountinfo").read_text()
    shutil.rmtree(svc.dir)


def test_postgres_rejects_untraversable_dir(tmp_path: Path) -> None:
    # pytest's basetemp is 0700 root: postgres cannot reach it, and we say so.
    with pytest.raises(ServerError, match="cannot write"):
        PostgresServer(tmp_path / "pg")
