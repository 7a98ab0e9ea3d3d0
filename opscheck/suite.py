"""The suite: the core plugin, the kinds' fixtures and the opt-in plugins, loaded together.

The checkout's ``conftest.py`` names this module in ``pytest_plugins``; the ``opscheck``
command passes ``-p opscheck.suite``. The core (:mod:`opscheck.plugin`) names none of the
opt-in plugins: they plug in through :mod:`opscheck.hookspecs`.

:func:`load` reads an inventory as the suite does, without pytest (for scripts, the
command's ``validate`` and the benchmarks).
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    import pytest

    from opscheck.inventory import Inventory

pytest_plugins = ["opscheck.startup", "opscheck.guard", "opscheck.plugin", "opscheck.fixtures",
                  "opscheck.remediations.plugin"]
OWN = "opscheck."  # the suite's plugin modules: none is an entry point but the guard


def pytest_addhooks(pluginmanager: pytest.PytestPluginManager) -> None:
    """Register the suite's plugin modules (``pytest_plugins``, recursively, in pytest's own
    order) as this module is registered. With entry points off (the ``opscheck`` command),
    pytest would look for each of the ~30 modules among every installed distribution's entry
    points first (a scan of all their metadata per module, a third of the start-up); none
    of them is one but the guard, which is the same module either way, so the look-up is
    skipped for the suite's own names."""
    scan = pluginmanager.load_setuptools_entrypoints

    def own_skipped(group: str, name: str | None = None) -> int:
        return 0 if name and name.startswith(OWN) else scan(group, name)

    pluginmanager.load_setuptools_entrypoints = own_skipped  # type: ignore[method-assign]
    try:
        for name in pytest_plugins:
            pluginmanager.import_plugin(name)
    finally:
        del pluginmanager.load_setuptools_entrypoints


def load(path: Path | str) -> Inventory:
    """The inventory at ``path`` with the tables of the suite's plugins ([remediation])."""
    from opscheck.inventory import load as _load
    from opscheck.remediations import SECTIONS

    return _load(path, SECTIONS)
