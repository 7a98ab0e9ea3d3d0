"""Readings: labelled numbers aggregated into the one value a check holds against its levels.

This package holds the item lists that read numbers out of an answer, each a model (pydantic
only) and the facts that evaluate it, plain Python that imports its library lazily:

- :mod:`.jsonvalue` and :mod:`.jsonquery`: a JSON body's numbers (JMESPath), http kind;
- :mod:`.scrape` and :mod:`.exposition`: a Prometheus /metrics page read directly, http kind;
- :mod:`.keyscan` and :mod:`.redisscan`: a Redis key pattern scanned, redis kind;
- :mod:`.containers`: container CPU and memory from the Engine API's stats, docker kind.

A /metrics series (``wave_agent_utilization_percent{agent="be-dev"}``), a Redis key, a JSON
entry (an agent, a snapshot) or a container each give a :class:`Reading`. An entry's
``aggregate`` turns them into one value (``max``, ``min``, ``sum``, ``avg``, or ``count``
of them), and when that value is not ok the worst readings are named in the failure line
(:func:`naming`, the measurement's ``detail``), so the page says which agent or key it is,
not only how bad.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Literal

from opscheck.thresholds import Threshold, fmt

Aggregate = Literal["max", "min", "sum", "avg", "count"]
SHOWN = 5  # readings named in a failure line


@dataclass(frozen=True)
class Reading:
    """One labelled number: ``be-dev`` 91, ``dash:spend:daily:kev`` 12.5."""

    label: str
    value: float


@dataclass(frozen=True)
class Judged:
    """The value an entry holds against its levels, and the readings it was taken from
    (named on failure; empty when the value is a single number)."""

    value: float
    readings: list[Reading]


def aggregate(readings: Sequence[Reading], how: Aggregate) -> float | None:
    """The one value of ``readings``; None when there is none to take (no reading, and
    ``how`` is not ``count`` or ``sum``, whose value for nothing is 0)."""
    if how == "count":
        return float(len(readings))
    values = [r.value for r in readings]
    if how == "sum":
        return float(sum(values))
    if not values:
        return None
    if how == "avg":
        return sum(values) / len(values)
    return max(values) if how == "max" else min(values)


def worst(readings: Sequence[Reading], how: Aggregate, threshold: Threshold) -> list[Reading]:
    """The readings that make the value bad, worst first: for ``count`` every one counted
    (the agents whose status is not ok), else ordered so the one the page is about leads
    (the highest for ``max`` and ``sum``, the lowest for ``min``; ``avg`` by the threshold's
    direction)."""
    if how == "count":
        return list(readings)
    low_first = how == "min" or (how == "avg" and threshold.direction == "below")
    return sorted(readings, key=lambda r: r.value, reverse=not low_first)


def listed(readings: Sequence[Reading], unit: str = "", limit: int = SHOWN,
           values: bool = True) -> str:
    """``be-dev 91%, fe-dev 80% (+3 more)``; labels only when ``values`` is false."""
    shown = [f"{r.label} {fmt(r.value, unit)}" if values else r.label for r in readings[:limit]]
    more = f" (+{len(readings) - limit} more)" if len(readings) > limit else ""
    return ", ".join(shown) + more


def naming(threshold: Threshold, value: float, readings: Sequence[Reading], how: Aggregate,
           what: str = "worst") -> str | None:
    """The ``detail=`` of a measurement: when ``value`` is not ok, the readings that make it
    bad, worst first (``worst: be-dev 91%, fe-dev 80%``); None when it is ok or there are
    none to name. The metric's name stays fixed; what changes goes here."""
    if not readings or threshold.state(value) == "ok":
        return None
    names = listed(worst(readings, how, threshold), threshold.unit, values=how != "count")
    return f"{what}: {names}"
