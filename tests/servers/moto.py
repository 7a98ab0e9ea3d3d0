"""moto's AWS emulator in server mode on loopback: a real HTTP server implementing AWS's APIs.

The tests point an ``aws`` component's ``endpoint_url`` at it and drive its state through
boto3 (``server.client("cloudwatch").set_alarm_state(...)``) and moto's own API:
``reset()`` forgets everything, ``checking_credentials()`` makes it refuse unknown keys,
``costs(...)`` queues Cost Explorer answers (moto tracks no
cost), and ``aged(seconds)`` sets its clock back while a block runs, so that what it stamps
(S3 LastModified, ECS deployment createdAt) is that old.
"""

from __future__ import annotations

import contextlib
import json
import os
import sys
import urllib.request
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from .base import _OPENER, ServerError, _ServerProcess, http_get

LAUNCHER = Path(__file__).with_name("moto_launch.py")
REGION = "us-east-1"
#: fake credentials of the tests (moto accepts any); the secret is distinctive so that a
#: test can prove it never reaches any output
FAKE_KEY_ID = "AKIAOPSCHECKTESTING"
FAKE_SECRET = "opscheck-fake-secret-for-moto"


class MotoServer(_ServerProcess):
    """``moto_server`` on 127.0.0.1, state in memory, its clock offset in ``dir/clock``."""

    name = "moto"
    startup_timeout = 30.0

    def __init__(self, dir: str | Path, port: int | None = None) -> None:
        try:
            import moto  # noqa: F401
        except ModuleNotFoundError:
            raise ServerError("moto is not installed: pip install 'moto[server]' (the test "
                              "extra: pip install -e '.[test]')") from None
        super().__init__(dir, port)
        self.clock = self.dir / "clock"
        self.clock.write_text("0")

    @property
    def url(self) -> str:
        return f"http://{self.host}:{self.port}"

    def _command(self) -> list[str]:
        return [sys.executable, "-I", str(LAUNCHER), self.host, str(self.port), str(self.clock)]

    def _popen_kwargs(self) -> dict[str, Any]:
        env = {k: v for k, v in os.environ.items() if not k.startswith("AWS_")
               and k.lower() not in ("http_proxy", "https_proxy", "all_proxy")}
        return {"env": env}

    def _ready(self) -> bool:
        return http_get(f"{self.url}/moto-api/data.json", timeout=2)[0] == 200

    def _post(self, path: str, body: Any = None) -> int:
        data = json.dumps(body).encode() if body is not None else b""
        request = urllib.request.Request(f"{self.url}{path}", data=data, method="POST",
                                         headers={"Content-Type": "application/json"})
        with _OPENER.open(request, timeout=10) as answer:
            return int(answer.status)

    def reset(self) -> None:
        """Forget every resource, alarm, metric and queued answer; clock back to now."""
        self.clock.write_text("0")
        self._post("/moto-api/reset")

    def costs(self, *results: dict[str, Any]) -> None:
        """Queue Cost Explorer answers: each request with new parameters takes the next."""
        self._post("/moto-api/static/ce/cost-and-usage-results", {"results": list(results)})

    @contextlib.contextmanager
    def aged(self, seconds: float) -> Iterator[None]:
        """While inside, moto's clock runs ``seconds`` behind: what it stamps is that old."""
        self.clock.write_text(str(-float(seconds)))
        try:
            yield
        finally:
            self.clock.write_text("0")

    @contextlib.contextmanager
    def checking_credentials(self) -> Iterator[None]:
        """While inside, moto checks every request's access key against its IAM users (the
        tests' fake key is none of them, so AWS's refusal is what every call gets)."""
        self._post("/moto-api/reset-auth", 0)
        try:
            yield
        finally:
            self._post("/moto-api/reset-auth", float("inf"))

    def client(self, service: str) -> Any:
        """A boto3 client of this emulator (explicit fake credentials, loopback only)."""
        import boto3

        return boto3.client(service, endpoint_url=self.url, region_name=REGION,
                            aws_access_key_id=FAKE_KEY_ID, aws_secret_access_key=FAKE_SECRET)
