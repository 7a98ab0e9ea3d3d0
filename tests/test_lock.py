"""Reproducible installs: the environment holds exactly the locked versions."""

from __future__ import annotations

import re
import sys
from importlib import metadata
from pathlib import Path

from packaging.markers import Marker
from packaging.requirements import Requirement
from packaging.utils import canonicalize_name

REPO = Path(__file__).resolve().parents[1]
#: installed but not locked, on purpose: the installer, opscheck itself, the lock's tool
NOT_LOCKED = {"pip", "opscheck", "uv"}


def locked(path: Path) -> dict[str, str]:
    """name -> version of the lock's entries that apply to this interpreter."""
    found: dict[str, str] = {}
    for line in path.read_text().splitlines():
        match = re.match(r"^([A-Za-z0-9._-]+)==([^ ;\\]+)\s*(?:;\s*([^\\]+))?", line)
        if not match:
            continue
        name, version, marker = match.groups()
        if marker and not Marker(marker.strip()).evaluate():
            continue
        found[canonicalize_name(name)] = version
    return found


def test_the_environment_holds_exactly_the_locked_versions():
    expected = locked(REPO / "requirements" / "lock.txt")
    installed = {canonicalize_name(d.metadata["Name"]): d.version
                 for d in metadata.distributions()}
    wrong = {n: (v, installed.get(n)) for n, v in expected.items() if installed.get(n) != v}
    extra = set(installed) - set(expected) - NOT_LOCKED
    assert not wrong, f"not the locked versions (locked, installed): {wrong}; run make check"
    assert not extra, f"installed but not locked: {sorted(extra)}; add them to pyproject.toml " \
                      "and run make lock, or remove them"


def test_every_declared_dependency_is_in_both_locks():
    import tomllib

    project = tomllib.loads((REPO / "pyproject.toml").read_text())["project"]
    runtime = locked(REPO / "requirements" / "runtime.txt")
    full = locked(REPO / "requirements" / "lock.txt")
    for spec in project["dependencies"]:
        req = Requirement(spec)
        name = canonicalize_name(req.name)
        if req.marker and not req.marker.evaluate():
            continue
        assert req.specifier.contains(runtime[name], prereleases=True), (name, runtime.get(name))
        assert runtime[name] == full[name], f"{name}: the two locks disagree; run make lock"
    for spec in project["optional-dependencies"]["test"]:
        req = Requirement(spec)
        assert req.specifier.contains(full[canonicalize_name(req.name)], prereleases=True), spec


def test_the_declared_pythons_are_the_tested_ones():
    import tomllib

    project = tomllib.loads((REPO / "pyproject.toml").read_text())["project"]
    assert project["requires-python"] == ">=3.11"
    classifiers = {c.rsplit(" ", 1)[-1] for c in project["classifiers"]
                   if c.startswith("Programming Language :: Python :: 3.")}
    others = (REPO / "Makefile").read_text().split("PYTHONS ?= ", 1)[1].splitlines()[0].split()
    assert classifiers == {"3.11", *others} == {"3.11", "3.12", "3.13"}  # 3.11: make test's
    assert f"3.{sys.version_info.minor}" in classifiers
