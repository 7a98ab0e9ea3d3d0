"""A file task queue: one folder per state, one JSON file per task (Agentic Factory runbook).

This model is the inventory's description of one queue, its :class:`Layout` and its
thresholds; the reading of tasks is :mod:`opscheck.targets.queue`'s.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import ClassVar, Literal

from pydantic import Field, ValidationInfo, field_validator, model_validator

from opscheck.components import Component
from opscheck.paths import local_path
from opscheck.thresholds import Threshold, Thresholds, level

#: the Agentic Factory runbook's state folders, in the order a task moves through them
STATES = ("backlog", "ready", "in-progress", "review", "done", "failed")


@dataclass(frozen=True)
class Layout:
    """Where a queue's folders are. Role fields name a folder of ``folders``."""

    root: Path
    folders: tuple[str, ...] = STATES
    ready: str = "ready"
    in_progress: str = "in-progress"
    failed: str = "failed"
    dead_letter: str = "failed"
    paused: str = "paused"  # created by "pause queue"; not required to exist
    pattern: str = "*.json"
    attempt_field: str = "attempt"


ROLES = ("ready", "in_progress", "failed", "dead_letter")


class QueueThresholds(Thresholds):
    """The Agentic Factory runbook's alert table (AF §4.3) and stuck-task ages (AF §6.4).

    The runbook's "> 50" on a whole count is "≥ 51" here (levels are inclusive).
    """

    ready_depth: Threshold = level(None, 51, "tasks", action=(
        "Queue backing up: check the agents are claiming work (openclaw gateway status)"))
    failed_24h: Threshold = level(None, 11, "tasks", action=(
        "Many failures: read the failed tasks' JSON for the common cause"))
    dead_letter: Threshold = level(None, 1, "tasks", action=(
        "Dead-lettered tasks need a human: review queue/failed/ and requeue or close them"))
    in_progress_age: Threshold = level(None, 120, "min", action=(
        "Stuck tasks (agent crashed?): requeue them, mv in-progress/<task>.json ready/"))
    ready_age: Threshold = level(None, 60, "min", action=(
        "Tasks waiting too long: check agents are alive and claiming work"))
    attempts: Threshold = level(None, 2, "attempts", action=(
        "Retry loop: read the task's errors; move it to failed/ if it cannot succeed"))


class QueueComponent(Component):
    kind: Literal["queue"] = "queue"
    ITEMS: ClassVar[dict[str, str]] = {"folder": "folders"}

    root: str = Field(description="the queue's root folder, e.g. /home/adam/agents/shared/queue")
    folders: list[str] = Field(default_factory=lambda: list(STATES), description=(
        "state folders that must exist under root"))
    ready: str = Field(default="ready", description="folder of tasks waiting for an agent")
    in_progress: str = Field(default="in-progress", description="folder of claimed tasks")
    failed: str = Field(default="failed", description="folder of failed tasks")
    dead_letter: str = Field(default="failed", description="folder of tasks needing a human")
    paused: str = Field(default="paused", description="where 'pause queue' parks ready tasks")
    pattern: str = Field(default="*.json", description="glob of task files")
    attempt_field: str = Field(default="attempt", description="task JSON key of the attempt count")
    thresholds: QueueThresholds = Field(default_factory=QueueThresholds)

    @field_validator("root")
    @classmethod
    def _root(cls, value: str, info: ValidationInfo) -> str:
        return local_path(value, info, note=True)

    @field_validator("folders")
    @classmethod
    def _folder_names(cls, value: list[str]) -> list[str]:
        for name in value:
            if not name or "/" in name or name in (".", ".."):
                raise ValueError(f"folder {name!r} must be one folder name under root, "
                                 "without '/'")
        return value

    @field_validator("pattern")
    @classmethod
    def _pattern(cls, value: str) -> str:
        if not value.strip() or value.startswith("/"):
            raise ValueError(f"pattern {value!r} must be a glob under each folder, e.g. "
                             "\"*.json\"")
        return value

    @model_validator(mode="after")
    def _roles_listed(self) -> QueueComponent:
        for role in ROLES:
            name = getattr(self, role)
            if name not in self.folders:
                raise ValueError(f"{role} = {name!r} is not one of folders "
                                 f"{self.folders}; add it to folders or fix {role}")
        return self

    def layout(self) -> Layout:
        return Layout(root=Path(self.root), folders=tuple(self.folders), ready=self.ready,
                      in_progress=self.in_progress, failed=self.failed,
                      dead_letter=self.dead_letter, paused=self.paused, pattern=self.pattern,
                      attempt_field=self.attempt_field)

    @property
    def address(self) -> str:
        return self.root
