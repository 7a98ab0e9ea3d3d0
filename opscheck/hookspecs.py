"""opscheck's own hooks: the extension points its plugins (remediation, waivers, reports) use.

Registered by :mod:`opscheck.plugin` with ``pluginmanager.add_hookspecs`` (as pytest-xdist
registers its ``newhooks``). A plugin implements them like any pytest hook::

    def pytest_opscheck_sections():
        return {"remediation": "opscheck.remediations.config:Remediation"}

The order in which a check's verdict is decided (:mod:`opscheck.verdict`) is fixed: the
check's outcome, then :func:`pytest_opscheck_report` (waivers), then
:func:`pytest_opscheck_remediate` (the remediation plugin), then redaction, last.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import pytest

if TYPE_CHECKING:
    from opscheck.inventory import Inventory


@pytest.hookspec
def pytest_opscheck_sections() -> dict[str, str]:
    """Top-level inventory tables this plugin reads: ``{"table": "module:Model"}``.

    The model validates the table when the inventory loads (its errors are the inventory's
    one-line usage errors); the loaded value is ``inventory.section("table")``. A table no
    plugin declares is an error ("unknown table").
    """
    raise NotImplementedError


@pytest.hookspec
def pytest_opscheck_loaded(config: pytest.Config, inventory: Inventory) -> None:
    """The inventory is loaded and valid (in ``pytest_configure``): plugins read their
    sections here. Raise ``pytest.UsageError`` for a setting that contradicts it."""


@pytest.hookspec
def pytest_opscheck_report(item: pytest.Item, call: pytest.CallInfo[None],
                           report: pytest.TestReport) -> None:
    """Amend a check's report after its outcome was worded (one line, could not run, …).

    Called for each phase's report. The waivers plugin marks an expired waiver here.
    """


@pytest.hookspec(firstresult=True)
def pytest_opscheck_remediate(item: pytest.Item, nextitem: pytest.Item | None,
                              reports: list[pytest.TestReport]) -> list[pytest.TestReport] | None:
    """After a check's run, before its reports are logged: act on its failure.

    ``reports`` are the run's setup, call and teardown reports. A plugin that acted (or
    decided not to, with a record of why) returns the reports to log instead (a re-run's);
    ``None`` keeps them. The first plugin to return a list wins.
    """
