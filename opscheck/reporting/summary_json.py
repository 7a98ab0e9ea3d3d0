"""The JSON summary: the run as one document for scripts and dashboards.

``--report-json PATH`` (or ``--report-dir``) writes, on the controller after the run::

    {"schema_version": 1, "opscheck_version": "0.2.0", "system": "wave",
     "inventory": "/etc/opscheck/wave.toml",
     "started": "2026-11-22T11:00:00+00:00", "finished": "...", "duration": 4.2,
     "status": "CRITICAL", "code": 2,
     "totals": {"all": {"passed": 40, "failed": 1},
                "tier": {"critical": {...}}, "kind": {...}, "component": {...}},
     "checks": [{"id", "check", "params", "tier", "kind", "component", "state", "code",
                 "message", "measurements": [{"metric", "value", "unit", "warning",
                 "critical", "direction", "state"}], "action", "duration",
                 "waiver", "remediation",
                 "history": {"states": [...], "since": "...", "values": {metric: [...]}}}],
     "changes": {"previous": {"file", "started", "status"} | null,
                 "new_failures": [{"id", "state", "was"}], "recoveries": [...],
                 "still_failing": [{"id", "state", "since"}],
                 "flapping": [{"id", "state", "changes", "runs"}]}}

``status``/``code`` is the Nagios verdict of the run (0 OK, 1 WARNING, 2 CRITICAL,
3 UNKNOWN). ``schema_version`` changes when a field changes meaning or goes away; new
fields may appear without a change: ``checks[].history`` and ``changes`` (what changed
since the previous run's summary, :mod:`opscheck.reporting.history`) came so, in version 1.
Secrets are redacted as in every report; names (ids, components, kinds, metrics) never are.
The document is strict JSON: a measured value that is not a finite number is ``null``.
"""

from __future__ import annotations

import json
import os
import time
from pathlib import Path
from typing import Any

import pytest

from opscheck import secrets, text, version
from opscheck.plugin import inventory_of
from opscheck.reporting import history, iso, path_of, started
from opscheck.reporting.records import STATUS, records, totals, verdict
from opscheck.settings import on_controller

SCHEMA_VERSION = 1


def summary(config: pytest.Config) -> dict[str, Any]:
    """The summary document of the run so far."""
    inventory = inventory_of(config)
    recs = records(config)
    code = verdict(recs)
    begin, end = started(config), time.time()
    changes = history.annotate(config, recs)
    return {
        "schema_version": SCHEMA_VERSION,
        "opscheck_version": version(),
        "system": inventory.system.name,
        "inventory": str(inventory.path),
        "started": iso(begin),
        "finished": iso(end),
        "duration": round(end - begin, 3),
        "status": STATUS[code],
        "code": code,
        "totals": totals(recs),
        "checks": recs,
        "changes": changes,
    }


def write(path: Path, document: dict[str, Any]) -> None:
    """Write ``document`` to ``path`` atomically (readers never see half a file), redacted
    (names kept) and strict JSON whatever the checks saw: every string printable, a value
    that is not a finite number as ``null``. No temporary file outlives a failed write."""
    path.parent.mkdir(parents=True, exist_ok=True)
    safe = text.clean(secrets.redact_any(document))
    body = json.dumps(safe, indent=2, ensure_ascii=False, allow_nan=False, default=str)
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    try:
        tmp.write_text(body + "\n", encoding="utf-8")
        tmp.replace(path)
    finally:
        tmp.unlink(missing_ok=True)


@pytest.hookimpl(trylast=True)
def pytest_sessionfinish(session: pytest.Session) -> None:
    config = session.config
    path = path_of(config, "json")
    if path is not None and on_controller(config):
        write(path, summary(config))


def pytest_terminal_summary(terminalreporter: Any, config: pytest.Config) -> None:
    path = path_of(config, "json")
    if path is not None and on_controller(config):
        terminalreporter.write_sep("-", f"opscheck JSON summary: {path}")
