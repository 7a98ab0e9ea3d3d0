"""Numbers from a JSON body: an entry's JMESPath query evaluated, its readings aggregated.

:func:`evaluate` gives the value an entry (:class:`~opscheck.readings.jsonvalue.JsonValue`)
holds against its levels, with the readings it came from (named in the failure line), or
raises :class:`ValueProblem`, a :class:`~opscheck.errors.CheckFailed` whose message is the
check's verdict: the query found nothing, a list without ``aggregate``, a value that is not
a number, a time that cannot be read without guessing.
"""

from __future__ import annotations

import math
import time
from typing import Any

from opscheck import secrets
from opscheck.errors import CheckFailed
from opscheck.readings import Judged, Reading, aggregate
from opscheck.readings.jsonvalue import JsonValue
from opscheck.timestamps import UNITS, TimestampError, age, epoch, start_of_day


class ValueProblem(CheckFailed):
    """The JSON body does not give the entry a number; ``str()`` says what it gave."""


def _functions(entry: JsonValue, now: float) -> Any:
    """JMESPath's functions plus to_epoch(), now() and start_of_day() for this entry."""
    from jmespath import functions

    class Custom(functions.Functions):
        @functions.signature({"types": ["string", "number"]})
        def _func_to_epoch(self, value: Any) -> float:
            try:
                return epoch(value, entry.epoch_unit, entry.timezone)
            except TimestampError as exc:
                raise ValueProblem(f"to_epoch(): {exc}") from None

        @functions.signature()
        def _func_now(self) -> float:
            return now

        @functions.signature()
        def _func_start_of_day(self) -> float:
            return start_of_day(None, now)  # this machine's day, as the runbooks' `date`

    return Custom()


def search(expr: str, doc: Any, entry: JsonValue, now: float) -> Any:
    """``expr`` evaluated on ``doc`` (compiled at load; JMESPath's errors as ValueProblem)."""
    import jmespath

    options = jmespath.Options(custom_functions=_functions(entry, now))
    try:
        return jmespath.search(expr, doc, options=options)
    except jmespath.exceptions.JMESPathError as exc:
        first = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
        raise ValueProblem(f"{expr!r} failed on this body: {first}") from None


def evaluate(entry: JsonValue, doc: Any, now: float | None = None) -> Judged:
    """The entry's value in ``doc``: the query's number, or its list reduced by aggregate."""
    now = time.time() if now is None else now
    result = search(entry.query, doc, entry, now)
    if isinstance(result, list):
        readings = [_reading(entry, element, f"[{i}]", now) for i, element in enumerate(result)]
        if entry.type == "age" and entry.label is not None:
            readings = _newest_per_label(readings)
        how = entry.aggregate
        if how is None:
            raise ValueProblem(f"{entry.query!r} gave a list of {len(result)}; set aggregate "
                               "(max, min, sum, avg or count) to make it one value")
        value = aggregate(readings, how)
        if value is None:
            return _missing(entry, f"{entry.query!r} gave an empty list, no value to take "
                                   f"the {how} of")
        return Judged(value, readings)
    if result is None:
        return _missing(entry, f"{entry.query!r} found nothing (null) in the body")
    if entry.aggregate == "count":
        raise ValueProblem(f"{entry.query!r} gave {_show(result)}, not a list to count")
    reading = _reading(entry, result, entry.name, now)
    return Judged(reading.value, [])  # one value: nothing else to name


def _missing(entry: JsonValue, why: str) -> Judged:
    if entry.missing == "zero":
        return Judged(0.0, [])
    raise ValueProblem(f"{why}; expected a value (set missing = \"zero\" if none means 0)")


def _reading(entry: JsonValue, element: Any, index: str, now: float) -> Reading:
    label = index
    if entry.label is not None and isinstance(element, dict | list):
        named = search(entry.label, element, entry, now)
        label = index if named is None else str(named)
    if entry.aggregate == "count":
        return Reading(label, 1.0)
    raw = element if entry.value is None else search(entry.value, element, entry, now)
    where = f"{label}: " if label != entry.name else ""
    if raw is None and entry.value is not None:
        raise ValueProblem(f"{where}{entry.value!r} found nothing in {_show(element)}")
    if entry.type == "age":
        try:
            seconds = age(raw, entry.epoch_unit, entry.timezone, now)
        except TimestampError as exc:
            raise ValueProblem(f"{where}{exc}") from None
        return Reading(label, round(seconds / UNITS[entry.unit], 3))
    return Reading(label, number(raw, where))


def number(raw: Any, where: str = "") -> float:
    """A JSON number (or a string holding one) as a float; ValueProblem for anything else:
    true and false are not numbers, nor NaN or infinity."""
    if isinstance(raw, bool) or raw is None or isinstance(raw, dict | list):
        raise ValueProblem(f"{where}{_show(raw)} is not a number")
    try:
        value = float(raw)
    except (TypeError, ValueError):
        raise ValueProblem(f"{where}{_show(raw)} is not a number") from None
    if not math.isfinite(value):
        raise ValueProblem(f"{where}{_show(raw)} is not a finite number")
    return value


def _newest_per_label(readings: list[Reading]) -> list[Reading]:
    """One reading per label: its smallest age (an agent's last checkpoint)."""
    newest: dict[str, Reading] = {}
    for r in readings:
        if r.label not in newest or r.value < newest[r.label].value:
            newest[r.label] = r
    return list(newest.values())


def _show(value: Any) -> str:
    import json

    text = secrets.redact(json.dumps(value) if not isinstance(value, str) else repr(value))
    return text if len(text) <= 60 else secrets.excerpt(text, 59) + "…"
