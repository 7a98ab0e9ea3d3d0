"""The opscheck pytest plugin: declares its hooks, loads the inventory, wires the core.

Loaded through :mod:`opscheck.suite` (the suite's ``conftest.py``, or ``-p opscheck.suite``
from the ``opscheck`` command), not by an entry point, so it is active only when pytest runs
the suite, never in other projects' test runs that share the virtual environment.
"""

from __future__ import annotations

import warnings
from pathlib import Path

import pytest

from opscheck import hookspecs, markers, secrets, settings, text, version
from opscheck.inventory import Inventory, InventoryError, load
from opscheck.places import state_dir

pytest_plugins = ["opscheck.selection", "opscheck.connect", "opscheck.preopen",
                  "opscheck.collect",
                  "opscheck.measure", "opscheck.verdict", "opscheck.outcomes", "opscheck.waivers",
                  "opscheck.distribute", "opscheck.reporting"]

INVENTORY = pytest.StashKey[Inventory]()
WEAK = pytest.StashKey[dict[str, str]]()


def inventory_of(config: pytest.Config) -> Inventory:
    return config.stash[INVENTORY]


def inventory_path(config: pytest.Config) -> tuple[Path, str]:
    return settings.path(config, "inventory")


def pytest_addhooks(pluginmanager: pytest.PytestPluginManager) -> None:
    pluginmanager.add_hookspecs(hookspecs)


def pytest_addoption(parser: pytest.Parser) -> None:
    settings.addoption(parser)


def sections(config: pytest.Config) -> dict[str, str]:
    """The inventory tables the loaded plugins declare (``pytest_opscheck_sections``)."""
    found: dict[str, str] = {}
    for declared in config.hook.pytest_opscheck_sections():
        found.update(declared)
    return found


@pytest.hookimpl(tryfirst=True)
def pytest_configure(config: pytest.Config) -> None:
    markers.register(config)
    path, _ = inventory_path(config)
    try:
        inventory = load(path, sections(config))
    except InventoryError as exc:
        raise pytest.UsageError(str(exc)) from None
    config.stash[INVENTORY] = inventory
    names = inventory.names()
    secrets.protect(names)  # names are never masked; a secret inside one is weak
    config.stash[WEAK] = secrets.weak(names)
    secrets.redact_logs()
    config.hook.pytest_opscheck_loaded(config=config, inventory=inventory)


@pytest.hookimpl(trylast=True)
def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """Check ids are names too: a secret inside one is weak (a warning, once)."""
    ids = {item.nodeid for item in items}
    secrets.protect(ids)
    for var, line in secrets.weak(ids).items():
        if var not in config.stash.get(WEAK, {}):
            warnings.warn(secrets.WeakSecret(line), stacklevel=1)


def pytest_report_header(config: pytest.Config) -> list[str]:
    inv = inventory_of(config)
    _, where = inventory_path(config)
    names = ", ".join(f"{c.name} ({c.kind})" for c in inv.components) or "none"
    return [text.one_line(line, limit=100_000) for line in (
        f"opscheck version: {version()}",
        f"opscheck inventory: {inv.path} ({where}); system {inv.system.name}; "
        f"default timeout {inv.system.timeout:g} s",
        f"opscheck components: {names}",
        f"opscheck state folder: {state_dir()} (remediation store and audit by default)",
        settings.header(config),
        *(f"opscheck WARNING: {line}" for line in config.stash.get(WEAK, {}).values()),
    )]
