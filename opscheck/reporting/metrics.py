"""Prometheus metrics: node_exporter's textfile format, and the Pushgateway.

``--metrics-out FILE`` writes the run's gauges with prometheus_client (atomically, so
node_exporter's textfile collector never reads half a file: point
``--collector.textfile.directory`` at FILE's folder and end FILE in ``.prom``);
``--pushgateway URL`` pushes the same gauges (job ``opscheck``, grouped by system).
Every series is labelled by ``system``, ``check`` (the node id), ``component``, ``kind``
and ``tier``:

- ``opscheck_check_state``: 0 ok (passed, remediated, waived), 1 warning, 2 critical
  (failed), 3 could not run; skipped checks have no series;
- ``opscheck_check_value`` (+ ``metric`` and ``unit`` labels): the measured value;
- ``opscheck_check_warning_level`` / ``opscheck_check_critical_level``: its levels;
- ``opscheck_checks`` (``system``, ``state``): how many checks ended in each state;
- ``opscheck_last_run_timestamp_seconds``, ``opscheck_run_duration_seconds``: alert on
  a stale timestamp to notice a run (or a push) that stopped happening.
"""

from __future__ import annotations

import time
from typing import Any

import pytest

from opscheck.connect import one_line
from opscheck.outcomes import STATES
from opscheck.plugin import inventory_of
from opscheck.reporting import path_of, started
from opscheck.reporting.records import records
from opscheck.settings import get, on_controller
from opscheck.text import printable

LABELS = ("system", "check", "component", "kind", "tier")
ERRORS = pytest.StashKey[list[str]]()


def registry_for(config: pytest.Config) -> Any:
    """A prometheus_client registry holding the run's gauges."""
    from prometheus_client import CollectorRegistry, Gauge  # lazily: only when asked for

    registry = CollectorRegistry()

    def gauge(name: str, text: str, labels: tuple[str, ...] = LABELS) -> Any:
        return Gauge(name, text, labels, registry=registry)

    state = gauge("opscheck_check_state",
                  "check state: 0 ok, 1 warning, 2 critical, 3 could not run")
    measured = (*LABELS, "metric", "unit")
    value = gauge("opscheck_check_value", "the value the check measured", measured)
    levels = {
        "warning": gauge("opscheck_check_warning_level", "the value's warning level", measured),
        "critical": gauge("opscheck_check_critical_level", "the value's critical level",
                          measured),
    }
    counts = gauge("opscheck_checks", "checks of the run by state", ("system", "state"))
    system = inventory_of(config).system.name
    recs = records(config)
    for rec in recs:
        if rec["code"] is None:
            continue
        labels = tuple(printable(v or "") for v in (system, rec["id"], rec["component"],
                                                     rec["kind"], rec["tier"]))
        state.labels(*labels).set(rec["code"])
        for m in rec["measurements"]:
            series = (*labels, printable(m["metric"]), printable(m["unit"] or ""))
            value.labels(*series).set(m["value"])
            for name, level in levels.items():
                if m.get(name) is not None:
                    level.labels(*series).set(m[name])
    for name in STATES:
        counts.labels(system, name).set(sum(r["state"] == name for r in recs))
    gauge("opscheck_last_run_timestamp_seconds", "when the run ended", ("system",)).labels(
        system).set(time.time())
    gauge("opscheck_run_duration_seconds", "how long the run took", ("system",)).labels(
        system).set(time.time() - started(config))
    return registry


@pytest.hookimpl(trylast=True)
def pytest_sessionfinish(session: pytest.Session) -> None:
    config = session.config
    out, gateway = path_of(config, "metrics_out"), get(config, "pushgateway")
    if not (out or gateway) or not on_controller(config):
        return
    from prometheus_client import push_to_gateway, write_to_textfile

    registry = registry_for(config)
    errors = config.stash.setdefault(ERRORS, [])
    if out is not None:
        out.parent.mkdir(parents=True, exist_ok=True)
        write_to_textfile(str(out), registry)
    if gateway:
        inventory = inventory_of(config)
        try:
            push_to_gateway(gateway, job="opscheck", registry=registry,
                            grouping_key={"system": inventory.system.name},
                            timeout=inventory.system.timeout)
        except Exception as exc:  # a failed push is reported, not raised
            errors.append(f"push to {gateway} failed: {one_line(exc)}")


def pytest_terminal_summary(terminalreporter: Any, config: pytest.Config) -> None:
    for line in config.stash.get(ERRORS, []):
        terminalreporter.line(f"opscheck metrics: {line}", red=True)
    out = path_of(config, "metrics_out")
    if out is not None and on_controller(config):
        terminalreporter.write_sep("-", f"opscheck metrics: {out}")
