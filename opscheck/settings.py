"""Settings: each one a CLI option in the ``opscheck`` group, an ini key and an env variable.

Precedence, highest first: command line, environment, ini file, built-in default. The
value in force and where it came from are printed in the report header. Other plugins
declare their settings with :func:`declare` at import time, before ``pytest_addoption``.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest


@dataclass(frozen=True)
class Setting:
    name: str  # ini key; the option is --NAME with _ as -, the env var OPSCHECK_NAME
    help: str
    default: Any = None
    convert: Callable[[str], Any] = str
    metavar: str | None = None
    option: str | None = None  # CLI flag, if not derived from name
    env: str | None = None  # env variable, if not OPSCHECK_<NAME>
    ini: str | None = None  # ini key, if not opscheck_<name>
    choices: tuple[str, ...] | None = None
    nargs: str | None = None  # "?" for flags with an optional value
    const: Any = None
    action: str | None = None  # argparse action: "append" (repeatable), "store_const" (a flag)
    dest: str | None = None  # the flag is another plugin's option (its dest): not added again
    cli_only: bool = False  # only the command line may set it (what acts must be typed)

    @property
    def flag(self) -> str:
        return self.option or "--" + self.name.replace("_", "-")

    @property
    def env_var(self) -> str:
        return self.env or "OPSCHECK_" + self.name.upper()

    @property
    def ini_key(self) -> str:
        return self.ini or "opscheck_" + self.name


SETTINGS: dict[str, Setting] = {}


def declare(*settings: Setting) -> None:
    for s in settings:
        SETTINGS[s.name] = s


declare(Setting("inventory", "inventory TOML file of the deployment to check",
                default="inventory.toml", metavar="PATH"))


def addoption(parser: pytest.Parser) -> None:
    """Add the declared settings not on ``parser`` yet: a plugin module that pytest loads
    after opscheck.plugin declares its settings at import and calls this from its own
    ``pytest_addoption``."""
    group = parser.getgroup("opscheck", "opscheck: operational checks")
    present = {name for option in group.options for name in option.names()}
    for s in SETTINGS.values():
        if s.flag in present:
            continue
        if not s.cli_only:
            parser.addini(s.ini_key, s.help, default=None)
        if s.dest:
            continue
        extra: dict[str, Any] = {}
        if s.nargs:
            extra.update(nargs=s.nargs, const=s.const)
        if s.action:
            extra.update(action=s.action, **({"const": s.const} if "const" in s.action else {}))
        if s.choices:
            extra.update(choices=s.choices)
        group.addoption(s.flag, dest=f"opscheck_{s.name}", metavar=s.metavar, default=None,
                        **extra,
                        help=f"{s.help} ({_where(s)}default {s.default})")


def _where(s: Setting) -> str:
    return "command line only; " if s.cli_only else f"ini {s.ini_key}, env {s.env_var}; "


def on_controller(config: pytest.Config) -> bool:
    """True in a plain run and on the xdist controller; False on a worker: what must happen
    once per run (report writers, the remediation reset) happens where this is True."""
    return not hasattr(config, "workerinput")


def get(config: pytest.Config, name: str) -> Any:
    return source(config, name)[0]


def source(config: pytest.Config, name: str) -> tuple[Any, str]:
    """(value, where it came from) for setting ``name``; bad values are usage errors."""
    s = SETTINGS[name]
    raw: Any
    places = [(f"command line {s.flag}", config.getoption(s.dest or f"opscheck_{name}", None))]
    if not s.cli_only:
        places += [(f"env {s.env_var}", os.environ.get(s.env_var)),
                   (f"ini {s.ini_key}", config.getini(s.ini_key))]
    for where, raw in places:
        if raw is not None and raw != "" and raw is not False:  # False: a store_true not given
            return _convert(s, raw, where), where
    return s.default, "default"


def path(config: pytest.Config, name: str) -> tuple[Path, str]:
    """(absolute path, where it came from) for a path setting: one typed on the command line
    or in the environment is relative to the shell's directory; the ini key and the default
    are relative to the suite's root."""
    value, where = source(config, name)
    found = Path(value).expanduser()
    if not found.is_absolute():
        base = config.invocation_params.dir if where != "default" and not where.startswith(
            "ini") else config.rootpath
        found = base / found
    return found, where


def _convert(s: Setting, raw: Any, where: str) -> Any:
    if not isinstance(raw, str):
        return raw
    if s.choices and raw not in s.choices:
        raise pytest.UsageError(f"{where}: {raw!r} is not one of {', '.join(s.choices)}")
    try:
        return s.convert(raw)
    except (TypeError, ValueError) as exc:
        raise pytest.UsageError(f"{where}: bad value {raw!r} for {s.name} ({exc}); "
                                f"see --help under 'opscheck'") from None


def header(config: pytest.Config) -> str:
    parts = []
    for name in SETTINGS:
        value, where = source(config, name)
        parts.append(f"{name}={value} ({where})")
    return "opscheck settings: " + ", ".join(parts)
