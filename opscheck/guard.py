"""The guard: no pytest run in opscheck's environment prints a verdict it did not earn.

An entry point (``pytest11``, named ``opscheck.guard``), so it is active in every pytest run
of the environment, the suite's or not; the suite also loads it (:mod:`opscheck.suite`), so
the ``opscheck`` command, which turns entry points off, has it too. It costs a few
attribute look-ups per run and imports nothing but pytest. It acts only where an operator
could be misled:

- **Nagios mode without the suite.** ``--nagios`` (testinfra's flag, which opscheck takes
  over) or ``OPSCHECK_NAGIOS`` in a run where the opscheck plugin is not loaded (pytest
  started outside the suite's folder) prints ``OPSCHECK UNKNOWN - …`` on stdout and exits 3
  before anything runs: testinfra would print ``TESTINFRA OK - 0 passed`` and exit 0.
- **An inventory without the suite.** ``OPSCHECK_INVENTORY`` set in such a run: the operator
  meant to check a stack, and nothing would check it. One line on stderr, exit 4 (Nagios
  mode: the UNKNOWN line, exit 3).
- **Usage errors in Nagios mode.** A bad inventory, waivers file, option value or ``-m``
  expression found while the run configures or collects is one ``OPSCHECK UNKNOWN - …``
  line on stdout and exit 3, not ``ERROR:`` on stderr and exit 4. (A command line that
  pytest itself cannot parse fails before any plugin runs: pytest's own ``ERROR`` and exit 4.)

Other projects' test runs in the same environment are left alone unless they set
``OPSCHECK_INVENTORY`` or ask for ``--nagios``; such a project can switch the guard off with
``-p no:opscheck.guard``. The suite's own self-tests (``tests/pytest.ini``) do so for the
outer run, which never loads the plugin, while every run they start has the guard.
"""

from __future__ import annotations

import os
import sys
from collections.abc import Generator
from typing import Any

import pytest

PLUGIN = "opscheck.plugin"
TRUE = ("1", "true", "yes", "on")
NAGIOS = pytest.StashKey[bool]()


def loaded(config: pytest.Config) -> bool:
    """Is the opscheck plugin part of this run?"""
    return config.pluginmanager.has_plugin(PLUGIN)


def nagios_mode(config: pytest.Config) -> bool:
    """Did the run ask for the Nagios output (flag, environment or, with the suite, ini)?"""
    if getattr(config.option, "nagios", False):
        return True
    if os.environ.get("OPSCHECK_NAGIOS", "").strip().lower() in TRUE:
        return True
    if loaded(config):
        try:
            ini = config.getini("opscheck_nagios")
        except (ValueError, KeyError):
            return False
        return str(ini or "").strip().lower() in TRUE
    return False


def unknown(text: str) -> int:
    """Print the one Nagios line of a run that checked nothing; its code, 3 (UNKNOWN)."""
    from opscheck import secrets  # light: the masking rules, no client library

    line = " ".join(secrets.redact(text).split())  # one line, whatever the message held
    sys.stdout.write(f"OPSCHECK UNKNOWN - {line}\n")
    sys.stdout.flush()
    return 3


def _outside(config: pytest.Config) -> str:
    return (f"the opscheck plugin is not loaded: pytest started in "
            f"{config.invocation_params.dir} (root folder {config.rootpath}), outside the "
            "suite, so nothing was checked; run it from the suite's folder or with the "
            "opscheck command")


@pytest.hookimpl(tryfirst=True)
def pytest_cmdline_main(config: pytest.Config) -> int | None:
    """Refuse, before anything runs, a run that would check nothing yet look like a check."""
    config.stash[NAGIOS] = nagios_mode(config)
    if loaded(config):
        return None
    inventory = os.environ.get("OPSCHECK_INVENTORY")
    if config.stash[NAGIOS]:
        return unknown(_outside(config))
    if inventory:
        sys.stderr.write(f"ERROR: OPSCHECK_INVENTORY={inventory} is set but "
                         f"{_outside(config)} (or unset OPSCHECK_INVENTORY for another "
                         "project's tests)\n")
        return 4
    return None


class UsageInNagios:
    """In Nagios mode, a usage error raised while the suite configures or collects is the
    one UNKNOWN line (registered as a plugin so its wrapper wraps the whole run)."""

    @pytest.hookimpl(wrapper=True)
    def pytest_cmdline_main(self, config: pytest.Config) -> Generator[None, Any, Any]:
        try:
            return (yield)
        except pytest.UsageError as exc:
            if not config.stash.get(NAGIOS, False):
                raise
            return unknown("; ".join(str(a) for a in exc.args) or "usage error")


def pytest_addhooks(pluginmanager: pytest.PytestPluginManager) -> None:
    """Register the Nagios usage-error wrapper beside this module (once per plugin manager)."""
    if pluginmanager.get_plugin("opscheck.guard.usage") is None:
        pluginmanager.register(UsageInNagios(), "opscheck.guard.usage")
