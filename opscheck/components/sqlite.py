"""An SQLite database file: the coordination and orchestrator databases."""

from __future__ import annotations

from pathlib import Path
from typing import ClassVar, Literal

from pydantic import Field, ValidationInfo, field_validator

from opscheck.components import Component, plain
from opscheck.thresholds import Threshold, Thresholds, level

JournalMode = Literal["wal", "delete", "truncate", "persist", "memory", "off"]


class SqliteThresholds(Thresholds):
    """File sizes from the coding-loops runbook: warning 500 MB, critical 1 GB."""

    size: Threshold = level(500, 1024, "MB", action="Archive old rows and VACUUM "
                            "(pause the loops first)")
    wal_size: Threshold = level(100, 500, "MB", action="A reader holds the WAL open or "
                                "checkpoints fail: find it, then PRAGMA wal_checkpoint")


class SqliteComponent(Component):
    kind: Literal["sqlite"] = "sqlite"
    PROBES: ClassVar[tuple[str, ...]] = ("value", "rows")

    path: Path = Field(description="the database file (relative to the inventory's folder)")
    journal_mode: JournalMode | None = Field(
        default=None, description="the expected PRAGMA journal_mode (coding loops: wal)")
    thresholds: SqliteThresholds = Field(default_factory=SqliteThresholds)

    @field_validator("path", mode="before")
    @classmethod
    def _given(cls, value: object) -> object:
        if isinstance(value, str) and not value.strip():
            raise ValueError("path is empty; write the database file's path")
        return plain(value, "path") if isinstance(value, str) else value

    @field_validator("path")
    @classmethod
    def _resolve(cls, value: Path, info: ValidationInfo) -> Path:
        value = value.expanduser()
        base = (info.context or {}).get("base")
        if not value.is_absolute() and base is not None:
            value = Path(base) / value
        return value

    def query_problem(self, query: str) -> str | None:
        """Why ``query`` may not run as a probe (not one reading statement), or None; at run
        time SQLite's authorizer judges what it does (:mod:`opscheck.readonly.sqlite`)."""
        from opscheck.readonly.sqlite import statement_problem

        return statement_problem(query)

    @property
    def address(self) -> str:
        return str(self.path)
