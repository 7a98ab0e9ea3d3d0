"""State and control files: the emergency-stop file, state/config files and what they hold,
checkpoints, file ages and sizes, git trees.

Paths may use environment variables (``${PROJECT_PATH}/.claude/EMERGENCY-STOP``, as the WAVE
runbook writes it) and are relative to the inventory file's folder unless absolute. The
entries of ``exists``, ``limits`` and ``git`` may be globs (``workspace-*/memory/*.md``).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any, ClassVar, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationInfo, field_validator, model_validator

from opscheck import secrets
from opscheck.components import Component, regex
from opscheck.conditions import JsonCondition
from opscheck.paths import local_path
from opscheck.thresholds import Direction, Level, Threshold, Thresholds, level

FORMATS = {".json": "json", ".yaml": "yaml", ".yml": "yaml", ".toml": "toml"}
Format = Literal["json", "yaml", "toml", "dotenv"]
Tier = Literal["critical", "standard", "deep"]
AGE_UNITS = {"s": 1, "min": 60, "h": 3600, "d": 86400}
SIZE_UNITS = {"B": 1, "KB": 1000, "MB": 1000**2, "GB": 1000**3, "KiB": 1024, "MiB": 1024**2,
              "GiB": 1024**3}


def format_of(path: str) -> str | None:
    """The format a file is read in, by its name: .json .yaml .yml .toml, and dotenv for
    ``.env``, ``.env.*`` and ``*.env``; None when the name does not tell."""
    name = Path(path).name
    if name == ".env" or name.startswith(".env.") or name.endswith(".env"):
        return "dotenv"
    return FORMATS.get(Path(path).suffix.lower())


def _format_known(path: str, given: str | None) -> str:
    fmt = given or format_of(path)
    if fmt is None:
        raise ValueError(f"cannot tell the format of {path!r} from its name; set format = "
                         "\"json\", \"yaml\", \"toml\" or \"dotenv\"")
    return fmt


class FileKey(JsonCondition):
    """A key of a JSON, YAML, TOML or dotenv file: present, absent, equal to a value or not
    empty (``[[components.keys]]``). ``key`` is a dotted path (``safety.cost_limits.daily``);
    a dotenv file's keys are its variable names. Values of dotenv files and of keys named
    like secrets are never shown."""

    path: str = Field(min_length=1, description="dotted key path in the file", alias="key")
    file: str = Field(description="the file (JSON, YAML, TOML or dotenv)")
    format: Format | None = Field(default=None, description="default: from the file's name")
    tier: Tier = Field(default="standard", description="the check's tier")
    action: str | None = Field(default=None, description="the runbook's action, on failure")

    model_config = ConfigDict(extra="forbid", populate_by_name=True)

    @field_validator("file")
    @classmethod
    def _file(cls, value: str, info: ValidationInfo) -> str:
        return local_path(value, info, note=True)

    @model_validator(mode="after")
    def _known(self) -> FileKey:
        self.format = _format_known(self.file, self.format)  # type: ignore[assignment]
        return self

    @property
    def hides_values(self) -> bool:
        return self.format == "dotenv" or bool(secrets.SECRET_KEY.search(self.path))

    @property
    def name(self) -> str:
        return f"{Path(self.file).name}:{super().name}"

    def mark_names(self) -> list[str]:
        return [self.tier]


class TextMatch(BaseModel):
    """A text file must (or must not) hold a line matching a pattern
    (``[[components.text]]``)."""

    model_config = ConfigDict(extra="forbid")

    file: str = Field(description="the file, read as text")
    matches: str | None = Field(default=None, description="regex a line must match")
    not_matches: str | None = Field(default=None, description="regex no line may match")
    tier: Tier = Field(default="standard", description="the check's tier")
    action: str | None = Field(default=None, description="the runbook's action, on failure")

    @field_validator("file")
    @classmethod
    def _file(cls, value: str, info: ValidationInfo) -> str:
        return local_path(value, info, note=True)

    @field_validator("matches", "not_matches")
    @classmethod
    def _regex(cls, value: str | None) -> str | None:
        return regex(value)

    @model_validator(mode="after")
    def _one(self) -> TextMatch:
        if (self.matches is None) == (self.not_matches is None):
            raise ValueError(f"text entry for {self.file!r} needs one of matches or "
                             "not_matches")
        return self

    @property
    def pattern(self) -> str:
        return str(self.matches if self.matches is not None else self.not_matches)

    @property
    def name(self) -> str:
        sign = "~" if self.matches is not None else "!~"
        return f"{Path(self.file).name}{sign}{self.pattern}"

    def mark_names(self) -> list[str]:
        return [self.tier]


class FileLimit(BaseModel):
    """The age of the newest file matching ``path``, or the total size of all of them,
    against levels (``[[components.limits]]``)."""

    model_config = ConfigDict(extra="forbid")

    path: str = Field(description="a file or glob")
    measure: Literal["age", "size"] = Field(description="age: of the newest match; size: "
                                            "the matches' total")
    warning: Level = None
    critical: Level = None
    direction: Direction = "above"
    unit: str = Field(default="", description="age: s, min, h (default), d; size: B, KB, MB, "
                      "GB, KiB, MiB (default), GiB")
    tier: Tier = Field(default="standard", description="the check's tier")
    action: str | None = Field(default=None, description="the runbook's action, on failure")

    @field_validator("path")
    @classmethod
    def _path(cls, value: str, info: ValidationInfo) -> str:
        return local_path(value, info, note=True)

    @model_validator(mode="after")
    def _levels(self) -> FileLimit:
        units = AGE_UNITS if self.measure == "age" else SIZE_UNITS
        self.unit = self.unit or ("h" if self.measure == "age" else "MiB")
        if self.unit not in units:
            raise ValueError(f"limit on {self.path!r}: unit {self.unit!r} is not one of "
                             f"{', '.join(units)}")
        if self.warning is None and self.critical is None:
            raise ValueError(f"limit on {self.path!r} needs warning or critical")
        self.threshold()
        return self

    @property
    def scale(self) -> float:
        return (AGE_UNITS if self.measure == "age" else SIZE_UNITS)[self.unit]

    @property
    def name(self) -> str:
        return f"{Path(self.path).name}:{self.measure}"

    def threshold(self) -> Threshold:
        return Threshold(warning=self.warning, critical=self.critical,
                         direction=self.direction, unit=self.unit, action=self.action)

    def mark_names(self) -> list[str]:
        return [self.tier]


class GitRepo(BaseModel):
    """A git working tree (a path, or a glob of several): clean, sound, and optionally on an
    expected branch with a recent last commit."""

    model_config = ConfigDict(extra="forbid")

    path: str = Field(description="the working tree, or a glob of them (/tmp/worktrees/*)")
    branch: str | None = Field(default=None, description=(
        "the branch HEAD must be on; \"*\": any branch, but not a detached HEAD; unset: "
        "not checked"))
    commit_age: Threshold | None = Field(default=None, description=(
        "levels on the last commit's age ({ warning = 24, critical = 48 }, unit h)"))
    clean: bool = Field(default=True, description=(
        "the tree must be clean (false for working trees agents write in)"))

    @field_validator("path")
    @classmethod
    def _path(cls, value: str, info: ValidationInfo) -> str:
        return local_path(value, info, note=True)

    @field_validator("commit_age", mode="before")
    @classmethod
    def _hours(cls, value: Any) -> Any:
        return {"unit": "h", **value} if isinstance(value, dict) else value

    @property
    def name(self) -> str:
        return self.path

    def __str__(self) -> str:
        return self.path


class FilesThresholds(Thresholds):
    """Checkpoint age: the runbooks name no level; a day without a checkpoint is the default."""

    checkpoint_age: Threshold = level(None, 24, "h", action=(
        "Checkpoints stopped: check the orchestrator's log and its checkpoint level "
        "(WAVE: CHECKPOINT_LEVEL), then restart it"))


class FilesComponent(Component):
    kind: Literal["files"] = "files"
    ITEMS: ClassVar[dict[str, str]] = {
        "state_file": "parse", "checkpoint_dir": "checkpoints", "repo": "git", "git_repo": "git",
        "git_head": "git", "git_commit": "git", "existing": "exists", "file_key": "keys",
        "text_match": "text", "file_limit": "limits"}

    emergency_stop: str | None = Field(
        default=None, description="file whose presence halts the system (default: "
        "[system].emergency_stop), e.g. ${PROJECT_PATH}/.claude/EMERGENCY-STOP")
    parse: list[str] = Field(default_factory=list, description=(
        "JSON, YAML, TOML or dotenv files that must exist and parse (by name: .json .yaml "
        ".yml .toml, .env and .env.*), e.g. .orchestrator-state.json"))
    exists: list[str] = Field(default_factory=list, description=(
        "files (any format) or globs that must match at least one file, e.g. "
        "config/redis.conf, workspace-*/memory"))
    keys: list[FileKey] = Field(default_factory=list, description=(
        "keys of JSON/YAML/TOML/dotenv files: present, absent, equal or not empty "
        "([[components.keys]])"))
    text: list[TextMatch] = Field(default_factory=list, description=(
        "text files that must or must not hold a line matching a pattern ([[components.text]])"))
    limits: list[FileLimit] = Field(default_factory=list, description=(
        "file age or size against levels ([[components.limits]])"))
    checkpoints: list[str] = Field(default_factory=list, description=(
        "folders whose newest entry must be younger than thresholds.checkpoint_age; an empty "
        "folder is judged by how long it has been empty (a fresh install passes, a folder "
        "left empty for longer fails); one holding entries but no checkpoint fails"))
    checkpoint_pattern: str = Field(default="*", description="glob of checkpoint entries "
                                    "('*' matches hidden entries too)")
    git: list[GitRepo] = Field(default_factory=list, description=(
        "git working trees (paths or globs, or tables with path, branch, commit_age) that "
        "must be clean and pass git fsck (deep), on their branch, with a recent commit"))
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
            if format_of(path) is None:
                raise ValueError(f"cannot tell the format of {path!r} from its name; "
                                 f"name files ending in {', '.join(FORMATS)}, or .env; list "
                                 "other files under exists")
        return [local_path(p, info, note=True) for p in value]

    @field_validator("git", mode="before")
    @classmethod
    def _git_tables(cls, value: Any) -> Any:
        return [{"path": v} if isinstance(v, str) else v for v in value] \
            if isinstance(value, list) else value

    @field_validator("checkpoints", "exists")
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

    def items(self, argname: str) -> list[Any]:
        """The git entries a clean-tree, head or commit-age check applies to: those that ask
        for it (``repo``: clean trees; ``git_repo``: every entry)."""
        if argname == "repo":
            return [r for r in self.git if r.clean]
        if argname == "git_head":
            return [r for r in self.git if r.branch]
        if argname == "git_commit":
            return [r for r in self.git if r.commit_age is not None]
        return super().items(argname)

    @property
    def address(self) -> str:
        return "local files"
