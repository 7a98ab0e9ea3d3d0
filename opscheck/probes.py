"""Declarative probes: checks an operator adds in the inventory, without Python.

A probe names a component and a query in that component's language (SQL for postgres and
sqlite, a Redis command such as ``GET dash:spend:daily:total``)::

    [[probes]]
    name = "spend-today"
    component = "factory-redis"
    query = "GET dash:spend:daily:total"
    warning = 30
    critical = 50
    unit = "USD"
    action = "Review the runaway agent; pause it"

A ``value`` probe's number is held against its levels. A ``rows`` probe lists what should
not exist (stale heartbeats, stuck tests) and fails on the first row (``critical = 1``).
A kind opts in by listing the types it answers in its model's ``PROBES`` and giving its
target ``scalar(query) -> float`` and ``rows(query) -> list[dict]``; its model may judge a
query at load with ``query_problem(query) -> str | None`` (Redis: read-only commands only).
"""

from __future__ import annotations

import math
from typing import Any, Literal

from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    PrivateAttr,
    RootModel,
    ValidationInfo,
    model_validator,
)

from opscheck import secrets
from opscheck.components import identifier
from opscheck.errors import CheckFailed
from opscheck.kinds import KINDS, model_for
from opscheck.thresholds import Direction, Level, Threshold

ProbeType = Literal["value", "rows"]
Tier = Literal["critical", "standard", "deep"]


class ProbeError(CheckFailed):
    """The probe's query could not give what the probe needs (error, no row, not a number);
    reported as its message alone (:func:`fixtures.probes.run_probe` names probe and component)."""


class Probe(BaseModel):
    """One ``[[probes]]`` entry."""

    model_config = ConfigDict(extra="forbid")

    name: str = Field(description="the check's id: unique, letters, digits, '-', '_', '.'")
    component: str = Field(description="the component the query runs against")
    query: str = Field(min_length=1, description="SQL, or a Redis command")
    type: ProbeType = Field(default="value", description="value: one number; rows: rows to list")
    warning: Level = None
    critical: Level = None
    direction: Direction = "above"
    unit: str = ""
    tier: Tier = "standard"
    description: str = ""
    action: str | None = Field(default=None, description="the runbook's action, shown on failure")
    remediation: str | None = Field(default=None, description="remediation action name")
    _kind: str = PrivateAttr(default="")

    @model_validator(mode="after")
    def _check(self, info: ValidationInfo) -> Probe:
        identifier(self.name, "probe name")
        if self.type == "value" and self.warning is None and self.critical is None:
            raise ValueError(f"probe {self.name!r} has no levels; set warning and/or critical")
        components = (info.context or {}).get("components")
        if components is None:
            return self
        target = next((c for c in components if c.name == self.component), None)
        if target is None:
            names = ", ".join(c.name for c in components) or "none"
            raise ValueError(f"probe {self.name!r} names unknown component {self.component!r}; "
                             f"use one of: {names}")
        supported = getattr(type(target), "PROBES", ())
        if self.type not in supported:
            raise ValueError(f"probe {self.name!r}: a {target.kind} component cannot answer "
                             f"{self.type} probes; point it at a component of kind "
                             f"{', '.join(kinds_answering(self.type)) or '(none)'}")
        judge = getattr(target, "query_problem", None)  # a kind's allow-list (redis: read-only)
        problem = judge(self.query) if judge is not None else None
        if problem:
            raise ValueError(f"probe {self.name!r}: {problem}")
        self._kind = target.kind
        return self

    @property
    def kind(self) -> str:
        """The kind of the probe's component (set at load)."""
        return self._kind

    def threshold(self) -> Threshold:
        """The levels: a rows probe fails on its first row unless told otherwise."""
        critical = self.critical
        if self.type == "rows" and self.warning is None and critical is None:
            critical = 1
        unit = self.unit if self.type == "value" else (self.unit or "rows")
        return Threshold(warning=self.warning, critical=critical, direction=self.direction,
                         unit=unit, action=self.action)


class Probes(RootModel[list[Probe]]):
    """The ``[[probes]]`` array; names must be unique."""

    @model_validator(mode="after")
    def _unique(self) -> Probes:
        seen: set[str] = set()
        for probe in self.root:
            if probe.name in seen:
                raise ValueError(f"duplicate probe name {probe.name!r}; give each probe a "
                                 "unique name")
            seen.add(probe.name)
        return self

    def __iter__(self) -> Any:
        return iter(self.root)


def kinds_answering(probe_type: str) -> list[str]:
    """The registered kinds whose model lists ``probe_type`` in ``PROBES``."""
    return [kind for kind in sorted(KINDS)
            if probe_type in getattr(model_for(kind), "PROBES", ())]


def number(value: Any) -> float:
    """A query's answer as a float, or :class:`ProbeError` saying why it is not one."""
    if value is None:
        raise ProbeError("returned no value (no row, NULL or missing key)")
    if isinstance(value, bytes):
        value = value.decode(errors="replace")
    if isinstance(value, bool):
        return float(value)
    try:
        result = float(value)
    except (TypeError, ValueError):
        raise ProbeError(f"returned {secrets.excerpt(str(value), 60)!r}, not a number") \
            from None
    if math.isnan(result):
        raise ProbeError("returned NaN")
    return result


def show_rows(rows: list[dict[str, Any]], limit: int = 10) -> str:
    """``{a: 1, b: 2}; {…}`` for at most ``limit`` rows, with the count of the rest."""
    shown = ["{" + ", ".join(f"{k}: {v}" for k, v in row.items()) + "}" for row in rows[:limit]]
    more = f" (+{len(rows) - limit} more)" if len(rows) > limit else ""
    return "; ".join(shown) + more


def listing(threshold: Threshold, rows: list[dict[str, Any]]) -> Threshold:
    """``threshold`` whose action also lists ``rows`` when their count is not ok."""
    if not rows or threshold.state(len(rows)) == "ok":
        return threshold
    listed = f"rows: {show_rows(rows)}"
    action = f"{threshold.action}; {listed}" if threshold.action else listed
    return threshold.model_copy(update={"action": action})
