"""The ``opscheck`` command's sub-commands (click): validate, list, explain, init.

:mod:`opscheck.cli` imports this module only when a sub-command (or ``--help``,
``--version``) is asked for, so a run of the suite does not load click.
"""

from __future__ import annotations

import os
import shutil
import sys
from collections.abc import Sequence
from pathlib import Path

import click

from opscheck import version as opscheck_version
from opscheck.cli import PROFILES, pytest_args


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
