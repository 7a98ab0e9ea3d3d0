"""The suite: the core plugin, the kinds' fixtures and the opt-in plugins, loaded together.

The checkout's ``conftest.py`` names this module in ``pytest_plugins``; the ``opscheck``
command passes ``-p opscheck.suite``. The core (:mod:`opscheck.plugin`) names none of the
opt-in plugins: they plug in through :mod:`opscheck.hookspecs`.

:func:`load` reads an inventory as the suite does, without pytest (for scripts, the
command's ``validate`` and the benchmarks).
"""

from __future__ import annotations

from pathlib import Path

from opscheck.inventory import Inventory
from opscheck.inventory import load as _load

pytest_plugins = ["opscheck.guard", "opscheck.plugin", "opscheck.fixtures",
                  "opscheck.remediations.plugin"]


def load(path: Path | str) -> Inventory:
    """The inventory at ``path`` with the tables of the suite's plugins ([remediation])."""
    from opscheck.remediations.config import SECTIONS

    return _load(path, SECTIONS)
