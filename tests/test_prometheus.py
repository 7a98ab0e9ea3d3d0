"""Prometheus checks against a real Prometheus scraping a real exporter on loopback.

The exporter (prometheus_client) is driven past each probe's levels by the test; Prometheus
scrapes it every second, so each fault shows within a second or two.
"""

from __future__ import annotations

import json
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
import requests  # noqa: F401 - imported once here, so in-process runs reuse one module
from prometheus_client import CollectorRegistry, Gauge, start_http_server
from servers import PrometheusServer, free_port

from opscheck.components.prometheus import PrometheusComponent
from opscheck.targets.prometheus import PrometheusTarget, PromQLError

ROOT = Path(__file__).resolve().parents[1]
RULES = {"groups": [{"name": "opscheck", "rules": [
    {"alert": "QueueDepthHigh", "expr": "queue_ready_tasks > 50",
     "labels": {"severity": "warning"}}]}]}


@dataclass
class Exporter:
    port: int
    gpu: Gauge
    cost: Gauge
    requests: Gauge
    errors: Gauge
    queue: Gauge

    @property
    def target(self) -> str:
        return f"127.0.0.1:{self.port}"


@pytest.fixture(scope="module")
def exporter() -> Iterator[Exporter]:
    registry = CollectorRegistry()
    gauges = {name: Gauge(metric, metric, registry=registry) for name, metric in (
        ("gpu", "gpu_memory_used_bytes"), ("cost", "wave_cost_total_usd"),
        ("requests", "wave_requests_total"), ("errors", "wave_errors_total"),
        ("queue", "queue_ready_tasks"))}
    gauges["gpu"].set(10e9)
    gauges["cost"].set(12.5)
    gauges["requests"].set(1000)
    port = free_port()
    server, thread = start_http_server(port, addr="127.0.0.1", registry=registry)
    yield Exporter(port=port, **gauges)
    server.shutdown()
    server.server_close()
    thread.join(timeout=5)


class Sidecar:
    """A second exporter (HTTP/1.0, no keep-alive), stopped by the test that needs a target
    down: its port then refuses connections, as when the exporter's process is gone."""

    def __init__(self) -> None:
        self.port = free_port()
        self.registry = CollectorRegistry()
        Gauge("sidecar_up", "sidecar_up", registry=self.registry).set(1)
        self.server: Any = None
        self.start()

    def start(self) -> None:
        self.server, _ = start_http_server(self.port, addr="127.0.0.1", registry=self.registry)

    def stop(self) -> None:
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture(scope="module")
def sidecar() -> Iterator[Sidecar]:
    side = Sidecar()
    yield side
    side.stop()


@pytest.fixture(scope="module")
def prom(exporter, sidecar, tmp_path_factory) -> Iterator[PrometheusServer]:
    """One Prometheus for the module (its first scrape takes ~6 s: discovery is throttled)."""
    path = tmp_path_factory.mktemp("prometheus")
    rules = path / "rules.yml"
    rules.write_text(json.dumps(RULES))  # JSON is YAML
    server = PrometheusServer(path / "server", rule_files=[rules],
                              scrape_targets=[exporter.target, f"127.0.0.1:{sidecar.port}"])
    with server:
        server.wait_for_targets()
        wait_for(server, "count_over_time(gpu_memory_used_bytes[1m])", lambda v: v >= 3)
        yield server


def wait_for(prom: PrometheusServer, expr: str, ok: Callable[[float], bool],
             timeout: float = 10) -> None:
    """Poll until ``expr`` has a value that satisfies ``ok`` (Prometheus has scraped it)."""
    deadline = time.monotonic() + timeout
    while True:
        result = prom.query(expr)
        if result and ok(float(result[0]["value"][1])):
            return
        if time.monotonic() > deadline:
            raise AssertionError(f"{expr} did not reach the expected value in {timeout:g} s: "
                                 f"{result}")
        time.sleep(0.2)


def probe(name: str, expr: str | None, **fields: object) -> str:
    lines = ["[[components.queries]]", f'name = "{name}"']
    if expr is not None:
        lines.append(f"expr = {json.dumps(expr)}")
    lines += [f"{k} = {json.dumps(v)}" for k, v in fields.items()]
    return "\n".join(lines) + "\n"


def inventory(suite, url: str, *probes: str, timeout: float = 2) -> None:
    suite.inventory(f'[system]\ntimeout = {timeout}\n[[components]]\nname = "wave-prometheus"\n'
                    f'kind = "prometheus"\nurl = "{url}"\n' + "".join(probes))


ERROR_RATE = probe("error-rate", "100 * wave_errors_total / wave_requests_total", warning=1,
                   critical=5, unit="%", action="Check logs, escalate")
COST = probe("cost", "wave_cost_total_usd", warning=30, critical=50, unit="USD",
             tier="critical", action="Pause all agent work")
GPU = probe("gpu-memory", "gpu_memory_used_bytes / 1e9", type="sustained", window="3s",
            min_samples=2, critical=23, unit="GB", action="Find the process holding VRAM")
ALERTS = probe("alerts", None, type="alert")


def test_healthy_server_passes_health_targets_and_every_probe(suite, prom):
    inventory(suite, prom.url, ERROR_RATE, COST, GPU, ALERTS,
              probe("cost-exported", "wave_cost_total_usd", type="exists"))
    result = suite.run("-rA", checks=("prometheus",))
    result.assert_outcomes(passed=7)
    result.stdout.fnmatch_lines_random([
        "PASSED *::test_prometheus_healthy[[]wave-prometheus[]]",
        "PASSED *::test_prometheus_targets_up[[]wave-prometheus[]]",
        "PASSED *::test_promql_probe[[]wave-prometheus:gpu-memory[]]",
        "wave-prometheus (prometheus): 7 passed",
    ])


def test_probe_runs_at_its_own_tier(suite, prom):
    inventory(suite, prom.url, ERROR_RATE, COST)
    result = suite.run("-m", "critical", "-rA", checks=("prometheus",))
    result.assert_outcomes(passed=3)
    result.stdout.fnmatch_lines_random(["PASSED *::test_promql_probe[[]wave-prometheus:cost[]]"])
    assert "error-rate" not in result.stdout.str()


def test_instant_values_past_their_levels_fail_or_warn(suite, prom, exporter):
    exporter.errors.set(100)  # 10 % of 1000 requests
    exporter.cost.set(75)
    try:
        wait_for(prom, "wave_errors_total", lambda v: v == 100)
        wait_for(prom, "wave_cost_total_usd", lambda v: v == 75)
        inventory(suite, prom.url, ERROR_RATE, COST)
        result = suite.run("-k", "promql", checks=("prometheus",))
        result.assert_outcomes(failed=2)
        result.stdout.fnmatch_lines_random([
            "wave-prometheus error-rate 10% ≥ critical 5% (warning 1%). Action: Check logs, "
            "escalate",
            "wave-prometheus cost 75 USD ≥ critical 50 USD (warning 30 USD). Action: Pause all "
            "agent work",
        ])
        exporter.errors.set(20)
        wait_for(prom, "wave_errors_total", lambda v: v == 20)
        result = suite.run("-k", "error", checks=("prometheus",))
        result.assert_outcomes(passed=1, warnings=1)
        result.stdout.fnmatch_lines(["*ThresholdWarning: wave-prometheus error-rate 2% ≥ "
                                     "warning 1% (critical 5%)*"])
    finally:
        exporter.errors.set(0)
        exporter.cost.set(12.5)


def test_sustained_level_fails_only_when_every_sample_is_over(suite, prom, exporter):
    inventory(suite, prom.url, GPU)
    exporter.gpu.set(24e9)
    try:
        wait_for(prom, "min_over_time((gpu_memory_used_bytes / 1e9)[3s:])", lambda v: v >= 24)
        result = suite.run("-k", "promql", checks=("prometheus",))
        result.assert_outcomes(failed=1)
        result.stdout.fnmatch_lines(["wave-prometheus gpu-memory held over 3s (* samples) "
                                     "24 GB ≥ critical 23 GB. Action: Find the process holding "
                                     "VRAM"])
    finally:
        exporter.gpu.set(10e9)
    # one sample in the window dipped below: not sustained any more
    wait_for(prom, "min_over_time((gpu_memory_used_bytes / 1e9)[3s:])", lambda v: v < 23)
    result = suite.run("-k", "promql", checks=("prometheus",))
    result.assert_outcomes(passed=1)


def test_window_too_short_to_judge_fails(suite, prom):
    inventory(suite, prom.url, probe("gpu-10m", "gpu_memory_used_bytes", type="sustained",
                                     window="10m", min_samples=400, critical=23e9))
    result = suite.run("-k", "promql", checks=("prometheus",))
    result.assert_outcomes(failed=1)
    result.stdout.fnmatch_lines(["wave-prometheus gpu-10m: only * samples in the last 10m, "
                                 "need 400: too short to judge a sustained level*"])


def test_firing_alert_fails_naming_it(suite, prom, exporter):
    exporter.queue.set(80)
    try:
        wait_for(prom, 'count(ALERTS{alertstate="firing"})', lambda v: v >= 1)
        inventory(suite, prom.url, ALERTS)
        result = suite.run("-k", "promql", checks=("prometheus",))
        result.assert_outcomes(failed=1)
        result.stdout.fnmatch_lines(["wave-prometheus alerts firing alerts (QueueDepthHigh) "
                                     "1 ≥ critical 1"])
    finally:
        exporter.queue.set(0)


def test_metric_that_must_exist_fails_when_absent(suite, prom):
    inventory(suite, prom.url, probe("stories", "wave_stories_completed_total", type="exists"))
    result = suite.run("-k", "promql", checks=("prometheus",))
    result.assert_outcomes(failed=1)
    result.stdout.fnmatch_lines(["wave-prometheus stories: 'wave_stories_completed_total' "
                                 "returned no series, expected the metric to exist*"])


def test_scrape_target_down_fails_listing_it(suite, prom, sidecar):
    inventory(suite, prom.url)
    sidecar.stop()  # the exporter's process is gone: connection refused
    try:
        prom.wait_for_targets(health=None)
        deadline = time.monotonic() + 30  # a wait, not a measure: generous on a busy machine
        while not any(t["health"] == "down" for t in prom.targets()):
            assert time.monotonic() < deadline, "the stopped target never showed down"
            time.sleep(0.2)
        result = suite.run("-m", "critical", checks=("prometheus",))
        result.assert_outcomes(passed=1, failed=1)
        # with Prometheus's own words for it: "connection refused", or "EOF" when the
        # exporter died during a scrape
        result.stdout.fnmatch_lines([f"wave-prometheus: 1 of 2 scrape targets down: opscheck "
                                     f"http://127.0.0.1:{sidecar.port}/metrics (Get *: *)"])
    finally:
        sidecar.start()
        prom.wait_for_targets()


def test_server_down_is_unreachable_once(suite):
    url = f"http://127.0.0.1:{free_port()}"
    inventory(suite, url, COST)
    result = suite.run(checks=("prometheus",))
    result.assert_outcomes(failed=1, errors=2)
    result.stdout.fnmatch_lines_random([
        f"wave-prometheus unreachable at {url}: ConnectionError: connection refused",
        "wave-prometheus (prometheus): 1 failed, 2 could not run"])


def test_scalar_gives_one_number_for_generic_probes(prom):
    target = PrometheusTarget(PrometheusComponent(name="p", url=prom.url, timeout=2))
    try:
        assert target.scalar("wave_cost_total_usd") == 12.5
        assert target.scalar("scalar(wave_requests_total) / 10") == 100
        with pytest.raises(PromQLError, match=r"returned \d+ series, expected exactly one"):
            target.scalar('{job="opscheck"}')
        with pytest.raises(PromQLError, match="parse error"):
            target.scalar("sum(")
    finally:
        target.close()


@pytest.mark.parametrize(("query", "message"), [
    (probe("x", "up", type="sustained", critical=1),
     "probe 'x' (sustained) needs window*and min_samples*"),
    (probe("x", "up"), "probe 'x' (instant) needs warning or critical*"),
    (probe("x", "up", type="sustained", window="10 minutes", min_samples=3, critical=1),
     "'10 minutes' is not a Prometheus duration*"),
    (probe("x", "up", window="5m", critical=1),
     "probe 'x' (instant): window, step and min_samples apply to type = \"sustained\" only*"),
    (probe("x", None, type="exists"), "probe 'x' (exists) needs expr*"),
    (probe("x", "up", critical=1, tier="urgent"), "input should be 'critical', 'standard' or "
     "'deep'*"),
    (probe("x", "up", critical=1) + probe("x", "up", critical=2),
     "two probes are named 'x'; give each a unique name"),
])
def test_bad_probe_is_a_usage_error(suite, query, message):
    inventory(suite, "http://127.0.0.1:9", query)
    result = suite.run("--collect-only", checks=("prometheus",))
    assert result.ret == pytest.ExitCode.USAGE_ERROR
    result.stderr.fnmatch_lines([f"ERROR: *inventory.toml: components[[]0[]] "
                                 f"(wave-prometheus)*: {message}"])


def test_server_that_never_answers_fails_within_timeout_plus_one_second(suite, silent_server):
    inventory(suite, silent_server.url, COST, timeout=1)
    result = suite.run("-m", "critical", checks=("prometheus",))
    result.assert_outcomes(failed=1, errors=2)
    result.stdout.fnmatch_lines_random([f"wave-prometheus unreachable at {silent_server.url}: "
                                        "TimeoutError: no complete answer within the timeout "
                                        "of 1 s"])
    assert silent_server.connection_count == 1, "the silent server was waited on twice"


def test_prometheus_model_is_pytest_free_and_its_tier_still_marks_the_check():
    code = ("import sys; from opscheck.components.prometheus import PromQuery; "
            "q = PromQuery(name='x', expr='up', critical=1, tier='critical'); "
            "assert q.mark_names() == ['critical'], q.mark_names(); "
            "assert 'pytest' not in sys.modules, 'the model imported pytest'")
    done = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True,
                          text=True, timeout=30, check=False)
    assert done.returncode == 0, done.stderr


@pytest.fixture
def html_server(http_server):
    """A web server that is not Prometheus: every API path answers an HTML page."""
    page = "<!DOCTYPE html><html><body>Welcome to nginx!</body></html>"
    server = http_server()
    for path in ("/-/healthy", "/api/v1/targets", "/api/v1/query"):
        server.route(path, body=page, headers={"Content-Type": "text/html"})
    return server


def test_url_answering_html_fails_in_one_line_naming_the_component(suite, html_server):
    inventory(suite, html_server.url, COST)
    result = suite.run("-k", "targets or promql", checks=("prometheus",))
    result.assert_outcomes(failed=2)
    result.stdout.fnmatch_lines_random([
        "wave-prometheus /api/v1/targets answered 200: body is not JSON (starts '<!DOCTYPE "
        "html>*'); expected Prometheus' JSON API (is url a Prometheus server?)",
        "wave-prometheus /api/v1/query answered 200: body is not JSON*"])
    out = result.stdout.str()
    assert not any(word in out for word in ("Traceback", "PromQLError", "fixtures/prometheus"))


def test_bad_promql_fails_in_one_line_naming_the_component(suite, prom):
    inventory(suite, prom.url, probe("broken", "sum(", critical=1))
    result = suite.run("-k", "promql", checks=("prometheus",))
    result.assert_outcomes(failed=1)
    result.stdout.fnmatch_lines(["wave-prometheus /api/v1/query answered 400: *parse error*"])
    out = result.stdout.str()
    assert not any(word in out for word in ("Traceback", "PromQLError", "fixtures/prometheus"))


def test_url_with_a_bad_port_is_a_usage_error(suite):
    inventory(suite, "http://127.0.0.1:99999")
    result = suite.run("--collect-only", checks=("prometheus",))
    assert result.ret == pytest.ExitCode.USAGE_ERROR
    result.stderr.fnmatch_lines(["ERROR: *inventory.toml: components[[]0[]] (wave-prometheus)*: "
                                 "url 'http://127.0.0.1:99999' has a port that is not a number "
                                 "from 1 to 65535*"])
