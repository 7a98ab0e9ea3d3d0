"""A number from an HTTP component's JSON body, held against levels (``[[components.values]]``).

The number is found with a JMESPath expression (https://jmespath.org), a well-kept query
language with a specification and a test suite, rather than a home-made one::

    [[components.values]]
    name = "collections"                 # id: factory-qdrant:collections
    query = "length(result.collections)" # a number, a list's length
    direction = "below"
    critical = 0

    [[components.values]]
    name = "agents-not-ok"               # a filtered count, naming what it counted
    query = "agents[?status != 'ok']"
    label = "name"
    aggregate = "count"
    critical = 1

    [[components.values]]
    name = "agent-progress"              # the age of a timestamp: the stalest agent
    type = "age"
    query = "checkpoints"
    value = "created_at"                 # per element: the time
    label = "agent"                      # per element: its name (the newest per name counts)
    warning = 1
    critical = 2
    unit = "h"

``query`` may give a number (or a time, for ``age``), or a list of them (or of objects,
with ``value`` picking each one's number); a list is reduced by ``aggregate``. Besides
JMESPath's own functions, ``to_epoch(t)`` (a time as epoch seconds, read with the entry's
``timezone`` and ``epoch_unit``), ``now()`` and ``start_of_day()`` (epoch seconds of the last
midnight in this machine's time zone, as the runbooks' ``date +%Y-%m-%d``) let a filter keep
today's entries:
``sum([?to_epoch(startTime) >= start_of_day()].spend)``. Times are read as
:mod:`opscheck.timestamps` says, never guessed.
"""

from __future__ import annotations

from typing import Any, Literal

from pydantic import Field, field_validator, model_validator

from opscheck.items import Named
from opscheck.readings import Aggregate
from opscheck.timestamps import UNITS, EpochUnit, TimestampError, zone

#: functions opscheck adds to JMESPath's own (opscheck/targets/jsonquery.py)
CUSTOM = ("to_epoch", "now", "start_of_day")


def compile_jmespath(expr: str, key: str) -> Any:
    """The compiled expression; ValueError naming ``key``, the problem and the fix."""
    import jmespath  # lazily: only inventories with values pay for it
    from jmespath import functions

    try:
        parsed = jmespath.compile(expr)
    except jmespath.exceptions.JMESPathError as exc:
        first = str(exc).splitlines()[0].replace("Invalid jmespath expression: ", "")
        raise ValueError(f"{key} {expr!r} is not a JMESPath expression ({first}); see "
                         "https://jmespath.org/tutorial.html") from None
    known = set(functions.Functions().FUNCTION_TABLE) | set(CUSTOM)
    unknown = sorted(_functions(parsed.parsed) - known)
    if unknown:
        raise ValueError(f"{key} {expr!r} calls {', '.join(unknown)}(), which JMESPath does "
                         f"not have; use JMESPath's functions or {', '.join(CUSTOM)}")
    return parsed


def _functions(node: Any) -> set[str]:
    found: set[str] = set()
    if isinstance(node, dict):
        if node.get("type") == "function_expression":
            found.add(str(node.get("value")))
        for child in node.get("children", []):
            found |= _functions(child)
    elif isinstance(node, list):
        for child in node:
            found |= _functions(child)
    return found


class JsonValue(Named):
    """One number from the JSON body (JMESPath), held against levels; its own tier."""

    query: str = Field(min_length=1, description="JMESPath expression on the body: a number, "
                       "a time (type age), or a list of them or of objects")
    type: Literal["value", "age"] = Field(default="value", description="value: a number; age: "
                                          "a time, judged by how long ago it was (in unit)")
    value: str | None = Field(default=None, description="JMESPath applied to each element of a "
                              "list: its number or time (default: the element itself)")
    label: str | None = Field(default=None, description="JMESPath applied to each element: "
                              "its name in the failure line (default: its index)")
    aggregate: Aggregate | None = Field(default=None, description="how a list becomes one "
                                        "value: max, min, sum, avg, count (age: max, the "
                                        "oldest, by default; or min, the newest)")
    missing: Literal["fail", "zero"] = Field(default="fail", description="no value (null, or "
                                             "an empty list for max/min/avg): fail, or read 0")
    epoch_unit: EpochUnit = Field(default="s", description="times given as numbers: epoch "
                                  "seconds, or ms, us, ns")
    timezone: str | None = Field(default=None, description="times written without a UTC offset "
                                 "are in this zone (UTC, local, or an IANA name); unset: refused")

    @field_validator("query", "value", "label")
    @classmethod
    def _jmespath(cls, expr: str | None, info: Any) -> str | None:
        if expr is not None:
            compile_jmespath(expr, str(info.field_name))
        return expr

    @field_validator("timezone")
    @classmethod
    def _zone(cls, name: str | None) -> str | None:
        try:
            zone(name)
        except TimestampError as exc:
            raise ValueError(str(exc)) from None
        return name

    @model_validator(mode="after")
    def _age_unit(self) -> JsonValue:
        if self.type == "age":
            self.unit = self.unit or "h"
            if self.unit not in UNITS:
                raise ValueError(f"{self.name!r}: an age's unit is one of "
                                 f"{', '.join(UNITS)}, not {self.unit!r}")
            if self.aggregate not in (None, "max", "min"):
                raise ValueError(f"{self.name!r}: ages are judged by max (the oldest) or min "
                                 f"(the newest), not {self.aggregate}; count entries with "
                                 "type = \"value\"")
            self.aggregate = self.aggregate or "max"
        return self
