"""Prometheus reads what opscheck writes: node_exporter's textfile collector and a Pushgateway.

Real servers from Debian's packages on loopback: prometheus-node-exporter reads the
``--metrics-out`` file, prometheus-pushgateway receives ``--pushgateway``, and a real
Prometheus scrapes both.
"""

from __future__ import annotations

import time
from typing import Any

import pytest
from prometheus_client.parser import text_string_to_metric_families
from report_kit import NodeExporter, Pushgateway
from servers import http_get

CHECKS = '''
import pytest

from opscheck.thresholds import Threshold

LAG = Threshold(warning=5, critical=30, unit="s", action="Restart the replica")


@pytest.mark.standard
@pytest.mark.files
@pytest.mark.parametrize("lag", [1, 12, 45], ids=["ok", "warning", "critical"])
def test_replica_lag(measure, lag):
    measure("replica lag", lag, LAG, component="db-replica")
'''


@pytest.fixture
def exporters(tmp_path):
    textfiles = tmp_path / "textfiles"
    textfiles.mkdir()
    with NodeExporter(tmp_path / "ne", textfiles) as ne, Pushgateway(tmp_path / "pgw") as pgw:
        yield textfiles, ne, pgw


def states(rows: list[dict[str, Any]]) -> dict[tuple[str, str], float]:
    """(where it came from, check id) -> value."""
    return {(r["metric"]["instance"], r["metric"]["check"].rpartition("[")[2].rstrip("]")):
            float(r["value"][1]) for r in rows}


def test_prometheus_reads_the_textfile_and_the_pushgateway(suite, exporters,
                                                           prometheus_server):
    textfiles, ne, pgw = exporters
    suite.inventory('[system]\nname = "prom-demo"\n')
    suite.pytester.makepyfile(test_lag=CHECKS)
    result = suite.run_files("--metrics-out", str(textfiles / "opscheck.prom"),
                             "--pushgateway", pgw.url)
    assert result.ret == 1
    text = (textfiles / "opscheck.prom").read_text()
    families = {f.name: f for f in text_string_to_metric_families(text)}
    assert {"opscheck_check_state", "opscheck_check_value", "opscheck_check_warning_level",
            "opscheck_check_critical_level", "opscheck_checks",
            "opscheck_last_run_timestamp_seconds"} <= set(families)
    exported = http_get(f"http://{ne.host}:{ne.port}/metrics")[1].decode()
    assert "opscheck_check_state{" in exported and "node_textfile_scrape_error 0" in exported

    prom = prometheus_server(scrape_targets=[f"{ne.host}:{ne.port}", f"{pgw.host}:{pgw.port}"])
    prom.wait_for_targets(timeout=20)
    deadline, seen = time.monotonic() + 20, {}
    while time.monotonic() < deadline and len(seen) < 6:
        seen = states(prom.query('opscheck_check_state{system="prom-demo"}'))
        time.sleep(0.2)
    for source in (f"{ne.host}:{ne.port}", f"{pgw.host}:{pgw.port}"):
        assert {k: v for (where, k), v in seen.items() if where == source} == {
            "ok": 0, "warning": 1, "critical": 2}, seen
    (value,) = prom.query('opscheck_check_value{metric="replica lag",check=~".*warning.*",'
                          f'instance="{ne.host}:{ne.port}"}}')
    assert value["metric"]["unit"] == "s" and value["metric"]["kind"] == "files"
    assert float(value["value"][1]) == 12
    (level,) = prom.query('opscheck_check_critical_level{check=~".*warning.*",'
                          f'instance="{pgw.host}:{pgw.port}"}}')
    assert float(level["value"][1]) == 30
