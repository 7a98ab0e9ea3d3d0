"""A backup set: a folder of backups of one kind, made on a schedule, kept for a retention.

One component per set (``wave-postgres-backup``): where the backups lie (``dir`` and a glob
``pattern``), their ``format``, the live component they back up (``source``) and the
schedule's promises: the newest no older than ``max_age_hours``, at least ``keep_min``
kept, none past ``retention_days``. Deep checks restore into scratch (a temporary folder,
or a throwaway PostgreSQL database on ``restore_dsn``) within ``scratch_budget_mb`` and
``restore_timeout``.

A set may lie in S3: ``dir = "s3://bucket/prefix/"`` with ``aws = "<an aws component>"``,
whose region, endpoint and credentials chain reach the bucket. Its backups are the objects
(and first-level "folders") under the prefix; ages are LastModified. Reading one through,
or restoring it, first downloads it into scratch within ``scratch_budget_mb``.

A set of dated folders (``format = "folder"``) lists the files each folder holds as
``members`` (:class:`Member`), each with its own format: each is
checked present in the newest folder, read through and restored by its format.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any, ClassVar, Literal

from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    PrivateAttr,
    ValidationInfo,
    field_validator,
    model_validator,
)

from opscheck.components import Component, plain

Format = Literal["pg_custom", "pg_plain", "sqlite", "redis_rdb", "tar", "gzip", "folder"]

#: the kind of live component each format backs up (None: files, no live source)
SOURCE_KIND: dict[str, str | None] = {
    "pg_custom": "postgres", "pg_plain": "postgres", "sqlite": "sqlite", "redis_rdb": "redis",
    "tar": None, "gzip": None, "folder": None, "file": None,
}
S3_URL = re.compile(r"^s3://(?P<bucket>[a-z0-9][a-z0-9.-]{1,61}[a-z0-9])(/(?P<prefix>.*))?$")
TABLE = re.compile(r"^[A-Za-z_][A-Za-z0-9_$]*(\.[A-Za-z_][A-Za-z0-9_$]*)?$")


#: the member formats (a set's formats, but folder sets do not nest)
MEMBER_FORMATS = ("pg_custom", "pg_plain", "sqlite", "redis_rdb", "tar", "gzip", "folder",
                  "file")


class Member(BaseModel):
    """One file (or folder) each backup folder of a folder set holds, and its format::

        [[components.members]]
        path = "timescaledb.sql.gz"       # inside each folder; a glob matches several
        format = "pg_plain"               # read through, and restored (deep), by this format
        source = "factory-timescaledb"    # the live component the deep restore compares with
        tables = ["events"]
    """

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


class BackupComponent(Component):
    kind: Literal["backup"] = "backup"
    SECRET_VARS: ClassVar[tuple[str, ...]] = ("restore_password_env",)
    ITEMS: ClassVar[dict[str, str]] = {"member": "members"}

    dir: str = Field(description="folder holding the backups (relative: to the inventory), or "
                     "s3://bucket/prefix/ (then set aws)")
    aws: str | None = Field(default=None, description="s3:// sets: name of the aws component "
                            "(region, endpoint, credentials) that reaches the bucket")
    pattern: str = Field(default="*", description="glob of the backups' names in dir")
    format: Format = Field(description="pg_custom, pg_plain, sqlite, redis_rdb, tar, gzip, folder")
    source: str | None = Field(default=None, description="name of the live component backed up")
    max_age_hours: float = Field(default=26, gt=0, description="newest backup at most this old")
    min_bytes: int = Field(default=1, ge=1, description="a smaller newest backup is empty")
    min_size_ratio: float = Field(default=0.5, gt=0, le=1,
                                  description="newest size at least this share of the previous")
    keep_min: int = Field(default=1, ge=1, description="at least this many backups kept")
    keep_max: int | None = Field(default=None, ge=1, description="at most this many kept")
    retention_days: float | None = Field(default=None, gt=0,
                                         description="no backup kept longer than this")
    manifest: str | None = Field(default=None,
                                 description="sha256sum file(s) in dir, a name or a glob")
    verify_last: int = Field(default=1, ge=1, description="newest backups read through")
    tables: list[str] = Field(default_factory=list,
                              description="tables whose row counts the deep check compares")
    row_tolerance_pct: float = Field(default=5, ge=0, le=100,
                                     description="allowed row count difference, % of live")
    expected_files: list[str] = Field(default_factory=list,
                                      description="paths (globs) a tar or folder must contain")
    members: list[Member] = Field(default_factory=list, description="folder sets: the files "
                                  "each backup folder holds, each with its format (present, "
                                  "read through, restored) ([[components.members]])")
    restore_dsn: str | None = Field(default=None,
                                    description="PostgreSQL server for the scratch database")
    restore_password_env: str | None = Field(default=None,
                                             description="variable holding its password")
    scratch_dir: str | None = Field(default=None, description="where scratch folders go")
    scratch_budget_mb: float = Field(default=2048, gt=0, description="scratch disk budget, MB")
    restore_timeout: float = Field(default=600, gt=0, le=86400,
                                   description="deep restore-and-compare limit, seconds")
    pg_bindir: str | None = Field(default=None, description="folder of pg_restore and psql")
    _source: Component | None = PrivateAttr(default=None)
    _aws: Component | None = PrivateAttr(default=None)
    _member_sources: dict[str, Component] = PrivateAttr(default_factory=dict)

    @field_validator("dir", "scratch_dir", "pg_bindir")
    @classmethod
    def _absolute(cls, value: str | None, info: ValidationInfo) -> str | None:
        if value is None:
            return None
        if not value.strip():
            raise ValueError(f"{info.field_name} is empty; write the folder's path")
        if value.startswith("s3://") and info.field_name == "dir":
            match = S3_URL.match(value)
            if not match:
                raise ValueError(f"{value!r} is not an S3 location; write it like "
                                 "\"s3://bucket/prefix/\" (bucket: 3-63 lower-case letters, "
                                 "digits, '.', '-')")
            prefix = (match["prefix"] or "").lstrip("/")
            return f"s3://{match['bucket']}/" + (prefix.rstrip("/") + "/" if prefix else "")
        path = Path(plain(value, str(info.field_name))).expanduser()
        base = (info.context or {}).get("base")
        if not path.is_absolute() and base is not None:
            path = Path(base) / path
        return str(path)

    @field_validator("pattern", "manifest")
    @classmethod
    def _plain_glob(cls, value: str | None) -> str | None:
        if value is not None and ("/" in value or not value.strip()):
            raise ValueError(f"{value!r} must be a file name or glob inside dir, without '/'; "
                             "put the folder in dir")
        return value

    @field_validator("tables")
    @classmethod
    def _tables(cls, value: list[str]) -> list[str]:
        return _table_names(value)

    @model_validator(mode="after")
    def _consistent(self, info: ValidationInfo) -> BackupComponent:
        wants = SOURCE_KIND[self.format]
        if self.source is not None:
            if wants is None:
                raise ValueError(f"source: format {self.format} backs up files, not a live "
                                 "component; remove source")
            found = _entry_kind(info, self.source)
            if found is None:
                raise ValueError(f"source: no component named {self.source!r} in this "
                                 f"inventory; name the {wants} component this set backs up")
            if found != wants:
                raise ValueError(f"source: {self.source!r} is a {found} component, but a "
                                 f"{self.format} backup needs a {wants} one; fix source or format")
        if self.tables and self.source is None:
            raise ValueError("tables: comparing row counts needs the live source; set source")
        if self.expected_files and self.format not in ("tar", "folder"):
            raise ValueError(f"expected_files: only for format tar or folder, not {self.format}")
        postgres = wants == "postgres" or any(SOURCE_KIND[m.format] == "postgres"
                                              for m in self.members)
        if self.restore_dsn and not postgres:
            raise ValueError(f"restore_dsn: only for PostgreSQL dumps, not {self.format}")
        self._members_consistent(info)
        if self.s3 is not None:
            if self.aws is None:
                raise ValueError(f"aws: an s3:// set needs the aws component that reaches "
                                 f"{self.dir}; set aws = \"<its name>\"")
            found = _entry_kind(info, self.aws)
            if found != "aws":
                raise ValueError(f"aws: {self.aws!r} is " + (
                    f"a {found} component" if found else "no component of this inventory")
                    + "; name the aws component that reaches the bucket")
        elif self.aws is not None:
            raise ValueError(f"aws: only for s3:// sets, and dir is the folder {self.dir}; "
                             "remove aws")
        if self.keep_max is not None and self.keep_max < self.keep_min:
            raise ValueError(f"keep_max {self.keep_max} is below keep_min {self.keep_min}; "
                             "raise keep_max or lower keep_min")
        return self

    def _members_consistent(self, info: ValidationInfo) -> None:
        if self.members and self.format != "folder":
            raise ValueError(f"members: only a set of folders holds members, and format is "
                             f"{self.format}; set format = \"folder\" or remove members")
        seen: set[str] = set()
        for m in self.members:
            where = f"members: {m.path!r}"
            if m.path in seen:
                raise ValueError(f"{where} is listed twice; list each member once")
            seen.add(m.path)
            wants = SOURCE_KIND[m.format]
            if m.source is not None:
                found = _entry_kind(info, m.source)
                if wants is None or found != wants:
                    raise ValueError(f"{where}: source {m.source!r} is " + (
                        f"a {found} component" if found else "no component of this inventory")
                        + (f", and a {m.format} member backs up no live component; remove "
                           "source" if wants is None else f"; name the {wants} component "
                           f"this {m.format} member backs up"))
            if m.tables and m.source is None:
                raise ValueError(f"{where}: tables need the live source; set source")
            if m.expected_files and m.format not in ("tar", "folder"):
                raise ValueError(f"{where}: expected_files only for format tar or folder")
            _table_names(m.tables)

    def link(self, components: dict[str, Component]) -> None:
        self._source = components.get(self.source) if self.source else None
        self._aws = components.get(self.aws) if self.aws else None
        self._member_sources = {m.path: components[m.source] for m in self.members
                                if m.source and m.source in components}

    def member_source(self, member: Member) -> Component | None:
        """The live component ``member`` backs up (set when the inventory loads), or None."""
        return self._member_sources.get(member.path)

    @property
    def s3(self) -> tuple[str, str] | None:
        """(bucket, prefix) of an s3:// set (the prefix "" or ending in "/"), else None."""
        match = S3_URL.match(self.dir)
        return (match["bucket"], match["prefix"] or "") if match else None

    @property
    def aws_component(self) -> Component | None:
        """The aws component that reaches an s3:// set's bucket, or None."""
        return self._aws

    @property
    def source_component(self) -> Component | None:
        """The live component this set backs up (set when the inventory loads), or None."""
        return self._source

    @property
    def address(self) -> str:
        return f"{self.dir.rstrip('/')}/{self.pattern}"


def _entry_kind(info: ValidationInfo, name: str) -> str | None:
    """The kind of the inventory entry called ``name`` (raw tables, any order), or None."""
    entries: Any = (info.context or {}).get("entries") or []
    for entry in entries if isinstance(entries, list) else []:
        if isinstance(entry, dict) and entry.get("name") == name:
            return str(entry.get("kind"))
    return None


def _table_names(value: list[str]) -> list[str]:
    for table in value:
        if not TABLE.match(table):
            raise ValueError(f"table {table!r} is not a plain name; write table or "
                             "schema.table (letters, digits, _)")
    return value
