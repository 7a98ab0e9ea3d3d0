"""The opscheck pytest plugin: loads the inventory and wires the core modules together.

Loaded by the suite's root ``conftest.py`` (``pytest_plugins``), not by an entry point,
so it is active only when pytest runs the suite, never in other projects' test runs
that share the virtual environment.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from opscheck import markers, secrets, settings
from opscheck.inventory import Inventory, InventoryError, load

pytest_plugins = ["opscheck.connect", "opscheck.collect", "opscheck.measure", "opscheck.outcomes",
                  "opscheck.distribute", "opscheck.reporting"]

INVENTORY = pytest.StashKey[Inventory]()


def inventory_of(config: pytest.Config) -> Inventory:
    return config.stash[INVENTORY]


def inventory_path(config: pytest.Config) -> tuple[Path, str]:
    return settings.path(config, "inventory")


def pytest_addoption(parser: pytest.Parser) -> None:
    settings.addoption(parser)


@pytest.hookimpl(tryfirst=True)
def pytest_configure(config: pytest.Config) -> None:
    markers.register(config)
    path, _ = inventory_path(config)
    try:
        config.stash[INVENTORY] = load(path)
    except InventoryError as exc:
        raise pytest.UsageError(str(exc)) from None


def pytest_report_header(config: pytest.Config) -> list[str]:
    inv = inventory_of(config)
    _, where = inventory_path(config)
    names = ", ".join(f"{c.name} ({c.kind})" for c in inv.components) or "none"
    return [
        f"opscheck inventory: {inv.path} ({where}); system {inv.system.name}; "
        f"default timeout {inv.system.timeout:g} s",
        f"opscheck components: {names}",
        settings.header(config),
    ]


@pytest.hookimpl(wrapper=True, tryfirst=True)
def pytest_runtest_makereport(item: pytest.Item, call: pytest.CallInfo[None]) -> object:
    """Secrets never leave in a report: failure text, captured output, properties.

    Outermost wrapper (tryfirst), so it sees what every other plugin wrote into the report.
    """
    report = yield
    longrepr = report.longrepr
    if isinstance(longrepr, tuple):  # a skip: (path, line, reason); keep its shape
        report.longrepr = (*longrepr[:-1], secrets.redact(str(longrepr[-1])))
    elif longrepr is not None and secrets.contains_secret(str(longrepr)):
        report.longrepr = secrets.redact(str(longrepr))
    report.sections = [(title, secrets.redact(text)) for title, text in report.sections]
    report.user_properties = [(k, secrets.redact_any(v)) for k, v in report.user_properties]
    return report
