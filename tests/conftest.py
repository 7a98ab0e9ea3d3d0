"""Self-test glue: run the real checks through pytester against inventories the tests write.

``suite`` runs pytest in a temporary folder (its own rootdir and ini, so the repository's
conftest is not involved) with the opscheck plugins loaded by ``-p``, over the repository's
``checks/`` paths named by the test.
"""

from __future__ import annotations

import importlib
import os
import textwrap
from pathlib import Path

import pytest

import opscheck.suite  # noqa: F401 - imported once here, so in-process runs reuse it
from opscheck.kinds import KINDS, model_for, target_for

# Mutation testing (make mutate): mutmut's "stats" pass maps which test reaches which function
# in this process only (it keeps its own copy of the mode); a child run (pytester's
# subprocess, a command a test starts) runs the plain code, since from its own folder it
# cannot find mutmut's settings. While a mutant is under test its children run it too.
if os.environ.get("MUTANT_UNDER_TEST") == "stats":
    del os.environ["MUTANT_UNDER_TEST"]

# In-process pytester runs drop the modules first imported during a run; a module imported
# lazily by one run (a kind's target) and cached by a long-lived one (the kind registry)
# would then mix with fresh copies in the next run. Import them all once, up front.
for _kind in KINDS:
    model_for(_kind)
    target_for(_kind)


# The same for the suite's plugin modules: a run that imports opscheck.settings afresh while
# the opscheck package still holds the previous run's module as its attribute (what
# ``from opscheck import settings`` reads) would declare settings in one registry and add
# options from another ("unknown configuration value: 'opscheck_checks'").
def _import_plugins(names: list[str]) -> None:
    for name in names:
        _import_plugins(list(getattr(importlib.import_module(name), "pytest_plugins", [])))


_import_plugins(["opscheck.suite"])

REPO = Path(__file__).resolve().parents[1]
CHECKS = REPO / "checks"
# tests.proof: the proof matrix's recorder (importable wherever the repository is on the path)
PLUGIN_ARGS = ["-p", "opscheck.suite", "-p", "tests.proof"]
INI = """\
[pytest]
addopts = --strict-markers --strict-config -p no:cacheprovider -rfEsw
timeout = 60
# the test's own folder is a site check folder: the suite collects only check folders
opscheck_checks = .
filterwarnings =
    ignore:Module already imported so cannot be rewritten:pytest.PytestAssertRewriteWarning
"""

pytest_plugins = ["servers", "proof_matrix"]


class Suite:
    """A pytester run of the suite: ``suite.run("host", "-m", "critical")``."""

    def __init__(self, pytester: pytest.Pytester) -> None:
        self.pytester = pytester
        self.path = pytester.path
        (self.path / "pytest.ini").write_text(INI)
        self.inventory_path = self.path / "inventory.toml"

    def inventory(self, text: str) -> Path:
        self.inventory_path.write_text(textwrap.dedent(text))
        return self.inventory_path

    def args(self, checks: tuple[str, ...], args: tuple[str, ...],
             inventory: bool = True) -> list[str]:
        paths = [str(CHECKS / c) for c in checks]
        chosen = ["--inventory", str(self.inventory_path)] if inventory else []
        return [*PLUGIN_ARGS, *chosen, *args, *paths]

    def run(self, *args: str, checks: tuple[str, ...] = ("host",), subprocess: bool = False,
            inventory: bool = True) -> pytest.RunResult:
        """Run the checks under ``checks/<each of checks>``; ``inventory=False`` passes none."""
        full = self.args(checks, args, inventory)
        if subprocess:
            return self.pytester.runpytest_subprocess(*full)
        return self.pytester.runpytest(*full)

    def run_files(self, *args: str, subprocess: bool = False) -> pytest.RunResult:
        """Run the check files the test wrote into its folder (for plugin behaviour)."""
        full = [*PLUGIN_ARGS, "--inventory", str(self.inventory_path), *args]
        run = self.pytester.runpytest_subprocess if subprocess else self.pytester.runpytest
        return run(*full)


@pytest.fixture
def suite(pytester: pytest.Pytester, monkeypatch: pytest.MonkeyPatch,
          request: pytest.FixtureRequest) -> Suite:
    monkeypatch.delenv("OPSCHECK_INVENTORY", raising=False)
    monkeypatch.setenv("PYTHONPATH", str(REPO))
    monkeypatch.setenv("OPSCHECK_PROOF_SELFTEST", request.node.nodeid)  # for the recorder
    monkeypatch.setenv("OPSCHECK_STATE_DIR", str(pytester.path))  # state beside the inventory
    return Suite(pytester)
