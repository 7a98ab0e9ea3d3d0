"""Paths in an inventory: ``~`` and environment variables expanded, relative to the
inventory's folder (pydantic only, so a model or the remediation registry that takes a path
does not load the files kind)."""

from __future__ import annotations

import os
import re
from pathlib import Path

from pydantic import ValidationInfo

from opscheck.components import plain, unset

UNSET_VAR = re.compile(r"\$\{?([A-Za-z_][A-Za-z0-9_]*)\}?")


def local_path(value: str, info: ValidationInfo, note: bool = False) -> str:
    """``value`` with ``~`` and environment variables expanded, made absolute.

    Relative paths are taken from the inventory file's folder (validation context ``base``).
    An unset variable is a ValueError naming it, or with ``note`` (a field validator of a
    component) it is noted for the loader's one error listing them all
    (:func:`opscheck.components.unset`). An empty path or one with a control character is a
    ValueError.
    """
    if not value.strip():
        raise ValueError("an empty path names no file; write the path, or remove the entry")
    plain(value, "path")
    expanded = os.path.expanduser(os.path.expandvars(value))
    for var in dict.fromkeys(UNSET_VAR.findall(expanded)):
        problem = (f"path {value!r} uses environment variable {var}, which is not set; "
                   f"export {var} or write the path in full")
        if not (note and info.field_name):
            raise ValueError(problem)
        unset(info, var, info.field_name, problem)
    path = Path(expanded)
    base = (info.context or {}).get("base")
    if not path.is_absolute() and base is not None:
        path = Path(base) / path
    return str(path)
