"""The model of a log signal (``[[components.logs]]``): a source, a pattern, a window, a
judgement, its levels and its tier."""

from __future__ import annotations

import re
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from opscheck.components import identifier, regex
from opscheck.logs.stamps import FORMATS, zone
from opscheck.thresholds import Direction, Level, Threshold

DURATION = re.compile(r"^(\d+(?:\.\d+)?)(s|m|min|h|d)$")
SECONDS = {"s": 1, "m": 60, "min": 60, "h": 3600, "d": 86400}
AGE_UNITS = {"s": 1, "min": 60, "h": 3600, "d": 86400}
Judgement = Literal["count", "newest", "absent", "present"]
Tier = Literal["critical", "standard", "deep"]


def seconds(duration: str) -> float:
    """``5m`` -> 300, ``2h`` -> 7200, ``1.5d`` -> 129600."""
    m = DURATION.match(duration)
    if m is None:
        raise ValueError(f"{duration!r} is not a duration; write it like \"5m\", \"2h\" or "
                         "\"1d\"")
    return float(m.group(1)) * SECONDS[m.group(2)]


class LogSignal(BaseModel):
    """One log signal: lines of a source matching ``pattern`` within ``window``, judged."""

    model_config = ConfigDict(extra="forbid")

    name: str = Field(description="id of the check within its component")
    files: list[str] = Field(default_factory=list, description=(
        "host: log files or globs (/var/log/app/*.log); rotated siblings .1 and .N.gz are "
        "read when the window reaches back into them"))
    unit: str | None = Field(default=None, description="host: the systemd unit whose journal "
                             "is read (journalctl -u)")
    journal_directory: str | None = Field(default=None, description=(
        "host: read the journal files of this folder (journalctl -D), e.g. "
        "/var/log/journal/remote"))
    container: str | None = Field(default=None, description="docker: the container whose "
                                  "logs are read (Engine API, with the engine's timestamps)")
    pattern: str = Field(description="regular expression (Python) searched in each line")
    type: Judgement = Field(default="count", description=(
        "count: matching lines in the window against levels; newest: age of the newest "
        "matching line against levels; absent: no line may match; present: a line must match"))
    window: str = Field(default="1h", description="how far back from now: 5m, 2h, 1d")
    timestamp: str = Field(default="iso", description=(
        "how a line's time is read: iso, syslog, epoch, clf, or mtime (every line dated by "
        "its file's modification time). Lines without one belong to the stamped line above "
        "them; a file with none is refused. Journal and container lines carry their own"))
    timezone: str = Field(default="local", description="zone of times written without one: "
                          "local (opscheck's machine), UTC, or an IANA name")
    rotated: bool = Field(default=True, description="files: follow rotated siblings")
    timeout: float | None = Field(default=None, gt=0, le=3600, description=(
        "seconds the whole read may take (default: the component's timeout)"))
    max_read: int = Field(default=256 * 1_048_576, ge=4096, description=(
        "bytes read at most; a window that reaches back further could not be judged"))
    warning: Level = None
    critical: Level = None
    direction: Direction = "above"
    age_unit: Literal["s", "min", "h", "d"] = Field(default="min", description=(
        "newest: the unit of its levels"))
    tier: Tier = Field(default="standard", description="the check's tier marker")
    description: str = ""
    action: str | None = Field(default=None, description="the runbook's action, shown on "
                               "failure")

    @field_validator("name")
    @classmethod
    def _name(cls, value: str) -> str:
        return identifier(value, "log signal name")

    @field_validator("pattern")
    @classmethod
    def _pattern(cls, value: str) -> str:
        return regex(value, "pattern")

    @field_validator("files")
    @classmethod
    def _paths(cls, value: list[str]) -> list[str]:
        for path in value:
            if not (path.startswith("/") or path.startswith("~/")):
                raise ValueError(f"log file {path!r} must be absolute (or start with ~/, the "
                                 "host user's home): it is read on the host")
        return value

    @field_validator("window")
    @classmethod
    def _window(cls, value: str) -> str:
        if seconds(value) <= 0:
            raise ValueError(f"window {value!r} must be longer than 0")
        return value

    @field_validator("timestamp")
    @classmethod
    def _timestamp(cls, value: str) -> str:
        if value not in FORMATS:
            raise ValueError(f"timestamp {value!r} is not one of {', '.join(FORMATS)}")
        return value

    @field_validator("timezone")
    @classmethod
    def _zone(cls, value: str) -> str:
        zone(value)
        return value

    @model_validator(mode="after")
    def _complete(self) -> LogSignal:
        where = f"log signal {self.name!r}"
        sources = [k for k in ("files", "unit", "container") if getattr(self, k)]
        if len(sources) != 1:
            raise ValueError(f"{where} needs one source: files = [...] or unit = \"...\" on a "
                             "host, container = \"...\" on a docker engine")
        if self.journal_directory and not self.unit:
            raise ValueError(f"{where}: journal_directory goes with unit")
        levels = self.warning is not None or self.critical is not None
        if self.type in ("count", "newest") and not levels:
            raise ValueError(f"{where} ({self.type}) needs warning or critical to judge it")
        if self.type in ("absent", "present") and levels:
            raise ValueError(f"{where} ({self.type}) takes no levels; use type = \"count\"")
        for level in (self.warning, self.critical):
            if self.type == "newest" and isinstance(level, float | int) and \
                    level * AGE_UNITS[self.age_unit] > self.seconds:  # a band: its own ends
                raise ValueError(f"{where}: level {level:g} {self.age_unit} reaches past the "
                                 f"window {self.window}; widen the window")
        self.threshold()
        return self

    @property
    def seconds(self) -> float:
        return seconds(self.window)

    @property
    def source(self) -> str:
        """The source in words: ``/var/log/x.log``, ``journal of litellm``, ``container x``."""
        if self.unit:
            return f"journal of {self.unit}"
        if self.container:
            return f"container {self.container} logs"
        return ", ".join(self.files)

    def threshold(self) -> Threshold:
        unit = self.age_unit if self.type == "newest" else "lines"
        return Threshold(warning=self.warning, critical=self.critical,
                         direction=self.direction, unit=unit, action=self.action)

    def mark_names(self) -> list[str]:
        """The entry's tier, as a marker name: its check runs under ``-m <tier>``."""
        return [self.tier]
