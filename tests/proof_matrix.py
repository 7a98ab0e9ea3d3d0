"""The proof matrix: every check in checks/ seen failing (or warning) in a self-test that
injects its fault, measured, not claimed.

Each run a self-test starts records, through :mod:`proof`, the checks that caught their
fault. At the end of the session (on the xdist controller, after every worker has finished)
this plugin writes ``build/proof-matrix.json``: for each check
(``checks/redis/test_capacity.py::test_redis_memory_used``), the self-tests in which it failed
or warned for real. A run of the whole self-test suite (``pytest tests``, no ``-k``/``-m``,
or any run with ``OPSCHECK_PROOF_STRICT=1``) fails when a check was never seen failing,
except the ones listed in :func:`excused` with the reason (hardware, swap or an init system
this machine lacks: each excuse is decided on the machine that runs the session).
"""

from __future__ import annotations

import ast
import json
import os
import shutil
import subprocess
from collections import defaultdict
from pathlib import Path
from typing import Any

import pytest

REPO = Path(__file__).resolve().parents[1]
CHECKS = REPO / "checks"
LOG = REPO / "build" / "proof-records.jsonl"
MATRIX = REPO / "build" / "proof-matrix.json"
MISSING = pytest.StashKey[list[str]]()
OWNER = pytest.StashKey[bool]()


def all_checks() -> dict[tuple[str, str], str]:
    """(file name, function) -> check id, for every check function in checks/."""
    found: dict[tuple[str, str], str] = {}
    for path in sorted(CHECKS.rglob("test_*.py")):
        for node in ast.parse(path.read_text()).body:
            if isinstance(node, ast.FunctionDef) and node.name.startswith("test_"):
                key = (path.name, node.name)
                assert key not in found, f"two checks {key}: the matrix needs them unique"
                found[key] = f"{path.relative_to(REPO)}::{node.name}"
    return found


def _nvml() -> bool:
    try:
        import pynvml

        pynvml.nvmlInit()
        pynvml.nvmlShutdown()
        return True
    except Exception:
        return False


def _systemd() -> bool:
    if shutil.which("systemctl") is None:
        return False
    out = subprocess.run(["systemctl", "is-system-running"], capture_output=True, text=True,
                         timeout=10).stdout
    return bool(out.strip()) and "offline" not in out


def _swap() -> bool:
    meminfo = Path("/proc/meminfo")
    text = meminfo.read_text() if meminfo.exists() else ""
    return any(line.split()[1] != "0" for line in text.splitlines()
               if line.startswith("SwapTotal:"))


def excused() -> dict[str, str]:
    """Checks that cannot be seen failing on this machine, with the reason."""
    reasons: dict[str, str] = {}
    if not _nvml():
        gpu = "needs a GPU and its NVML driver (none here; the device machine has one)"
        reasons.update({cid: gpu for (file, _), cid in all_checks().items()
                        if cid.startswith("checks/gpu/")})
    if not _swap():
        reasons["checks/host/test_resources.py::test_swap_used"] = (
            "needs a host with swap configured (SwapTotal is 0 here, so the check skips: "
            "'has no swap configured'); a container cannot swapon")
    if not _systemd():
        reasons["checks/host/test_services.py::test_unit_active"] = (
            "needs a host whose PID 1 is systemd (this container has none; "
            "tests/test_one_line.py proves the check then says could not run)")
    return reasons


def pytest_configure(config: pytest.Config) -> None:
    """The outermost session owns the log: it empties it once, before any worker starts;
    xdist workers and any self-test run that a self-test starts inherit the variable."""
    owner = "OPSCHECK_PROOF_LOG" not in os.environ and not hasattr(config, "workerinput")
    config.stash[OWNER] = owner
    if owner:
        LOG.parent.mkdir(parents=True, exist_ok=True)
        LOG.write_text("")
        os.environ["OPSCHECK_PROOF_LOG"] = str(LOG)


def matrix() -> dict[str, Any]:
    checks = all_checks()
    seen: dict[str, set[str]] = defaultdict(set)
    for line in LOG.read_text().splitlines() if LOG.exists() else ():
        rec = json.loads(line)
        cid = checks.get((rec["file"], rec["check"]))
        if cid is not None:
            seen[cid].add(f"{rec['selftest']} ({rec['how']})")
    excuses = excused()
    rows = {cid: sorted(seen.get(cid, ())) for cid in sorted(checks.values())}
    never = [cid for cid, selftests in rows.items() if not selftests and cid not in excuses]
    runnable = [cid for cid in rows if cid not in excuses]
    return {"checks": rows, "excused": excuses, "never_seen_failing": never,
            "figure": f"{sum(1 for c in runnable if rows[c])}/{len(runnable)} checks that can "
                      f"run here seen failing ({len(rows)} checks, {len(excuses)} excused)"}


def whole_suite(config: pytest.Config) -> bool:
    if os.environ.get("OPSCHECK_PROOF_STRICT") == "1":
        return True
    option = config.option
    if option.keyword or option.markexpr or getattr(option, "lf", False) or \
            getattr(option, "maxfail", 0):
        return False
    tests = REPO / "tests"
    given = [Path(a.split("::")[0]) for a in config.args]
    given = [p if p.is_absolute() else config.invocation_params.dir / p for p in given]
    return [p.resolve() for p in given] == [tests]


@pytest.hookimpl(trylast=True)
def pytest_sessionfinish(session: pytest.Session) -> None:
    config = session.config
    if not config.stash.get(OWNER, False):
        return
    result = matrix()
    MATRIX.write_text(json.dumps(result, indent=2) + "\n")
    if whole_suite(config) and result["never_seen_failing"]:
        config.stash[MISSING] = result["never_seen_failing"]
        if session.exitstatus == pytest.ExitCode.OK:
            session.exitstatus = pytest.ExitCode.TESTS_FAILED
    config.stash.setdefault(MISSING, [])
    config._proof_figure = result["figure"]  # type: ignore[attr-defined]


def pytest_terminal_summary(terminalreporter: Any, config: pytest.Config) -> None:
    figure = getattr(config, "_proof_figure", None)
    if figure is None:
        return
    missing = config.stash.get(MISSING, [])
    terminalreporter.section("proof matrix", red=bool(missing))
    terminalreporter.line(f"{figure}; {MATRIX.relative_to(REPO)}")
    for cid in missing:
        terminalreporter.line(f"never seen failing: {cid} (add a self-test that injects its "
                              "fault)", red=True)
