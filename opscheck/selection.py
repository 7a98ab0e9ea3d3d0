"""What a run collects: the suite's checks, and the site's own check folders.

A site keeps checks of its own outside the install (``/etc/opscheck/checks/test_*.py``),
collected with the suite's markers, fixtures and rules (one tier marker and a kind marker
on each), so they survive an upgrade. The folders come from, in order: ``--checks DIR``
(repeatable), ``OPSCHECK_CHECKS`` (folders separated by ``:``), the ini key
``opscheck_checks``, and the inventory's ``[system] checks`` (relative to the inventory).

Without test paths on the command line, a run collects the suite's ``checks/`` and those
folders, from whatever folder it starts in (the installed ``opscheck`` command runs from
anywhere). With test paths, it collects those.
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from opscheck import settings
from opscheck.inventory import Inventory
from opscheck.settings import Setting

SUITE = Path(__file__).resolve().parent  # the installed package, or the checkout's opscheck/


def _folders(text: str) -> tuple[str, ...]:
    return tuple(p for p in text.split(os.pathsep) if p.strip())


settings.declare(Setting(
    "checks", "a folder of site checks (test_*.py) to collect with the suite's; repeatable",
    default=(), convert=_folders, action="append", metavar="DIR"))


def pytest_addoption(parser: pytest.Parser) -> None:
    settings.addoption(parser)  # pytest may import this module after opscheck.plugin's own


def suite_checks() -> Path:
    """The suite's own checks folder (``checks/`` of the checkout or of the install)."""
    return SUITE / "checks"


def _given(config: pytest.Config, value: object) -> list[Path]:
    """Folders from a setting's value (a list of tuples from repeated options, or a tuple)."""
    items: list[str] = []
    for entry in value if isinstance(value, list) else [value]:
        items += list(entry) if isinstance(entry, tuple | list) else [str(entry)]
    base = config.invocation_params.dir
    return [(base / Path(p).expanduser()).resolve() for p in items if p]


def site_folders(config: pytest.Config) -> list[Path]:
    """The site check folders in force (command line, environment, ini; not the inventory)."""
    return _given(config, settings.get(config, "checks"))


@pytest.hookimpl(tryfirst=True)
def pytest_load_initial_conftests(early_config: pytest.Config, parser: pytest.Parser,
                                  args: list[str]) -> None:
    """A run started outside the suite's folder with no test paths collects the suite's
    checks (and the site's), not the folder it was started in.

    Called only when the suite is loaded with ``-p`` (the ``opscheck`` command): in the
    checkout, pytest finds the suite's ``testpaths`` itself.
    """
    namespace = early_config.known_args_namespace
    if namespace.file_or_dir or early_config.invocation_params.dir == early_config.rootpath:
        return
    args.append(str(suite_checks()))
    value = getattr(namespace, "opscheck_checks", None) or os.environ.get("OPSCHECK_CHECKS")
    if value:
        folders = [f for entry in (value if isinstance(value, list) else [value])
                   for f in (_folders(entry) if isinstance(entry, str) else entry)]
        args.extend(str(Path(f).expanduser().resolve()) for f in folders)


def pytest_opscheck_loaded(config: pytest.Config, inventory: Inventory) -> None:
    extend(config, [inventory.resolve_path(p) for p in inventory.system.checks])


def extend(config: pytest.Config, inventory_folders: list[Path]) -> None:
    """Add the inventory's (and, for a run in the checkout, the settings') site folders to
    the run, unless the command line named its test paths."""
    if config.args_source == pytest.Config.ArgsSource.ARGS and str(suite_checks()) not in \
            config.args:
        return  # the operator named what to run
    present = {str(Path(a).resolve()) for a in config.args}
    for folder in [*site_folders(config), *inventory_folders]:
        if not folder.is_dir():
            raise pytest.UsageError(f"site checks folder {folder} is not a folder; fix "
                                    "--checks, OPSCHECK_CHECKS or [system] checks")
        if str(folder) not in present:
            config.args.append(str(folder))
            present.add(str(folder))
