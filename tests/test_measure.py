"""measure(): critical fails with the operator's line, warning passes with ThresholdWarning."""

from __future__ import annotations

import json

import pytest

from opscheck.thresholds import Threshold, fmt

INVENTORY = '[[components]]\nname = "wave-redis-host"\nkind = "host"\n'
CHECK = """
import pytest
from opscheck.thresholds import Threshold

@pytest.mark.standard
@pytest.mark.host
def test_memory(host_component, measure):
    t = Threshold(warning=75, critical=90, unit="%", action="Check for leaks")
    measure("memory used", {value}, t)
"""


def run(suite, value, *args):
    suite.inventory(INVENTORY)
    suite.pytester.makepyfile(test_inner_measure=CHECK.format(value=value))
    return suite.run_files(*args)


def test_critical_fails_with_one_line_and_the_action(suite):
    result = run(suite, 91.2)
    result.assert_outcomes(failed=1)
    result.stdout.fnmatch_lines([
        "*wave-redis-host memory used 91.2% ≥ critical 90% (warning 75%). Action: Check for leaks"])
    assert "Traceback" not in result.stdout.str()


def test_warning_passes_with_threshold_warning(suite):
    result = run(suite, 80)
    result.assert_outcomes(passed=1, warnings=1)
    result.stdout.fnmatch_lines(["*ThresholdWarning: wave-redis-host memory used 80% ≥ warning "
                                 "75% (critical 90%). Action: Check for leaks"])


def test_warning_fails_under_W_error(suite):
    result = run(suite, 80, "-W", "error::opscheck.thresholds.ThresholdWarning")
    result.assert_outcomes(failed=1)


def test_ok_passes_quietly_and_records_the_value(suite):
    result = run(suite, 12.5, "--junitxml", "junit.xml")
    result.assert_outcomes(passed=1)
    xml = (suite.path / "junit.xml").read_text()
    assert 'name="opscheck.measure"' in xml and "12.5" in xml
    assert 'name="tier" value="standard"' in xml
    assert 'name="component" value="wave-redis-host"' in xml


@pytest.mark.parametrize(("value", "state"), [(74.9, "ok"), (75, "warning"), (89.99, "warning"),
                                               (90, "critical"), (float("nan"), "critical")])
def test_levels_are_inclusive_above(value, state):
    assert Threshold(warning=75, critical=90).state(value) == state


@pytest.mark.parametrize(("value", "state"), [(50, "ok"), (20, "warning"), (10, "critical")])
def test_levels_below(value, state):
    t = Threshold(warning=20, critical=10, direction="below", unit="days")
    assert t.state(value) == state
    if state == "critical":
        assert t.describe("cert", value)[1] == "cert 10 days ≤ critical 10 days (warning 20 days)"


def test_a_level_can_be_disabled():
    assert Threshold(critical=5).state(4.9) == "ok"
    assert Threshold(warning=5).state(1e9) == "warning"


def test_number_format():
    assert [fmt(91.2, "%"), fmt(90.0, "%"), fmt(1.23456, "s"), fmt(3, "")] == [
        "91.2%", "90%", "1.235 s", "3"]
    json.dumps(Threshold(warning=1, critical=2).model_dump())  # reports serialise it
