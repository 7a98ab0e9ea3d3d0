"""State and control files: the emergency-stop file, state/config files, checkpoints, git trees.

Paths may use environment variables (``${PROJECT_PATH}/.claude/EMERGENCY-STOP``, as the WAVE
runbook writes it) and are relative to the inventory file's folder unless absolute.
"""

from __future__ import annotations

import os
import re
from pathlib import Path
from typing import Any, ClassVar, Literal

from pydantic import Field, ValidationInfo, field_validator, model_validator

from opscheck.components import Component, plain, unset
from opscheck.thresholds import Threshold, Thresholds, level

FORMATS = {".json": "json", ".yaml": "yaml", ".yml": "yaml", ".toml": "toml"}
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


class FilesThresholds(Thresholds):
    """Checkpoint age: the runbooks name no level; a day without a checkpoint is the default."""

    checkpoint_age: Threshold = level(None, 24, "h", action=(
        "Checkpoints stopped: check the orchestrator's log and its checkpoint level "
        "(WAVE: CHECKPOINT_LEVEL), then restart it"))


class FilesComponent(Component):
    kind: Literal["files"] = "files"
    ITEMS: ClassVar[dict[str, str]] = {
        "state_file": "parse", "checkpoint_dir": "checkpoints", "repo": "git"}

    emergency_stop: str | None = Field(
        default=None, description="file whose presence halts the system (default: "
        "[system].emergency_stop), e.g. ${PROJECT_PATH}/.claude/EMERGENCY-STOP")
    parse: list[str] = Field(default_factory=list, description=(
        "JSON, YAML or TOML files that must exist and parse (by suffix: .json .yaml .yml "
        ".toml), e.g. .orchestrator-state.json, config/orchestrator-config.yaml"))
    checkpoints: list[str] = Field(default_factory=list, description=(
        "folders whose newest entry must be younger than thresholds.checkpoint_age"))
    checkpoint_pattern: str = Field(default="*", description="glob of checkpoint entries")
    git: list[str] = Field(default_factory=list, description=(
        "git working trees that must be clean and pass git fsck (deep)"))
    git_timeout: float = Field(default=120, gt=0, le=3600,
                               description="seconds each git command may take")
    thresholds: FilesThresholds = Field(default_factory=FilesThresholds)

    @field_validator("emergency_stop")
    @classmethod
    def _stop_path(cls, value: str | None, info: ValidationInfo) -> str | None:
        return local_path(value, info, note=True) if value else value

    @field_validator("parse")
    @classmethod
    def _parse_paths(cls, value: list[str], info: ValidationInfo) -> list[str]:
        for path in value:
            if Path(path).suffix.lower() not in FORMATS:
                raise ValueError(f"cannot tell the format of {path!r} from its suffix; "
                                 f"name files ending in {', '.join(FORMATS)}")
        return [local_path(p, info, note=True) for p in value]

    @field_validator("checkpoints", "git")
    @classmethod
    def _paths(cls, value: list[str], info: ValidationInfo) -> list[str]:
        return [local_path(p, info, note=True) for p in value]

    @model_validator(mode="wrap")
    @classmethod
    def _system_stop(cls, data: Any, handler: Any, info: ValidationInfo) -> FilesComponent:
        """``emergency_stop`` defaults to ``[system].emergency_stop``."""
        system = (info.context or {}).get("system")
        if isinstance(data, dict) and "emergency_stop" not in data and system is not None \
                and system.emergency_stop:
            data = {**data, "emergency_stop": system.emergency_stop}
        return handler(data)

    @property
    def address(self) -> str:
        return "local files"
