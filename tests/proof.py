"""The proof matrix's recorder: a plugin of every run a self-test starts (``-p tests.proof``).

It appends one JSON line to ``$OPSCHECK_PROOF_LOG`` for each check of the suite's
``checks/`` that failed on its own condition (or found its component unreachable), or passed
with a warning level crossed, naming the self-test (``$OPSCHECK_PROOF_SELFTEST``) that ran it.
:mod:`conftest` gathers the lines into ``build/proof-matrix.json`` at the end of the session.
Appends of one short line each are atomic, so xdist workers inside and outside share the log.
"""

from __future__ import annotations

import json
import os
from typing import Any

SEEN = ("condition", "unreachable")  # opscheck.verdict causes that are the check's own finding


def how(report: Any) -> str | None:
    """``failed`` or ``warned`` when the report shows the check catching its fault."""
    if report.when != "call":
        return None
    if report.failed and getattr(report, "opscheck_cause", None) in SEEN:
        return "failed"
    if report.passed and any(key == "opscheck.measure" and value.get("state") == "warning"
                             for key, value in report.user_properties):
        return "warned"
    return None


def pytest_runtest_logreport(report: Any) -> None:
    log, selftest = os.environ.get("OPSCHECK_PROOF_LOG"), os.environ.get("OPSCHECK_PROOF_SELFTEST")
    seen = how(report) if log and selftest else None
    if seen is None:
        return
    path, _, domain = report.location
    line = json.dumps({"file": os.path.basename(path), "check": domain.split("[")[0],
                       "selftest": selftest, "how": seen})
    with open(log, "a", encoding="utf-8") as out:  # type: ignore[arg-type]
        out.write(line + "\n")
