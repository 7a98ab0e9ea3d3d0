"""Prometheus on loopback."""

from __future__ import annotations

import json as jsonlib
import time
import urllib.parse
import urllib.request
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from .base import _OPENER, ServerError, _ServerProcess, http_get, require_binary


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
