"""Helpers for the remediation self-tests: inventories, small check files, the audit log.

Check files written here fail on a real condition (a file exists, a server does not answer)
and name a remediation; the actions act on real files and servers.
"""

from __future__ import annotations

import json
import os
import textwrap
import time
from pathlib import Path
from typing import Any

FAST = {"settle": 0, "confirm_delay": 0}

FLAG_CHECK = '''
import os
import pytest

@pytest.mark.critical
@pytest.mark.files
@pytest.mark.remediation({action!r}, component={component!r})
def test_{name}():
    """Fails while the flag file exists."""
    assert not os.path.exists({flag!r}), "{flag} exists"
'''


def toml_value(value: Any) -> str:
    """A TOML literal for str, bool, number, list or dict (inline table)."""
    if isinstance(value, dict):
        return "{ " + ", ".join(f"{k} = {toml_value(v)}" for k, v in value.items()) + " }"
    if isinstance(value, list | tuple):
        return "[" + ", ".join(toml_value(v) for v in value) + "]"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int | float):
        return repr(value)
    return json.dumps(str(value))


def remediation_toml(allow: list[dict[str, Any]], components: str = "",
                     **table: Any) -> str:
    """An inventory: ``components`` (TOML text), then [remediation] and its allow entries."""
    lines = [textwrap.dedent(components), "[remediation]"]
    lines += [f"{k} = {toml_value(v)}" for k, v in {**FAST, **table}.items()]
    for entry in allow:
        lines.append("[[remediation.allow]]")
        lines += [f"{k} = {toml_value(v)}" for k, v in entry.items()]
    return "\n".join(lines) + "\n"


def flag_check(suite: Any, flag: Path, action: str = "restart_service",
               component: str = "flagger", name: str = "flag") -> Path:
    """Write a check file that fails while ``flag`` exists."""
    path = suite.path / f"test_{name}.py"
    path.write_text(FLAG_CHECK.format(action=action, component=component, flag=str(flag),
                                      name=name))
    return path


def allow_command(command: list[str], component: str = "flagger",
                  action: str = "restart_service", **extra: Any) -> dict[str, Any]:
    return {"component": component, "action": action, "params": {"command": command}, **extra}


def audit(folder: Path) -> list[dict[str, Any]]:
    path = Path(folder) / "remediation-audit.jsonl"
    if not path.exists():
        return []
    return [json.loads(line) for line in path.read_text().splitlines() if line]


def decisions(folder: Path) -> list[str]:
    return [r["decision"] for r in audit(folder) if "node" in r]


def age(path: Path, days: float) -> None:
    """Set ``path``'s mtime ``days`` in the past (without following a symlink)."""
    when = time.time() - days * 86400
    os.utime(path, (when, when), follow_symlinks=False)


def snapshot(root: Path) -> dict[str, bytes | str]:
    """Every file's bytes (and every symlink's target) under ``root``, for byte-identity."""
    found: dict[str, bytes | str] = {}
    for dirpath, dirnames, filenames in os.walk(root):
        for name in dirnames + filenames:
            p = Path(dirpath) / name
            rel = str(p.relative_to(root))
            if p.is_symlink():
                found[rel] = "-> " + os.readlink(p)
            elif p.is_file():
                found[rel] = p.read_bytes() + str(p.stat().st_mtime_ns).encode()
    return found


def make_queue(root: Path, ready: int = 0, in_progress: int = 0, age_min: float = 0,
               attempt: int = 1) -> Path:
    """A Factory queue under ``root`` with task files (mtime ``age_min`` minutes ago)."""
    for folder in ("backlog", "ready", "in-progress", "review", "done", "failed"):
        (root / folder).mkdir(parents=True, exist_ok=True)
    when = time.time() - age_min * 60
    for folder, count in (("ready", ready), ("in-progress", in_progress)):
        for i in range(count):
            task = root / folder / f"{folder}-{i:04d}.json"
            task.write_text(json.dumps({"id": task.stem, "attempt": attempt}))
            os.utime(task, (when, when))
    return root


def _preload() -> None:
    """Import every remediation module once, before pytester snapshots ``sys.modules``.

    In-process pytester runs drop modules first imported during a run; a later run would
    then mix a fresh submodule with a stale one still bound on the package.
    """
    import opscheck.remediations.plugin  # noqa: F401
    from opscheck.remediations import registry

    for name in registry.names():
        registry.get(name)


_preload()
