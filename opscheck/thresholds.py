"""Thresholds: a warning and a critical level on one measured value, with a direction.

A threshold judges a value as ``ok``, ``warning`` or ``critical`` and writes the line an
operator reads at 3 a.m.::

    wave-redis memory used 91.2% ≥ critical 90% (warning 75%). Action: check for leaks

Levels are inclusive: with direction ``above`` a value equal to the critical level is
critical. Kinds declare their thresholds as a :class:`Thresholds` model whose field defaults
carry the runbook's levels; the inventory overrides any part of one (``warning = 80``) and
the rest keeps its default; ``warning = false`` switches a level off (TOML has no null).
"""

from __future__ import annotations

import math
from typing import Annotated, Any, Literal

from pydantic import AfterValidator, BaseModel, BeforeValidator, ConfigDict, Field, model_validator

Direction = Literal["above", "below"]
State = Literal["ok", "warning", "critical"]


def _level(value: Any) -> Any:
    """``false`` switches a level off (TOML has no null); ``true`` is no level at all."""
    if value is False:
        return None
    if value is True:
        raise ValueError("a level is a number, or false to switch it off")
    return value


def _finite(value: float | None) -> float | None:
    """``nan`` could never be crossed and ``inf`` never reached: neither is a level."""
    if value is not None and not math.isfinite(value):
        raise ValueError(f"a level is a finite number, not {value}; give a number, or false "
                         "to switch the level off")
    return value


#: a warning or critical level: a finite number, or None (off); written ``false`` in TOML
Level = Annotated[float | None, BeforeValidator(_level), AfterValidator(_finite)]


class ThresholdWarning(UserWarning):
    """A warning level was crossed: the check passes.

    ``-W error::opscheck.thresholds.ThresholdWarning`` makes it fail (the strict gate).
    """


class Threshold(BaseModel):
    """Warning and critical levels for one value. ``None`` disables that level."""

    model_config = ConfigDict(extra="forbid")

    warning: Level = None
    critical: Level = None
    direction: Direction = "above"
    unit: str = ""
    action: str | None = Field(default=None, description="the runbook's action, shown on failure")

    @model_validator(mode="after")
    def _levels_in_order(self) -> Threshold:
        w, c = self.warning, self.critical
        if w is not None and c is not None and self._beyond(w, c):
            side = "at or below" if self.direction == "above" else "at or above"
            raise ValueError(
                f"warning {fmt(w, self.unit)} is beyond critical {fmt(c, self.unit)} for "
                f"direction '{self.direction}'; set warning {side} critical"
            )
        return self

    def _beyond(self, value: float, level: float) -> bool:
        return value > level if self.direction == "above" else value < level

    def _reached(self, value: float, level: float | None) -> bool:
        if level is None:
            return False
        return value >= level if self.direction == "above" else value <= level

    def state(self, value: float) -> State:
        """Judge ``value``: NaN is critical (a measurement that produced no number is broken)."""
        if math.isnan(value) or self._reached(value, self.critical):
            return "critical"
        if self._reached(value, self.warning):
            return "warning"
        return "ok"

    def describe(self, subject: str, value: float, unit: str | None = None) -> tuple[State, str]:
        """The state and the one-line verdict for ``subject`` measuring ``value``."""
        unit = self.unit if unit is None else unit
        state = self.state(value)
        sign = "≥" if self.direction == "above" else "≤"
        if state == "critical":
            line = f"{subject} {fmt(value, unit)} {sign} critical {fmt(self.critical, unit)}"
            other = ("warning", self.warning)
        elif state == "warning":
            line = f"{subject} {fmt(value, unit)} {sign} warning {fmt(self.warning, unit)}"
            other = ("critical", self.critical)
        else:
            line = f"{subject} {fmt(value, unit)} within {self.levels(unit)}"
            other = ("", None)
        if other[1] is not None:
            line += f" ({other[0]} {fmt(other[1], unit)})"
        if state != "ok" and self.action:
            line += f". Action: {self.action}"
        return state, line

    def levels(self, unit: str | None = None) -> str:
        unit = self.unit if unit is None else unit
        parts = [f"{name} {fmt(level, unit)}" for name, level in
                 (("warning", self.warning), ("critical", self.critical)) if level is not None]
        return ", ".join(parts) or "no levels"


def fmt(value: float | None, unit: str = "") -> str:
    """``91.2%``, ``90%``, ``1.5 s``, ``0.0001%``: 3 decimals (3 significant digits below 1)."""
    if value is None:
        return "-"
    if math.isnan(value):
        return "NaN"
    if math.isinf(value):
        text = "inf" if value > 0 else "-inf"
    elif value == int(value):
        text = str(int(value))
    elif abs(value) >= 1:
        text = f"{value:.3f}".rstrip("0").rstrip(".")
    else:
        text = f"{value:.3g}"
    if not unit:
        return text
    return f"{text}{unit}" if unit == "%" else f"{text} {unit}"


class Thresholds(BaseModel):
    """Base for a kind's thresholds: each field a :class:`Threshold` whose default is the runbook's.

    What the inventory gives for a threshold is laid over the field's default, so
    ``[components.thresholds.disk] critical = 95`` keeps the default warning, direction and unit.
    """

    model_config = ConfigDict(extra="forbid")

    @model_validator(mode="before")
    @classmethod
    def _over_defaults(cls, data: Any) -> Any:
        if not isinstance(data, dict):
            return data
        merged = dict(data)
        for name, field in cls.model_fields.items():
            given = data.get(name)
            default = field.get_default(call_default_factory=True)
            if isinstance(given, dict) and isinstance(default, Threshold):
                merged[name] = {**default.model_dump(exclude_none=True), **given}
        return merged


def level(warning: float | None, critical: float | None, unit: str = "",
          direction: Direction = "above", action: str | None = None) -> Any:
    """A field default for a :class:`Thresholds` model: ``disk: Threshold = level(75, 85, "%")``."""
    return Field(default_factory=lambda: Threshold(
        warning=warning, critical=critical, unit=unit, direction=direction, action=action))
