"""``opscheck list`` and ``opscheck explain``: what a run would check, read from a collection.

A :class:`Listing` is a pytest plugin object handed to ``pytest.main`` with
``--collect-only``: it keeps the collected checks (after the inventory's parametrization,
the not-configured deselection and ``-m``/``-k``) and renders them, per component, kind and
tier, or one check explained with its levels for each component it runs on.
"""

from __future__ import annotations

import ast
import inspect
import textwrap
from collections import Counter, defaultdict
from dataclasses import dataclass, field
from typing import Any

import pytest

from opscheck import markers

TIERS = ("critical", "standard", "deep")


@dataclass
class Entry:
    nodeid: str
    check: str
    tier: str
    kind: str
    component: str
    doc: str
    target: Any = None  # the component's model (or a probe), when parametrized
    thresholds: list[str] = field(default_factory=list)


def threshold_names(function: Any) -> list[str]:
    """The ``thresholds.NAME`` a check's source reads (what its levels are)."""
    try:
        tree = ast.parse(textwrap.dedent(inspect.getsource(function)))
    except (OSError, TypeError, SyntaxError):
        return []
    names = [node.attr for node in ast.walk(tree) if isinstance(node, ast.Attribute)
             and isinstance(node.value, ast.Attribute) and node.value.attr == "thresholds"]
    return list(dict.fromkeys(names))


class Listing:
    def __init__(self) -> None:
        self.entries: list[Entry] = []
        self.errors: list[str] = []

    def pytest_collectreport(self, report: pytest.CollectReport) -> None:
        if report.failed:
            self.errors.append(f"{report.nodeid}: {str(report.longrepr).splitlines()[-1]}")

    def pytest_collection_finish(self, session: pytest.Session) -> None:
        for item in session.items:
            props = dict(p for p in item.user_properties if isinstance(p, tuple))
            params = getattr(getattr(item, "callspec", None), "params", {})
            model = next((v for k, v in params.items() if k.endswith("_component")), None)
            model = model if model is not None else params.get("probe")
            function = getattr(item, "function", None)
            self.entries.append(Entry(
                nodeid=item.nodeid, check=getattr(item, "originalname", item.name),
                tier=markers.tier_of(item) or "", kind=markers.kind_of(item) or "",
                component=str(props.get("component", "")),
                doc=inspect.getdoc(function) or "", target=model,
                thresholds=threshold_names(function) if function else []))

    def table(self, verbose: bool = False) -> str:
        """One row per component: its kind and how many checks of each tier would run."""
        rows: dict[tuple[str, str], Counter[str]] = defaultdict(Counter)
        for e in self.entries:
            rows[(e.component or "-", e.kind)][e.tier] += 1
        width = max([len(c) for c, _ in rows] + [9])
        lines = [f"{'component':<{width}}  {'kind':<10}  " + "  ".join(f"{t:>8}" for t in TIERS)]
        for (component, kind), counts in sorted(rows.items()):
            lines.append(f"{component:<{width}}  {kind:<10}  "
                         + "  ".join(f"{counts[t]:>8}" for t in TIERS))
        total = Counter(e.tier for e in self.entries)
        lines.append(f"{'total':<{width}}  {'':<10}  "
                     + "  ".join(f"{total[t]:>8}" for t in TIERS))
        if verbose:
            for e in sorted(self.entries, key=lambda e: (e.component, e.nodeid)):
                lines.append(f"  {e.tier:<8}  {e.nodeid}")
        lines += [f"collection error: {e}" for e in self.errors]
        return "\n".join(lines)

    def explain(self, check: str) -> str | None:
        """What ``check`` (a name, or a node id or its tail) measures and, per component, its
        levels; None when no collected check matches."""
        name = check.rpartition("::")[2].partition("[")[0]
        chosen = [e for e in self.entries if e.nodeid == check or e.nodeid.endswith(check)
                  or e.check == name]
        if not chosen:
            return None
        first = chosen[0]
        lines = [f"{first.check} ({first.tier}, kind {first.kind})",
                 f"  {first.nodeid.split('[')[0]}", ""]
        lines += ["  " + line for line in (first.doc or "(no description)").splitlines()]
        for e in chosen:
            lines += ["", f"  on {e.component or '-'}: {e.nodeid.rpartition('::')[2]}"]
            lines += [f"    {text}" for text in _levels(e)]
        return "\n".join(lines)


def _levels(entry: Entry) -> list[str]:
    """The levels a check holds its value against on this component, with the action."""
    target = entry.target
    found = []
    thresholds = getattr(target, "thresholds", None)
    for name in entry.thresholds:
        t = getattr(thresholds, name, None)
        if t is not None:
            found.append(f"{name}: {t.levels()} ({t.direction})"
                         + (f"; action: {t.action}" if t.action else ""))
    threshold = getattr(target, "threshold", None)  # a probe or query carries its own
    if not found and callable(threshold):
        t = threshold()
        found.append(f"levels: {t.levels()} ({t.direction})"
                     + (f"; action: {t.action}" if t.action else ""))
    return found or ["no levels: the check passes or fails on the fact itself"]
