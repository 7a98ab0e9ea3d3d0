"""Collection: checks are parametrized over the inventory's components, then validated.

A check that asks for ``<kind>_component`` runs once per component of that kind, with the
component's name as its id. If it also asks for one of the kind's items (``mount`` for a
host), it runs once per (component, item): ``test_disk_used[this-host:/]``. A kind or
item the inventory does not configure gives one skipped check with the reason. An item may
bring its own marks (``item.marks()``, e.g. its tier): a PromQL probe listed as
``[[components.queries]]`` with ``tier = "critical"`` runs under ``-m critical``.
"""

from __future__ import annotations

from typing import Any

import pytest

from opscheck import markers
from opscheck.components import KINDS, model_for
from opscheck.inventory import Inventory
from opscheck.plugin import inventory_of

SUFFIX = "_component"


def _not_configured(argnames: list[str], reason: str, per_item_tier: bool = False) -> list[Any]:
    nones = [None] * len(argnames)
    marks = [pytest.mark.skip(reason=reason)]
    if per_item_tier:  # the check's tier comes from its items and none is configured
        marks.append(pytest.mark.standard)
    return [pytest.param(*nones, marks=marks, id="not-configured")]


def item_marks(item: Any) -> tuple[Any, ...]:
    """Marks an item brings to its check: an item with a ``marks()`` method (a PromQL probe
    carrying its own tier) gives them to its parametrized check."""
    marks = getattr(item, "marks", None)
    return tuple(marks()) if callable(marks) else ()


def parametrize(metafunc: pytest.Metafunc, inventory: Inventory, kind: str) -> None:
    fixture = kind + SUFFIX
    model = model_for(kind)
    components = inventory.of_kind(kind)
    item_args = [a for a in metafunc.fixturenames if a in model.ITEMS]
    where = inventory.path.name
    if not item_args:
        params = [pytest.param(c, id=c.name) for c in components]
        if not params:
            params = _not_configured([fixture], f"not configured: no {kind} component in {where}")
        metafunc.parametrize(fixture, params, indirect=True)
        return
    arg = item_args[0]
    params = [pytest.param(c, item, id=f"{c.name}:{getattr(item, 'name', item)}",
                           marks=item_marks(item))
              for c in components for item in c.items(arg)]
    if not params:
        key = model.ITEMS[arg]
        own_tier = any(metafunc.definition.get_closest_marker(t) for t in markers.TIERS)
        params = _not_configured([fixture, arg], f"not configured: no {kind} component in "
                                 f"{where} lists {key}", per_item_tier=not own_tier)
    metafunc.parametrize([fixture, arg], params, indirect=[fixture])


def pytest_generate_tests(metafunc: pytest.Metafunc) -> None:
    inventory = inventory_of(metafunc.config)
    for kind in KINDS:
        if kind + SUFFIX in metafunc.fixturenames:
            parametrize(metafunc, inventory, kind)


@pytest.hookimpl(tryfirst=True)
def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    bad = markers.problems(items)
    if bad:
        raise pytest.UsageError("checks without the markers they need:\n  " + "\n  ".join(bad))
    for item in items:
        item.user_properties.extend(describe(item))


def describe(item: pytest.Item) -> list[tuple[str, str]]:
    """The (key, value) facts the reports show: tier, kind, component."""
    kind = markers.kind_of(item) or ""
    facts = [("tier", markers.tier_of(item) or ""), ("kind", kind)]
    params = getattr(getattr(item, "callspec", None), "params", {})
    component = params.get(kind + SUFFIX) or next(
        (v for k, v in params.items() if k.endswith(SUFFIX) and v is not None), None)
    if component is not None:
        facts.append(("component", component.name))
    return facts
