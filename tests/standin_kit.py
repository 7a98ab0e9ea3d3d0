"""Helpers of the stand-in tests: a runbook's profile, retargeted at a small stack of real
parts built by the test (SQLite files, redis-server, PostgreSQL, loopback HTTP servers,
folders and backups made by the real tools), run through the real checks.

A profile is read as TOML, its addresses and paths replaced (``retarget``), the components
that cannot run on this machine removed (``drop``: the docker engine, the GPU, systemd and
journald, said by each test), and written as the run's inventory. Everything else, every
level, pattern, query and action, is the profile's own.
"""

from __future__ import annotations

import re
import tomllib
from pathlib import Path
from typing import Any

# In-process pytester runs drop the modules first imported during a run (tests/conftest.py):
# a client library imported by one stand-in run and cached by another (requests' cookie jar
# class) would mix two copies. Import them once, up front.
import jmespath  # noqa: F401
import psycopg  # noqa: F401
import redis  # noqa: F401
import requests  # noqa: F401
import tomli_w
from test_profiles import CHECK_DIRS

PROFILES = Path(__file__).resolve().parents[1] / "profiles"
WARNINGS_FAIL = ("-W", "error::opscheck.thresholds.ThresholdWarning")
OUTCOME = re.compile(r"\.py::(?P<id>.+?) (?P<outcome>PASSED|FAILED|SKIPPED|ERROR|XFAIL)\b")


def profile(name: str) -> dict[str, Any]:
    return tomllib.loads((PROFILES / f"{name}.toml").read_text(encoding="utf-8"))


def retarget(data: Any, replacements: dict[str, str]) -> Any:
    """``data`` with every string's ``old`` replaced by ``new``, longest ``old`` first."""
    if isinstance(data, dict):
        return {k: retarget(v, replacements) for k, v in data.items()}
    if isinstance(data, list):
        return [retarget(v, replacements) for v in data]
    if isinstance(data, str):
        for old in sorted(replacements, key=len, reverse=True):
            data = data.replace(old, replacements[old])
    return data


def component(data: dict[str, Any], name: str) -> dict[str, Any]:
    return next(c for c in data["components"] if c["name"] == name)


def drop(data: dict[str, Any], *names: str) -> dict[str, Any]:
    """``data`` without the components ``names``, their probes and allow-list entries."""
    data = dict(data)
    data["components"] = [c for c in data["components"] if c["name"] not in names]
    data["probes"] = [p for p in data.get("probes", []) if p["component"] not in names]
    if "remediation" in data:
        section = dict(data["remediation"])
        section["allow"] = [a for a in section.get("allow", []) if a["component"] not in names]
        data["remediation"] = section
    return data


def write(suite, data: dict[str, Any]) -> Path:
    suite.inventory_path.write_text(tomli_w.dumps(data), encoding="utf-8")
    return suite.inventory_path


#: checks that measure this machine, not the stand-in (its CPU, memory and disks are shared
#: with whatever else runs here): left out of the stand-in runs
THIS_MACHINE = ("test_cpu_busy", "test_memory_used", "test_swap_used", "test_inodes_used",
                "test_disk_not_critically_full")


def run(suite, *args: str, k: str = ""):
    """Every kind's checks over the written inventory (but THIS_MACHINE's), each check's
    outcome on its line; ``k`` narrows the selection further."""
    select = " and ".join([f"not {name}" for name in THIS_MACHINE] + ([f"({k})"] if k else []))
    return suite.run("-v", "-p", "no:randomly", "-k", select, *args, checks=CHECK_DIRS)


def outcomes(result) -> dict[str, str]:
    """Check id -> PASSED, FAILED, SKIPPED or ERROR, from a ``run``'s verbose lines."""
    found = {}
    for line in result.stdout.lines:
        match = OUTCOME.search(line)
        if match:
            found[match["id"]] = match["outcome"]
    return found


def failed(result) -> list[str]:
    return sorted(i for i, o in outcomes(result).items() if o in ("FAILED", "ERROR"))


def assert_healthy(result) -> dict[str, str]:
    """Nothing failed, errored or warned, and something passed."""
    seen = outcomes(result)
    bad = failed(result)
    assert not bad and result.ret == 0, (
        f"the healthy stand-in fails {bad}:\n" + "\n".join(result.stdout.lines[-60:]))
    assert any(o == "PASSED" for o in seen.values()), result.stdout.str()
    return seen


def assert_reports(result, check: str, *words: str) -> None:
    """``check`` failed, and its report holds each of ``words`` (the runbook's, the level)."""
    seen = outcomes(result)
    assert seen.get(check) in ("FAILED", "ERROR"), (
        f"{check}: {seen.get(check, 'not run')}, expected it to fail:\n"
        + "\n".join(result.stdout.lines[-40:]))
    text = result.stdout.str()
    for word in words:
        assert word in text, f"{check} failed, but its report lacks {word!r}:\n{text[-3000:]}"
