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

Only what a run needs is loaded: pytest's entry-point plugins are off, and the command
loads the timeout plugin always, xdist when ``-n``/``--dist`` is given, and pytest-html or
allure-pytest only when their report is asked for.
"""

from __future__ import annotations

import os
import shutil
import sys
from collections.abc import Sequence
from pathlib import Path

import click

from opscheck import version as opscheck_version
from opscheck.places import state_dir

SUITE = Path(__file__).resolve().parent
PROFILES = SUITE / "profiles"
SUBCOMMANDS = ("validate", "list", "explain", "init")
#: third-party plugins the command loads itself (entry points are off): always
ALWAYS = ("pytest_timeout", "testinfra.plugin")
#: ... xdist when one of its options is given; a report's plugins when it is asked for
#: (opscheck.reporting.WRITERS)
XDIST = (("-n", "--numprocesses", "--dist", "--tx", "-d"), ("xdist.plugin", "xdist.looponfail"))


def plugins_for(args: Sequence[str], environ: dict[str, str]) -> list[str]:
    """The ``-p`` plugins a run with ``args`` needs."""
    from opscheck.reporting import plugins_for as report_plugins

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
        commands.main(args=args, prog_name="opscheck")
        return
    sys.exit(run(args))


@click.group(context_settings={"help_option_names": ["-h", "--help"]},
             epilog="Anything else runs the suite: opscheck [PYTEST OPTIONS] [PATHS], e.g. "
                    "opscheck -m critical --inventory /etc/opscheck/wave.toml; see "
                    "`opscheck --help-pytest` for every option.")
@click.version_option(opscheck_version(), prog_name="opscheck")
def commands() -> None:
    """Runbook health checks, thresholds and backups, as tests that run."""


@commands.command()
@click.argument("inventory", type=click.Path(dir_okay=False, path_type=Path))
def validate(inventory: Path) -> None:
    """Load INVENTORY as a run would, and run nothing: exit 0, or 4 with the problem."""
    from opscheck.inventory import InventoryError
    from opscheck.suite import load

    try:
        inv = load(inventory)
    except InventoryError as exc:
        click.echo(f"ERROR: {exc}", err=True)
        sys.exit(4)
    kinds = sorted({c.kind for c in inv.components})
    click.echo(f"{inv.path}: valid: system {inv.system.name}, {len(inv.components)} "
               f"component(s) ({', '.join(kinds) or 'none'})")


@commands.command(name="list", context_settings={"ignore_unknown_options": True,
                                                 "allow_extra_args": True})
@click.option("-v", "--verbose", is_flag=True, help="list every check's id too")
@click.pass_context
def list_checks(ctx: click.Context, verbose: bool) -> None:
    """List what a run would check, per component, kind and tier (pytest's selection
    options pass through: --inventory, -m, -k, paths)."""
    from opscheck.listing import Listing

    listing = Listing()
    code = _collect(ctx.args, listing)
    if code not in (0, 5):
        sys.exit(code)
    click.echo(listing.table(verbose=verbose))


@commands.command(context_settings={"ignore_unknown_options": True, "allow_extra_args": True})
@click.argument("check")
@click.pass_context
def explain(ctx: click.Context, check: str) -> None:
    """Explain CHECK (a check's name or id): what it measures, its tier, and for each
    component it runs on, its levels and the runbook's action (--inventory passes through)."""
    from opscheck.listing import Listing

    listing = Listing()
    code = _collect(ctx.args, listing)
    if code not in (0, 5):
        sys.exit(code)
    text = listing.explain(check)
    if text is None:
        click.echo(f"ERROR: no collected check is named {check!r}; `opscheck list -v` "
                   "shows them", err=True)
        sys.exit(4)
    click.echo(text)


@commands.command()
@click.argument("profile")
@click.argument("dest", type=click.Path(dir_okay=False, path_type=Path))
@click.option("--force", is_flag=True, help="overwrite DEST if it exists")
def init(profile: str, dest: Path, force: bool) -> None:
    """Copy the runbook profile PROFILE (wave, coding-loops, …) to DEST, to start from."""
    names = sorted(p.stem for p in PROFILES.glob("*.toml") if p.name != "coverage.toml")
    source = PROFILES / f"{profile}.toml"
    if profile not in names:
        click.echo(f"ERROR: no profile named {profile!r}; choose one of {', '.join(names)}",
                   err=True)
        sys.exit(4)
    if dest.exists() and not force:
        click.echo(f"ERROR: {dest} exists; pass --force to overwrite it", err=True)
        sys.exit(4)
    dest.parent.mkdir(parents=True, exist_ok=True)
    shutil.copyfile(source, dest)
    click.echo(f"{dest}: copied from the {profile} profile; export the variables it names, "
               f"then: opscheck validate {dest}")


def _collect(args: Sequence[str], listing: object) -> int:
    """Collect as a run with ``args`` would, pytest's own output kept back (usage errors
    still reach stderr in one line)."""
    import contextlib
    import io

    import pytest

    os.environ["PYTEST_DISABLE_PLUGIN_AUTOLOAD"] = "1"
    with contextlib.redirect_stdout(io.StringIO()):
        return int(pytest.main(pytest_args([*args, "--collect-only", "-q"]), plugins=[listing]))
