"""Prometheus, through its HTTP API: health, scrape targets, and PromQL probes.

A probe is declared per component (``[[components.queries]]``) and becomes one parametrized
check carrying its own tier (``tier = "critical"`` runs under ``-m critical``)::

    [[components.queries]]
    name = "gpu-memory"            # id: wave-prometheus:gpu-memory
    expr = "nvidia_gpu_memory_used_bytes / 1e9"
    type = "sustained"             # instant | sustained | alert | exists
    window = "10m"                 # every sample over the last 10 minutes ...
    min_samples = 30               # ... and at least 30 of them, or it cannot judge
    critical = 23
    unit = "GB"
    action = "Find the process holding VRAM"
"""

from __future__ import annotations

import re
from typing import ClassVar, Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from opscheck.components import identifier
from opscheck.components.http import HttpClientSettings
from opscheck.thresholds import Direction, Level, Threshold

DURATION = re.compile(r"^(\d+(ms|s|m|h|d|w|y))+$")
UNIT_SECONDS = {"ms": 0.001, "s": 1, "m": 60, "h": 3600, "d": 86400, "w": 604800,
                "y": 31536000}
FIRING = 'ALERTS{alertstate="firing"}'
ProbeType = Literal["instant", "sustained", "alert", "exists"]


def seconds(duration: str) -> float:
    """Seconds in a Prometheus duration: ``10m`` -> 600, ``1h30m`` -> 5400."""
    return sum(int(n) * UNIT_SECONDS[u] for n, u in re.findall(r"(\d+)(ms|s|m|h|d|w|y)",
                                                                duration))


class PromQuery(BaseModel):
    """One PromQL probe: its expression, how to judge it, its levels and its tier."""

    model_config = ConfigDict(extra="forbid")

    name: str = Field(description="id of the probe within its component")
    expr: str | None = Field(default=None, description="PromQL expression")
    type: ProbeType = Field(default="instant", description="instant: the value now; sustained: "
                            "every sample over window; alert: firing alerts; exists: any series")
    window: str | None = Field(default=None, description="sustained: look-back, e.g. 10m")
    step: str | None = Field(default=None, description="sustained: sample step for expressions "
                             "(default: the server's evaluation interval)")
    min_samples: int | None = Field(default=None, ge=1, description="sustained: fewest samples "
                                    "in the window that can judge it")
    warning: Level = None
    critical: Level = None
    direction: Direction = "above"
    unit: str = ""
    action: str | None = None
    tier: Literal["critical", "standard", "deep"] = "standard"
    description: str = ""

    @field_validator("name")
    @classmethod
    def _name_shape(cls, value: str) -> str:
        return identifier(value, "probe name")

    @field_validator("window", "step")
    @classmethod
    def _duration(cls, value: str | None) -> str | None:
        if value is not None and (not DURATION.match(value) or seconds(value) <= 0):
            raise ValueError(f"{value!r} is not a Prometheus duration; write it like \"10m\", "
                             "\"30s\" or \"1h30m\"")
        return value

    @model_validator(mode="after")
    def _complete(self) -> PromQuery:
        where = f"probe {self.name!r} ({self.type})"
        if self.type == "alert":
            self.expr = self.expr or FIRING
            if self.warning is None and self.critical is None:
                self.critical = 1  # one firing alert fails the check
        elif not self.expr:
            raise ValueError(f"{where} needs expr = \"<PromQL>\"")
        if self.type in ("instant", "sustained") and self.warning is None \
                and self.critical is None:
            raise ValueError(f"{where} needs warning or critical (or both) to judge its value")
        if self.type == "sustained" and (self.window is None or self.min_samples is None):
            raise ValueError(f"{where} needs window (e.g. \"10m\") and min_samples (the fewest "
                             "samples that can judge it, e.g. 30 for 10m scraped every 15s)")
        if self.type != "sustained" and (self.window or self.step or self.min_samples):
            raise ValueError(f"{where}: window, step and min_samples apply to type = "
                             "\"sustained\" only; remove them or change the type")
        if self.type == "sustained" and not self.threshold().numeric:
            raise ValueError(f"{where}: a level held for a whole window is held in one "
                             "direction; give numbers, not a range")
        return self

    def threshold(self) -> Threshold:
        return Threshold(warning=self.warning, critical=self.critical,
                         direction=self.direction, unit=self.unit, action=self.action)

    def mark_names(self) -> list[str]:
        """The probe's tier, as a marker name: its check runs under ``-m <tier>``."""
        return [self.tier]


class PrometheusComponent(HttpClientSettings):
    kind: Literal["prometheus"] = "prometheus"
    ITEMS: ClassVar[dict[str, str]] = {"query": "queries"}

    url: str = Field(description="base URL of the server, e.g. http://localhost:9090")
    min_targets: int = Field(default=1, ge=0, description="fewest active scrape targets")
    queries: list[PromQuery] = Field(default_factory=list,
                                     description="PromQL probes ([[components.queries]])")

    @field_validator("queries")
    @classmethod
    def _unique_names(cls, queries: list[PromQuery]) -> list[PromQuery]:
        seen: set[str] = set()
        for q in queries:
            if q.name in seen:
                raise ValueError(f"two probes are named {q.name!r}; give each a unique name")
            seen.add(q.name)
        return queries

    @property
    def api(self) -> str:
        return self.url.rstrip("/")
