"""opscheck: runbook health checks, alert thresholds and backup integrity as pytest tests.

The package's version comes from one place, ``pyproject.toml`` (``project.version``), read
from the installed metadata: ``opscheck.version()``, ``opscheck --version``, the report
header and the JSON summary all show it.
"""

from __future__ import annotations

from functools import cache


@cache
def version() -> str:
    """The installed opscheck's version (``pyproject.toml``'s ``project.version``)."""
    from importlib.metadata import PackageNotFoundError
    from importlib.metadata import version as installed

    try:
        return installed("opscheck")
    except PackageNotFoundError:  # a checkout used without installing it
        return "0+unknown"
