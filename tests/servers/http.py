"""Threaded loopback HTTP(S) server with per-path canned answers."""

from __future__ import annotations

import http.server
import json as jsonlib
import shutil
import ssl
import tempfile
import threading
import urllib.parse
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from .base import LOOPBACK, STOP_TIMEOUT, ServerError
from .tls import make_self_signed_cert

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

    def echo(self, path: str = "/echo", status: int = 200, text: bool = False) -> HTTPServer:
        """Answer ``path`` with the request's headers echoed back, as httpbin's ``/headers``
        does: JSON ``{"headers": {...}}``, or with ``text`` the Python repr of the dict (an
        endpoint that prints what it got). Secrets sent in headers come back in the body."""

        def answer(request: RecordedRequest) -> Route:
            headers = {"headers": request.headers}
            if text:
                return Route(status=status, body=repr(headers))
            return Route(status=status, json=headers)

        return self.route(path, handler=answer)

    def metrics(self, page: str | Callable[[], str], path: str = "/metrics") -> HTTPServer:
        """Answer ``path`` with a Prometheus text page: ``page``, or what ``page()`` returns
        at each request (a counter that grows with time, a value the test turns)."""

        def answer(request: RecordedRequest) -> Route:
            text = page() if callable(page) else page
            return Route(body=text.encode(),
                         headers={"Content-Type": "text/plain; version=0.0.4; charset=utf-8"})

        return self.route(path, handler=answer)

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
