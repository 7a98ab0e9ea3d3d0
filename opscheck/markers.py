"""Markers: one tier and at least one kind marker on every check, enforced at collection."""

from __future__ import annotations

from typing import Any

import pytest

from opscheck.kinds import KINDS

TIERS = {
    "critical": "outage or data at risk; fast and safe to run every minute (the CI gate)",
    "standard": "thresholds and degradation; the default full sweep",
    "deep": "expensive proof: restore a backup to scratch, full integrity scans",
}
OTHER = {
    "remediation(action)": "the remediation a failure of this check may trigger (--remediate)",
    "component(name, kind)": "set by the suite on each check: its component; select one with "
    "-m \"component(name='wave-redis')\"",
    "applies(predicate, reason)": "the check applies only to components whose model satisfies "
    "predicate(component); others are skipped with '<name> <reason>' before connecting",
}


def register(config: pytest.Config) -> None:
    for tier, text in TIERS.items():
        config.addinivalue_line("markers", f"{tier}: tier: {text}")
    for kind in KINDS.values():
        config.addinivalue_line("markers", f"{kind.name}: kind: {kind.help}")
    for marker, text in OTHER.items():
        config.addinivalue_line("markers", f"{marker}: {text}")


def component(model: Any) -> pytest.MarkDecorator:
    """The ``component(name=…, kind=…)`` mark a check of ``model`` carries (``-m`` selects
    on its keyword arguments: ``-m "component(name='wave-redis')"``)."""
    return pytest.mark.component(name=model.name, kind=model.kind)


def tier_of(item: pytest.Item) -> str | None:
    tiers = [t for t in TIERS if item.get_closest_marker(t)]
    return tiers[0] if len(tiers) == 1 else None


def kind_of(item: pytest.Item) -> str | None:
    return next((k for k in KINDS if item.get_closest_marker(k)), None)


def problems(items: list[pytest.Item]) -> list[str]:
    """One line per check that lacks exactly one tier or any kind marker."""
    lines: dict[str, str] = {}
    for item in items:
        base = item.nodeid.split("[")[0]
        if base in lines:
            continue
        tiers = [t for t in TIERS if item.get_closest_marker(t)]
        if len(tiers) != 1:
            found = (f"{len(tiers)} tier markers ({', '.join(tiers)})" if tiers
                     else "no tier marker")
            lines[base] = (f"{base}: {found}; mark it with exactly one of "
                           "@pytest.mark.critical, @pytest.mark.standard, @pytest.mark.deep")
        elif kind_of(item) is None:
            lines[base] = (f"{base}: no kind marker; add one of "
                           + ", ".join(f"@pytest.mark.{k}" for k in KINDS))
    return list(lines.values())
