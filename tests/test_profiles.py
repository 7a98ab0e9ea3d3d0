"""The runbooks' inventories in profiles/ load, and the real checks collect for each of them.

Every variable a profile names (``*_env`` keys, ``${VAR}`` in paths) is set to a dummy value
first: loading checks that named variables are set, never what they hold. Collection runs
the real ``checks/`` with ``--collect-only``: no component is contacted.
"""

from __future__ import annotations

import re
import tomllib
from pathlib import Path
from typing import Any

import pytest

from opscheck import inventory
from opscheck.kinds import KINDS
from opscheck.suite import load as load_inventory

REPO = Path(__file__).resolve().parents[1]
PROFILES = sorted(p for p in (REPO / "profiles").glob("*.toml") if p.name != "coverage.toml")
CHECK_DIRS = (*KINDS, "probes")
VAR = re.compile(r"\$\{?([A-Za-z_][A-Za-z0-9_]*)\}?")
#: commands no allow-list may hold: they destroy data or kill by pattern
DESTRUCTIVE = re.compile(r"flushall|flushdb|down\s+-v|reset\s+--hard|push\s+--force|"
                         r"\bprune\b|kill\s+-9|\bpkill\b|\brm\s|-delete\b", re.IGNORECASE)


def variables(data: Any) -> set[str]:
    """The environment variables a raw inventory names: ``*_env`` values and ``${VAR}``."""
    found: set[str] = set()
    if isinstance(data, dict):
        for key, value in data.items():
            if str(key).endswith("_env") and isinstance(value, str):
                found.add(value)
            found |= variables(value)
    elif isinstance(data, list):
        for value in data:
            found |= variables(value)
    elif isinstance(data, str):
        found |= set(VAR.findall(data))
    return found


def raw(profile: Path) -> dict[str, Any]:
    return tomllib.loads(profile.read_text(encoding="utf-8"))


@pytest.fixture
def profile_env(monkeypatch: pytest.MonkeyPatch):
    """A function that sets every variable a profile names to a dummy value."""
    def setup(profile: Path) -> set[str]:
        names = variables(raw(profile))
        for name in names:
            monkeypatch.setenv(name, f"/tmp/opscheck-dummy-{name.lower()}")
        return names
    return setup


def test_every_runbook_has_a_profile():
    names = {p.stem for p in PROFILES}
    assert names >= {"wave", "coding-loops", "self-reflexive-orchestrator", "t-developer-v2",
                     "agentic-factory"}, names


def test_root_inventory_loads():
    """The embedded default (this host) loads without any environment."""
    inv = load_inventory(REPO / "inventory.toml")
    assert [c.kind for c in inv.components] == ["host"]


@pytest.mark.parametrize("profile", PROFILES, ids=lambda p: p.stem)
def test_profile_loads(profile, profile_env):
    profile_env(profile)
    inv = load_inventory(profile)
    assert inv.system.name == profile.stem
    assert inv.components, f"{profile.name} declares no component"


@pytest.mark.parametrize("profile", PROFILES, ids=lambda p: p.stem)
def test_profile_needs_its_variables(profile, profile_env, monkeypatch):
    """Each variable a profile names is required: unset, the load fails naming it."""
    for name in sorted(profile_env(profile)):
        monkeypatch.delenv(name)
        with pytest.raises(inventory.InventoryError, match=name):
            load_inventory(profile)
        monkeypatch.setenv(name, "dummy")


@pytest.mark.parametrize("profile", PROFILES, ids=lambda p: p.stem)
def test_profile_allow_list_is_not_destructive(profile, profile_env):
    profile_env(profile)
    section = load_inventory(profile).section("remediation")
    for entry in section.allow if section else []:
        command = entry.params.get("command", "")
        text = command if isinstance(command, str) else " ".join(command)
        assert not DESTRUCTIVE.search(text), f"{entry.component}/{entry.action}: {text}"


@pytest.mark.parametrize("profile", PROFILES, ids=lambda p: p.stem)
def test_profile_remediation_on_only_where_the_stop_file_vetoes_it(profile, profile_env):
    """A profile with an emergency-stop file keeps remediation off unless the remediation
    veto watches that same file (WAVE: off while the veto path keeps ``${PROJECT_PATH}``)."""
    profile_env(profile)
    inv = load_inventory(profile)
    section = inv.section("remediation")
    stops = {c.emergency_stop for c in inv.of_kind("files") if c.emergency_stop}
    if section is not None and stops and section.emergency_stop not in stops:
        assert not section.enabled, (
            f"remediation enabled but its veto file {section.emergency_stop} is not the "
            f"emergency-stop file the checks watch ({', '.join(sorted(stops))})")


@pytest.mark.parametrize("profile", PROFILES, ids=lambda p: p.stem)
def test_profile_collects_its_checks(profile, profile_env, suite):
    """--collect-only over every kind's checks: exit 0, each declared component collected."""
    profile_env(profile)
    inv = load_inventory(profile)
    result = suite.run("--collect-only", "-q", "--inventory", str(profile), checks=CHECK_DIRS,
                       inventory=False)
    assert result.ret == 0, result.stdout.str()
    ids = [line for line in result.stdout.lines if "::" in line]
    for component in inv.components:
        mine = [i for i in ids if f"checks/{component.kind}/" in i
                and re.search(rf"\[{re.escape(component.name)}[\]:]", i)]
        assert mine, f"no {component.kind} check collected for {component.name}"
    for probe in inv.section("probes") or []:
        assert any(f"test_probe[{probe.component}:{probe.name}]" in i for i in ids), probe.name
    for prom in inv.of_kind("prometheus"):
        for query in prom.queries:
            assert any(f"test_promql_probe[{prom.name}:{query.name}]" in i for i in ids), query
