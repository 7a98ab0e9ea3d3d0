"""A file every backup folder of a set holds, in a known format (``[[components.members]]``).

A set of dated folders (``format = "folder"``, ``pattern = "2026-*"``) is made by one job
that writes several backups into each folder: a SQLite copy, a gzipped pg_dump, a Redis RDB,
a copied folder. Each is a member::

    [[components.members]]
    path = "timescaledb.sql.gz"       # inside each folder; a glob matches several
    format = "pg_plain"               # read through, and restored (deep), by this format
    source = "factory-timescaledb"    # the live component the deep restore compares with
    tables = ["events"]

The newest folder must hold each member, not empty and not cut short against the same
member of the folder before (critical); each reads through with its format's tool
(standard); each restores into scratch where its format restores (deep).
"""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field, field_validator

from opscheck.components import plain

#: the member formats (a set's formats, but folder sets do not nest)
MEMBER_FORMATS = ("pg_custom", "pg_plain", "sqlite", "redis_rdb", "tar", "gzip", "folder",
                  "file")


class Member(BaseModel):
    """One file (or folder) each backup folder holds, and its format."""

    model_config = ConfigDict(extra="forbid")

    path: str = Field(min_length=1, description="path inside each backup folder, e.g. "
                      "timescaledb.sql.gz or agent-memory; a glob may match several")
    format: str = Field(description="pg_custom, pg_plain, sqlite, redis_rdb, tar, gzip, "
                        "folder, or file (any readable file)")
    source: str | None = Field(default=None, description="the live component the deep "
                               "restore compares with (postgres, sqlite or redis, by format)")
    tables: list[str] = Field(default_factory=list, description="tables whose row counts the "
                              "deep restore compares with the source")
    expected_files: list[str] = Field(default_factory=list, description="tar or folder: "
                                      "paths (globs) it must hold, parsed in the deep check")
    min_bytes: int = Field(default=1, ge=1, description="a smaller member is empty")

    @field_validator("path")
    @classmethod
    def _relative(cls, value: str) -> str:
        value = plain(value, "path")
        if value.startswith("/") or ".." in value.split("/"):
            raise ValueError(f"path {value!r} must lie inside the backup folder: write it "
                             "relative to the folder, without '..'")
        return value.rstrip("/")

    @field_validator("format")
    @classmethod
    def _format(cls, value: str) -> str:
        if value not in MEMBER_FORMATS:
            raise ValueError(f"format {value!r} is not a member format; use one of "
                             f"{', '.join(MEMBER_FORMATS)}")
        return value

    @property
    def name(self) -> str:
        """The member's id: its path (``factory-backup:timescaledb.sql.gz``)."""
        return self.path
