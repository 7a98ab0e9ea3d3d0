"""Thresholds: a warning and a critical level on one measured value, with a direction.

A threshold judges a value as ``ok``, ``warning`` or ``critical`` and writes the line an
operator reads at 3 a.m.::

    wave-redis memory used 91.2% ≥ critical 90% (warning 75%). Action: check for leaks

Levels are inclusive: with direction ``above`` a value equal to the critical level is
critical. Kinds declare their thresholds as a :class:`Thresholds` model whose field defaults
carry the runbook's levels; the inventory overrides any part of one (``warning = 80``) and
the rest keeps its default; ``warning = false`` switches a level off (TOML has no null).

A level may also be a band, written as Nagios writes ranges (a string with a colon): a value
must stay inside ``"10:20"`` (alert below 10 or above 20, the ends themselves are fine),
``"10:"`` (alert below 10), ``"~:20"`` (alert above 20), or, with ``@``, must stay out of it:
``"@10:20"`` alerts from 10 to 20 inclusive. A band ignores ``direction``. See :class:`Band`.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import Annotated, Any, Literal, TypeVar

from pydantic import (
    AfterValidator,
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    model_serializer,
    model_validator,
)

Direction = Literal["above", "below"]
State = Literal["ok", "warning", "critical"]
T = TypeVar("T")


class Band(BaseModel):
    """A Nagios range as a level: ``[@]start:end``. Without ``@`` the value must stay inside
    (alert when below ``start`` or above ``end``); with ``@`` it must stay out (alert when
    ``start <= value <= end``). ``~`` as start is minus infinity; an empty end is infinity.

    Stricter than Nagios in one place: the colon is required (``"10"`` is refused, since a
    bare number is a directional level here, written without quotes) and so is the start
    (``":10"`` is refused: write ``0:10`` or ``~:10``), so no range is ever misread.
    """

    model_config = ConfigDict(frozen=True, extra="forbid")

    low: float | None = None  # None: minus infinity
    high: float | None = None  # None: infinity
    inside: bool = False  # the ``@`` form: alert inside the band

    @classmethod
    def parse(cls, text: str) -> Band:
        """``Band`` from its Nagios text; ValueError saying how to write it."""
        raw = text.strip()
        body = raw.removeprefix("@")
        start, colon, end = body.partition(":")
        example = "write a range like \"10:20\", \"10:\", \"~:20\" or \"@10:20\""
        if not colon:
            raise ValueError(f"level {text!r} is text without ':'; a level is a number "
                             f"(written without quotes) or a range: {example}")
        if not start.strip():
            raise ValueError(f"range {text!r} has no start; write 0{body} or ~{body}")
        low = None if start.strip() == "~" else _end(start, text)
        high = None if not end.strip() else _end(end, text)
        if low is not None and high is not None and low > high:
            raise ValueError(f"range {text!r} starts above its end; write the lower end first")
        return cls(low=low, high=high, inside=raw.startswith("@"))

    def alerts(self, value: float) -> bool:
        """Does ``value`` cross this level?"""
        within = (self.low is None or value >= self.low) and \
                 (self.high is None or value <= self.high)
        return within if self.inside else not within

    def contains(self, other: Band) -> bool:
        """Is ``other``'s span inside this one's?"""
        lows = (self.low is None) or (other.low is not None and other.low >= self.low)
        highs = (self.high is None) or (other.high is not None and other.high <= self.high)
        return lows and highs

    @model_serializer
    def _text(self) -> str:
        return str(self)

    def __str__(self) -> str:
        low = "~" if self.low is None else fmt(self.low)
        high = "" if self.high is None else fmt(self.high)
        return f"{'@' if self.inside else ''}{low}:{high}"

    def show(self, unit: str = "") -> str:
        """``10:20%``, ``@0:5 USD``: the Nagios text with the unit."""
        if not unit:
            return str(self)
        return f"{self}{unit}" if unit == "%" else f"{self} {unit}"


def _end(text: str, whole: str) -> float:
    try:
        value = float(text)
    except ValueError:
        raise ValueError(f"range {whole!r}: {text.strip()!r} is not a number; write a range "
                         "like \"10:20\"") from None
    if not math.isfinite(value):
        raise ValueError(f"range {whole!r}: {text.strip()!r} is not a finite number; leave "
                         "the end empty (\"10:\") or write ~ as the start")
    return value


def _level(value: Any) -> Any:
    """``false`` switches a level off (TOML has no null); ``true`` is no level at all; text
    with a colon is a band (a Nagios range)."""
    if value is False:
        return None
    if value is True:
        raise ValueError("a level is a number, a range such as \"10:20\", or false to "
                         "switch it off")
    if isinstance(value, str):
        return Band.parse(value)
    return value


def _finite(value: float | Band | None) -> float | Band | None:
    """``nan`` could never be crossed and ``inf`` never reached: neither is a level (a
    band's ends are finite already, :meth:`Band.parse`)."""
    if isinstance(value, int | float) and not math.isfinite(value):
        raise ValueError(f"a level is a finite number, not {value}; give a number, or false "
                         "to switch the level off")
    return value


#: a warning or critical level: a finite number, a :class:`Band`, or None (off; ``false``
#: in TOML)
Level = Annotated[float | Band | None, BeforeValidator(_level), AfterValidator(_finite)]


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
        if isinstance(w, Band) and isinstance(c, Band) and w.inside == c.inside:
            outer, inner = (c, w) if not w.inside else (w, c)
            if not outer.contains(inner):
                raise ValueError(
                    f"warning {w.show(self.unit)} and critical {c.show(self.unit)}: a value "
                    "could cross critical without crossing warning; "
                    + ("make the critical band contain the warning band" if not w.inside
                       else "make the warning band contain the critical band"))
        elif isinstance(w, float | int) and isinstance(c, float | int) and self._beyond(w, c):
            side = "at or below" if self.direction == "above" else "at or above"
            raise ValueError(
                f"warning {fmt(w, self.unit)} is beyond critical {fmt(c, self.unit)} for "
                f"direction '{self.direction}'; set warning {side} critical"
            )
        return self

    def _beyond(self, value: float, level: float) -> bool:
        return value > level if self.direction == "above" else value < level

    def _reached(self, value: float, level: float | Band | None) -> bool:
        if level is None:
            return False
        if isinstance(level, Band):
            return level.alerts(value)
        return value >= level if self.direction == "above" else value <= level

    def _sign(self, level: float | Band | None) -> str:
        if isinstance(level, Band):
            return "inside" if level.inside else "outside"
        return "≥" if self.direction == "above" else "≤"

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
        other: tuple[str, float | Band | None]
        if state == "critical":
            line = (f"{subject} {fmt(value, unit)} {self._sign(self.critical)} critical "
                    f"{show(self.critical, unit)}")
            other = ("warning", self.warning)
        elif state == "warning":
            line = (f"{subject} {fmt(value, unit)} {self._sign(self.warning)} warning "
                    f"{show(self.warning, unit)}")
            other = ("critical", self.critical)
        else:
            line = f"{subject} {fmt(value, unit)} within {self.levels(unit)}"
            other = ("", None)
        if other[1] is not None:
            line += f" ({other[0]} {show(other[1], unit)})"
        if state != "ok" and self.action:
            line += f". Action: {self.action}"
        return state, line

    def levels(self, unit: str | None = None) -> str:
        unit = self.unit if unit is None else unit
        parts = [f"{name} {show(level, unit)}" for name, level in
                 (("warning", self.warning), ("critical", self.critical)) if level is not None]
        return ", ".join(parts) or "no levels"

    def recorded(self) -> dict[str, Any]:
        """The levels as a measurement records them: numbers in ``warning``/``critical``
        (None for a band, which has no single number), a band's Nagios text in
        ``warning_range``/``critical_range``."""
        out: dict[str, Any] = {}
        for name in ("warning", "critical"):
            level = getattr(self, name)
            out[name] = None if isinstance(level, Band) else level
            if isinstance(level, Band):
                out[f"{name}_range"] = str(level)
        return out

    def severity(self, value: float) -> int:
        """0 ok, 1 warning, 2 critical: to pick the worst of several values."""
        return ("ok", "warning", "critical").index(self.state(value))

    def worst(self, items: list[T], value: Callable[[T], float]) -> T:
        """The item whose value is judged worst: the most severe state (NaN first), then
        the farthest along the direction (for a band level: the farthest outside it)."""
        return max(items, key=lambda item: self._badness(value(item)))

    def _badness(self, value: float) -> tuple[int, float]:
        if math.isnan(value):
            return (3, 0.0)
        band = next((b for b in (self.critical, self.warning) if isinstance(b, Band)), None)
        if band is None:
            return (self.severity(value), value if self.direction == "above" else -value)
        low = -math.inf if band.low is None else band.low
        high = math.inf if band.high is None else band.high
        depth = min(value - low, high - value)  # > 0 inside, < 0 outside
        return (self.severity(value), depth if band.inside else -depth)

    @property
    def numeric(self) -> bool:
        """No band among the levels (a judgment held in one direction needs numbers)."""
        return not any(isinstance(level, Band) for level in (self.warning, self.critical))


def show(level: float | Band | None, unit: str = "") -> str:
    """A level for a message: ``90%``, or a band's ``10:20%``."""
    return level.show(unit) if isinstance(level, Band) else fmt(level, unit)


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
