"""The ``measure`` fixture: hold a value against its threshold, record it, raise the outcome.

``measure("memory used", 91.2, thresholds.memory)`` records the value and its levels in
the test's ``user_properties`` (key ``opscheck.measure``, read by the reports), then

- critical: fails the check with one line, e.g.
  ``wave-redis memory used 91.2% ≥ critical 90% (warning 75%). Action: check for leaks``;
- warning: passes with a :class:`~opscheck.thresholds.ThresholdWarning` carrying that line;
- ok: returns quietly.

The metric is the value's *name*: a fixed string per check (and item), the same run after
run, because it labels the Prometheus series and the Nagios perfdata. What changes from run
to run (the newest backup's file name, the stuck tasks, ``1 of 400``) goes in ``detail=``:
it is shown in the line (``wave-pg connections used (3 of 400) 0.75% within …``) and kept
in the record, never in the name.
"""

from __future__ import annotations

import warnings
from typing import Any

import pytest

from opscheck.connect import COMPONENT
from opscheck.thresholds import State, Threshold, ThresholdWarning

KEY = "opscheck.measure"


class Measure:
    def __init__(self, item: pytest.Item) -> None:
        self.item = item

    def __call__(self, metric: str, value: float, threshold: Threshold, *,
                 unit: str | None = None, component: Any = None,
                 detail: str | None = None) -> State:
        __tracebackhide__ = True
        owner = component or self.item.stash.get(COMPONENT, None)
        subject = f"{owner} {metric}" if owner is not None else metric
        if detail:
            subject += f" ({detail})"
        state, line = threshold.describe(subject, float(value), unit)
        self.item.user_properties.append((KEY, {
            "component": str(owner) if owner is not None else None,
            "metric": metric,
            "detail": detail,
            "value": float(value),
            "unit": threshold.unit if unit is None else unit,
            **threshold.recorded(),  # warning, critical; a band's text as *_range
            "direction": threshold.direction,
            "state": state,
            "line": line,
            "action": threshold.action,
        }))
        if state == "critical":
            pytest.fail(line, pytrace=False)
        if state == "warning":
            warnings.warn(ThresholdWarning(line), stacklevel=2)
        return state


@pytest.fixture
def measure(request: pytest.FixtureRequest) -> Measure:
    """Hold a measured value against a threshold; see :mod:`opscheck.measure`."""
    return Measure(request.node)


def strict(config: pytest.Config) -> bool:
    """Is this the strict gate: would a crossed warning level fail the run? Asked of the
    run's own warning filters (``-W``, ini ``filterwarnings``, ``PYTHONWARNINGS``)."""
    from _pytest.config import apply_warning_filters

    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ThresholdWarning)  # the probe: never shown itself
        apply_warning_filters(config.getini("filterwarnings"),
                              config.known_args_namespace.pythonwarnings or [])
        try:
            warnings.warn(ThresholdWarning("is this run strict?"), stacklevel=1)
        except ThresholdWarning:
            return True
    return False


def measurements(user_properties: list[tuple[str, Any]]) -> list[dict[str, Any]]:
    """The measurements recorded on a test or its report."""
    return [value for key, value in user_properties if key == KEY]
