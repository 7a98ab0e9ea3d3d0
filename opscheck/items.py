"""Entries of a component's item lists that carry their own tier and levels.

A model lists items in ``ITEMS`` (``{"query": "queries"}``); each entry becomes one check,
``wave-prometheus:error-rate``. An entry that is an :class:`Item` brings its tier to its
check (``mark_names()``, read by :mod:`opscheck.collect`: ``tier = "critical"`` runs under
``-m critical``); an entry that is :class:`Levels` is also held against a warning and a
critical level (numbers or Nagios-style bands, :mod:`opscheck.thresholds`).
"""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from opscheck.components import identifier
from opscheck.thresholds import Direction, Level, Threshold

Tier = Literal["critical", "standard", "deep"]


class Item(BaseModel):
    """An entry of one of the component's item lists: an id, and its tier when it has one."""

    model_config = ConfigDict(extra="forbid")

    tier: Tier = Field(default="standard", description="the tier its check runs under")
    action: str | None = Field(default=None, description="the runbook's action, shown on failure")
    description: str = Field(default="", description="free text")

    def mark_names(self) -> list[str]:
        """The item's tier, as a marker name: its check runs under ``-m <tier>``."""
        return [self.tier]


class Levels(Item):
    """An item held against a warning and a critical level."""

    warning: Level = Field(default=None, description="warning level (passes, with a warning): "
                           "a number, or a range such as \"10:20\"")
    critical: Level = Field(default=None, description="critical level (fails the check): a "
                            "number, or a range such as \"10:20\"")
    direction: Direction = Field(default="above", description="above: high is bad; below: low "
                                 "is bad (a success rate); a range ignores it")
    unit: str = Field(default="", description="unit shown with the value: %, h, USD")

    def threshold(self) -> Threshold:
        return Threshold(warning=self.warning, critical=self.critical, direction=self.direction,
                         unit=self.unit, action=self.action)

    @model_validator(mode="after")
    def _judged(self) -> Levels:
        if self.warning is None and self.critical is None:
            raise ValueError(f"{getattr(self, 'name', '?')!r} needs warning or critical (or "
                             "both) to judge it")
        self.threshold()  # levels in order for the direction
        return self


class Named(Levels):
    """A :class:`Levels` entry with a ``name``: its id within the component."""

    name: str = Field(description="id of the entry within its component (letters, digits, "
                      "'-', '_', '.')")

    @field_validator("name")
    @classmethod
    def _name_shape(cls, value: str) -> str:
        return identifier(value)


def unique(items: list[Named]) -> list[Named]:
    """``items`` if no two share a name; else a ValueError naming the one listed twice."""
    seen: set[str] = set()
    for item in items:
        if item.name in seen:
            raise ValueError(f"{item.name!r} is listed twice; give each entry a unique name")
        seen.add(item.name)
    return items
