"""Collection: checks are parametrized over the inventory's components, then validated.

A check that asks for ``<kind>_component`` runs once per component of that kind, with the
component's name as its id. If it also asks for one of the kind's items (``mount`` for a
host), it runs once per (component, item): ``test_disk_used[this-host:/]``. A kind or item
the inventory does not configure gives no test (deselected; the report header lists what is
not configured), and the checks folder of a kind with no component is not even collected
(nothing of it imported), unless named on the command line. An item may bring its own marks
(``item.mark_names()``, e.g. its tier): a PromQL query listed as ``[[components.queries]]``
with ``tier = "critical"`` runs under ``-m critical``. Each carries ``component(name=…,
kind=…)``: ``-m "component(name='wave-redis')"`` selects one component's checks exactly
(``-k wave-redis`` also matches ``wave-redis-backup``).

The suite collects nothing but checks: with the plugin active, a folder or file outside the
suite's ``checks/`` and the site check folders (:mod:`opscheck.selection`) is not collected
(a run started in a parent folder never imports other projects' tests), and a test path
named on the command line outside them is a usage error.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from opscheck import markers, selection
from opscheck.inventory import Inventory
from opscheck.kinds import KINDS, model_for
from opscheck.plugin import inventory_of

SUFFIX = "_component"
NOT_CONFIGURED = "not-configured"
ROOTS = pytest.StashKey[list[Path]]()
UNCONFIGURED = pytest.StashKey[set[Path]]()


def roots(config: pytest.Config) -> list[Path]:
    """The folders checks are collected from: the suite's, the site's, the inventory's."""
    if ROOTS not in config.stash:
        inventory = inventory_of(config)
        config.stash[ROOTS] = [selection.suite_checks().resolve(),
                               *selection.site_folders(config),
                               *(inventory.resolve_path(p).resolve()
                                 for p in inventory.system.checks)]
    return config.stash[ROOTS]


def inside(path: Path, config: pytest.Config) -> bool:
    """Is ``path`` in a checks folder, or on the way to one?"""
    path = path.resolve()
    return any(path == r or r in path.parents or path in r.parents for r in roots(config))


def unconfigured_folders(config: pytest.Config) -> set[Path]:
    """The suite's check folders of the kinds the inventory has no component of: not
    collected (nothing of theirs is imported: their checks would all be deselected), unless
    named on the command line."""
    if UNCONFIGURED not in config.stash:
        inventory = inventory_of(config)
        suite = selection.suite_checks().resolve().parent
        named = {(config.invocation_params.dir / a.split("::", 1)[0]).resolve()
                 for a in config.args}
        config.stash[UNCONFIGURED] = {
            folder for kind, entry in KINDS.items() if not inventory.of_kind(kind)
            and (folder := (suite / entry.checks).resolve()) not in named}
    return config.stash[UNCONFIGURED]


def pytest_ignore_collect(collection_path: Path, config: pytest.Config) -> bool | None:
    if not inside(collection_path, config):
        return True
    return True if collection_path.resolve() in unconfigured_folders(config) else None


@pytest.hookimpl(tryfirst=True)
def pytest_collection(session: pytest.Session) -> None:
    """A test path the operator named outside the checks folders is refused, unimported."""
    config = session.config
    for arg in config.args:
        path = Path(arg.split("::", 1)[0])
        path = path if path.is_absolute() else config.invocation_params.dir / path
        if path.exists() and not inside(path, config):
            raise pytest.UsageError(
                f"{arg}: not a check of the suite; it collects only checks/ and the site "
                "check folders (--checks, OPSCHECK_CHECKS, opscheck_checks, [system] checks): "
                "name a path inside one of those, or add that folder with --checks")


def _not_configured(argnames: list[str], reason: str) -> list[Any]:
    """The placeholder of a check with nothing to run on: deselected at collection."""
    nones = [None] * len(argnames)
    return [pytest.param(*nones, marks=pytest.mark.skip(reason=reason), id=NOT_CONFIGURED)]


def applying(metafunc: pytest.Metafunc, component: Any) -> tuple[Any, ...]:
    """A skip mark when the check's ``@pytest.mark.applies(predicate, reason)`` says the
    component's configuration rules it out: decided here, before anything connects, so a
    check that does not apply is skipped whether or not the component answers."""
    marker = metafunc.definition.get_closest_marker("applies")
    if marker is None or component is None:
        return ()
    predicate, reason = marker.args
    return () if predicate(component) else (pytest.mark.skip(reason=f"{component.name} "
                                                                    f"{reason}"),)


def item_marks(item: Any) -> tuple[Any, ...]:
    """Marks an item brings to its check: an item with a ``mark_names()`` method (a PromQL
    probe carrying its own tier; models stay pytest-free) gives them to its check."""
    names = getattr(item, "mark_names", None)
    return tuple(getattr(pytest.mark, name) for name in names()) if callable(names) else ()


def parametrize(metafunc: pytest.Metafunc, inventory: Inventory, kind: str) -> None:
    fixture = kind + SUFFIX
    model = model_for(kind)
    components = inventory.of_kind(kind)
    item_args = [a for a in metafunc.fixturenames if a in model.ITEMS]
    where = inventory.path.name
    if not item_args:
        params = [pytest.param(c, id=c.name, marks=(markers.component(c), *applying(metafunc, c)))
                  for c in components]
        if not params:
            params = _not_configured([fixture], f"not configured: no {kind} component in {where}")
        metafunc.parametrize(fixture, params, indirect=True)
        return
    arg = item_args[0]
    params = [pytest.param(c, item, id=f"{c.name}:{getattr(item, 'name', item)}",
                           marks=(markers.component(c), *item_marks(item),
                                  *applying(metafunc, c)))
              for c in components for item in c.items(arg)]
    if not params:
        key = model.ITEMS[arg]
        params = _not_configured([fixture, arg], f"not configured: no {kind} component in "
                                 f"{where} lists {key}")
    metafunc.parametrize([fixture, arg], params, indirect=[fixture])


def pytest_generate_tests(metafunc: pytest.Metafunc) -> None:
    inventory = inventory_of(metafunc.config)
    for kind in KINDS:
        if kind + SUFFIX in metafunc.fixturenames:
            parametrize(metafunc, inventory, kind)


@pytest.hookimpl(tryfirst=True)
def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    unconfigured = [i for i in items if getattr(getattr(i, "callspec", None), "id", "")
                    == NOT_CONFIGURED]
    if unconfigured:  # no test for what the inventory does not have; the header says which
        config.hook.pytest_deselected(items=unconfigured)
        gone = set(unconfigured)
        items[:] = [i for i in items if i not in gone]
    bad = markers.problems(items)
    if bad:
        raise pytest.UsageError("checks without the markers they need:\n  " + "\n  ".join(bad))
    for item in items:
        item.user_properties.extend(describe(item))


def not_configured(inventory: Inventory) -> list[str]:
    """Kinds (and kinds' item lists) the inventory leaves out: their checks are deselected."""
    missing = []
    for kind in KINDS:
        components = inventory.of_kind(kind)
        if not components:
            missing.append(kind)
            continue
        missing += [f"{kind} {field}" for arg, field in model_for(kind).ITEMS.items()
                    if not any(c.items(arg) for c in components)]
    return missing


def pytest_report_header(config: pytest.Config) -> str:
    missing = not_configured(inventory_of(config))
    return ("opscheck not configured (those checks are deselected): " + ", ".join(missing)
            if missing else "opscheck not configured: nothing")


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
