"""The ``opscheck`` command: run the suite from any folder, and the operator's sub-commands.

``opscheck [PYTEST OPTIONS] [PATHS]`` runs the installed suite (``pytest -p opscheck.suite``
with the suite's own settings and root folder), so it works from cron, a systemd timer or
NRPE wherever it is started; every pytest option passes through, and path options work
with a space or with ``=`` (``--inventory /etc/opscheck/wave.toml``). The sub-commands
(click) are the operator's other moves::

    opscheck validate /etc/opscheck/wave.toml     # exit 0, or 4 with the one-line problem
    opscheck list --inventory wave.toml -m critical
    opscheck explain test_redis_memory_used --inventory wave.toml
    opscheck init wave /etc/opscheck/wave.toml    # start from a runbook's profile

Only what a run needs is loaded (click only for a sub-command, :mod:`opscheck.subcommands`):
pytest's entry-point plugins are off, and the command
loads the timeout plugin always, xdist when ``-n``/``--dist`` is given, and pytest-html or
allure-pytest only when their report is asked for.
"""

from __future__ import annotations

import os
import sys
from collections.abc import Sequence
from pathlib import Path

from opscheck.places import state_dir

SUITE = Path(__file__).resolve().parent
PROFILES = SUITE / "profiles"
SUBCOMMANDS = ("validate", "list", "explain", "init")
#: third-party plugins the command loads itself (entry points are off): always
ALWAYS = ("pytest_timeout", "testinfra.plugin")
#: ... xdist when one of its options is given; a report's plugins when it is asked for
#: (opscheck.writers.WRITERS)
XDIST = (("-n", "--numprocesses", "--dist", "--tx", "-d"), ("xdist.plugin", "xdist.looponfail"))


def plugins_for(args: Sequence[str], environ: dict[str, str]) -> list[str]:
    """The ``-p`` plugins a run with ``args`` needs."""
    from opscheck.writers import plugins_for as report_plugins

    given = {a.split("=", 1)[0] for a in args if a.startswith("-")}
    given |= {a[:2] for a in args if a.startswith("-n") and not a.startswith("--")}
    wanted = list(ALWAYS)
    if given & set(XDIST[0]):
        wanted += XDIST[1]
    return wanted + [p for p in report_plugins(given, environ) if p not in wanted]


def pytest_args(args: Sequence[str]) -> list[str]:
    """The pytest command line of a suite run with the operator's ``args``."""
    plugins = [a for p in plugins_for(args, dict(os.environ)) for a in ("-p", p)]
    cache = state_dir() / "pytest-cache"
    return [*plugins, "-p", "opscheck.suite", "--rootdir", str(SUITE), "-c",
            str(SUITE / "suite.ini"), "-o", f"cache_dir={cache}", *args]


def run(args: Sequence[str]) -> int:
    """Run the suite; the exit code is pytest's (or the Nagios code under ``--nagios``)."""
    import pytest

    os.environ["PYTEST_DISABLE_PLUGIN_AUTOLOAD"] = "1"  # what is not needed is not loaded
    return int(pytest.main(pytest_args(args)))


def main(argv: Sequence[str] | None = None) -> None:
    """Entry point of ``opscheck`` and ``python -m opscheck``."""
    args = list(sys.argv[1:] if argv is None else argv)
    if args[:1] == ["--help-pytest"]:
        sys.exit(run(["--help"]))
    if args and (args[0] in SUBCOMMANDS or args[0] in ("--help", "-h", "--version")):
        from opscheck.subcommands import commands  # click: only for a sub-command

        commands.main(args=args, prog_name="opscheck")
        return
    sys.exit(run(args))
