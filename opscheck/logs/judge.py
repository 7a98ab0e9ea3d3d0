"""A log signal's verdict from its tally: a failure line, or a value for ``measure``."""

from __future__ import annotations

import time
from dataclasses import dataclass
from typing import Any

from opscheck import secrets
from opscheck.logs.scan import Tally
from opscheck.logs.signal import AGE_UNITS, LogSignal
from opscheck.thresholds import Threshold

SHOWN = 200  # characters of a matching line shown


@dataclass(frozen=True)
class Verdict:
    failure: str | None = None  # the check fails with this line
    subject: str = ""  # else, when value is set, measure(subject, value, threshold)
    value: float | None = None
    threshold: Threshold | None = None


def line(text: str) -> str:
    text = secrets.redact(" ".join(text.split()))
    return repr(text if len(text) <= SHOWN else text[:SHOWN - 1] + "…")


def judge(component: Any, signal: LogSignal, tally: Tally) -> Verdict:
    """What ``tally`` means for ``signal`` on ``component``."""
    span = f"/{signal.pattern}/ in the last {signal.window} of {signal.source}"
    read = f"{tally.lines} line(s) in the window"
    if tally.unjudged:
        read += f", {tally.unjudged} above the first timestamp not judged"
    action = f". Action: {signal.action}" if signal.action else ""
    newest = f"; newest: {line(tally.examples[0][1])}" if tally.examples else ""
    where = f"{component}: log {signal.name}:"
    if signal.type == "absent" and tally.matched:
        return Verdict(f"{where} {tally.matched} line(s) matching {span}, expected none"
                       f"{newest}{action}")
    if signal.type == "present" and not tally.matched:
        return Verdict(f"{where} no line matching {span} ({read}), expected at least one"
                       f"{action}")
    if signal.type == "newest":
        if tally.newest is None:
            return Verdict(f"{where} no line matching {span} ({read}){action}")
        age = max(0.0, time.time() - tally.newest) / AGE_UNITS[signal.age_unit]
        return Verdict(subject=f"log {signal.name}: newest line matching /{signal.pattern}/ "
                       "age", value=round(age, 2), threshold=signal.threshold())
    if signal.type == "count":
        threshold = signal.threshold()
        if threshold.state(tally.matched) != "ok" and newest:
            detail = newest.removeprefix("; ")
            threshold = threshold.model_copy(update={"action": (
                f"{threshold.action}; {detail}" if threshold.action else detail)})
        return Verdict(subject=f"log {signal.name}: lines matching {span}",
                       value=tally.matched, threshold=threshold)
    return Verdict()
