"""What a threshold says, exactly: the verdict line an operator reads, the levels a report
records, which of several values is worst (opscheck.thresholds and the measure fixture,
in-process)."""

from __future__ import annotations

import math
import warnings
from pathlib import Path

import pytest
from pydantic import ValidationError

from opscheck.measure import KEY, Measure, measurements
from opscheck.thresholds import Band, Threshold, Thresholds, ThresholdWarning, fmt, level, show

MEMORY = Threshold(warning=75, critical=90, unit="%", action="Check for leaks")
FREE = Threshold(warning=10, critical=5, direction="below", unit="GB")
BAND = Threshold(warning="10:20", critical="5:30", unit="%")
INSIDE = Threshold(critical="@0:5", unit="USD")


@pytest.mark.parametrize(("value", "verdict"), [
    (91.2, ("critical", "bus memory 91.2% ≥ critical 90% (warning 75%). Action: Check for leaks")),
    (90, ("critical", "bus memory 90% ≥ critical 90% (warning 75%). Action: Check for leaks")),
    (80, ("warning", "bus memory 80% ≥ warning 75% (critical 90%). Action: Check for leaks")),
    (75, ("warning", "bus memory 75% ≥ warning 75% (critical 90%). Action: Check for leaks")),
    (74.9, ("ok", "bus memory 74.9% within warning 75%, critical 90%")),
    (math.nan, ("critical", "bus memory NaN ≥ critical 90% (warning 75%). Action: Check for "
                "leaks")),  # no number: a measurement that produced none is broken
])
def test_an_above_threshold_is_inclusive_and_its_line_names_both_levels(value, verdict):
    assert MEMORY.describe("bus memory", value) == verdict


@pytest.mark.parametrize(("value", "verdict"), [
    (4, ("critical", "disk free 4 GB ≤ critical 5 GB (warning 10 GB)")),
    (5, ("critical", "disk free 5 GB ≤ critical 5 GB (warning 10 GB)")),
    (7, ("warning", "disk free 7 GB ≤ warning 10 GB (critical 5 GB)")),
    (10, ("warning", "disk free 10 GB ≤ warning 10 GB (critical 5 GB)")),
    (10.5, ("ok", "disk free 10.5 GB within warning 10 GB, critical 5 GB")),
])
def test_a_below_threshold_alerts_at_and_under_its_levels(value, verdict):
    assert FREE.describe("disk free", value) == verdict


@pytest.mark.parametrize(("threshold", "value", "verdict"), [
    (BAND, 25, ("warning", "x 25% outside warning 10:20% (critical 5:30%)")),
    (BAND, 31, ("critical", "x 31% outside critical 5:30% (warning 10:20%)")),
    (BAND, 4, ("critical", "x 4% outside critical 5:30% (warning 10:20%)")),
    (BAND, 20, ("ok", "x 20% within warning 10:20%, critical 5:30%")),
    (BAND, 10, ("ok", "x 10% within warning 10:20%, critical 5:30%")),
    (INSIDE, 3, ("critical", "x 3 USD inside critical @0:5 USD")),
    (INSIDE, 5, ("critical", "x 5 USD inside critical @0:5 USD")),
    (INSIDE, 6, ("ok", "x 6 USD within critical @0:5 USD")),
])
def test_a_band_alerts_outside_it_or_with_at_inside_it_ends_included(threshold, value, verdict):
    assert threshold.describe("x", value) == verdict


def test_the_unit_of_the_call_wins_over_the_thresholds_and_no_levels_is_said():
    assert MEMORY.describe("q", 1, unit=" tasks")[1] == "q 1  tasks within warning 75  tasks, " \
        "critical 90  tasks"
    assert Threshold().describe("q", 3) == ("ok", "q 3 within no levels")
    assert Threshold(critical=1).describe("q", 3) == ("critical", "q 3 ≥ critical 1")


def test_the_recorded_levels_are_numbers_or_a_bands_text():
    assert MEMORY.recorded() == {"warning": 75, "critical": 90}
    assert BAND.recorded() == {"warning": None, "warning_range": "10:20", "critical": None,
                               "critical_range": "5:30"}
    assert INSIDE.recorded() == {"warning": None, "critical": None, "critical_range": "@0:5"}


def test_severity_orders_ok_warning_critical():
    assert [MEMORY.severity(v) for v in (1, 80, 95)] == [0, 1, 2]


def test_the_worst_value_is_the_most_severe_then_the_farthest_along_the_direction():
    assert MEMORY.worst([80, 95, 92, 10], float) == 95
    assert MEMORY.worst([80, 85, 10], float) == 85
    assert MEMORY.worst([10, 20, 30], float) == 30  # all ok: the farthest along
    assert MEMORY.worst([99, math.nan], float) is math.nan  # no number is worst of all
    assert FREE.worst([4, 3, 8], float) == 3
    assert FREE.worst([40, 30, 80], float) == 30


def test_the_worst_value_against_a_band_is_the_farthest_outside_it():
    assert BAND.worst([15, 25, 3, 29], float) == 3  # 2 below critical's 5
    assert BAND.worst([15, 21, 28], float) == 28
    assert BAND.worst([12, 15, 19], float) == 12  # all inside: the closest to an end
    assert INSIDE.worst([10, 2.5, 1], float) == 2.5  # the deepest inside the alerting band
    assert Threshold(critical="10:").worst([20, 12, 15], float) == 12


def test_numeric_means_no_band_among_the_levels():
    assert MEMORY.numeric and not BAND.numeric and not INSIDE.numeric


@pytest.mark.parametrize(("value", "text"), [
    (None, "-"), (math.nan, "NaN"), (math.inf, "inf s"), (-math.inf, "-inf s"), (90.0, "90 s"),
    (91.25, "91.25 s"), (1.23456, "1.235 s"), (1.0004, "1 s"), (0.000123, "0.000123 s"),
    (0.123456, "0.123 s"), (-2.5, "-2.5 s"), (-0.5, "-0.5 s"), (1, "1 s")])
def test_numbers_are_shown_short(value, text):
    assert fmt(value, "s") == text


def test_a_percent_sticks_to_its_number_other_units_stand_apart():
    assert (fmt(90, "%"), fmt(90, "GB"), fmt(90)) == ("90%", "90 GB", "90")
    band = Band.parse("10:20")
    assert (show(band, "%"), show(band, "GB"), show(band), show(5, "%")) == (
        "10:20%", "10:20 GB", "10:20", "5%")


@pytest.mark.parametrize(("text", "shown", "alerting", "quiet"), [
    ("10:20", "10:20", [9.9, 20.1], [10, 15, 20]),
    ("10:", "10:", [9.9], [10, 1e9]),
    ("~:20", "~:20", [20.1], [-1e9, 20]),
    ("@10:20", "@10:20", [10, 15, 20], [9.9, 20.1]),
    (" 1.5:2.5 ", "1.5:2.5", [1.4, 2.6], [1.5, 2.5]),
])
def test_a_nagios_range_parses_and_alerts_as_nagios_says(text, shown, alerting, quiet):
    band = Band.parse(text)
    assert str(band) == shown
    assert [band.alerts(v) for v in alerting] == [True] * len(alerting)
    assert [band.alerts(v) for v in quiet] == [False] * len(quiet)


@pytest.mark.parametrize(("text", "message"), [
    ("10", "level '10' is text without ':'; a level is a number (written without quotes) or a "
           "range: write a range like \"10:20\", \"10:\", \"~:20\" or \"@10:20\""),
    (":10", "range ':10' has no start; write 0:10 or ~:10"),
    ("a:3", "range 'a:3': 'a' is not a number; write a range like \"10:20\""),
    ("3:inf", "range '3:inf': 'inf' is not a finite number; leave the end empty (\"10:\") or "
              "write ~ as the start"),
    ("20:10", "range '20:10' starts above its end; write the lower end first"),
])
def test_a_range_written_wrong_says_how_to_write_it(text, message):
    with pytest.raises(ValueError) as caught:
        Band.parse(text)
    assert str(caught.value) == message


def test_a_range_whose_ends_are_equal_is_one_point():
    band = Band.parse("5:5")
    assert not band.alerts(5) and band.alerts(5.1) and band.alerts(4.9)


def test_band_containment_is_by_span():
    outer = Band.parse("5:30")
    assert outer.contains(Band.parse("10:20")) and outer.contains(Band.parse("5:30"))
    assert not outer.contains(Band.parse("4:20")) and not outer.contains(Band.parse("10:31"))
    assert not outer.contains(Band.parse("10:")) and not outer.contains(Band.parse("~:20"))
    assert Band.parse("~:30").contains(Band.parse("~:20"))
    assert Band.parse("5:").contains(Band.parse("10:"))


def error(**levels) -> str:
    with pytest.raises(ValidationError) as caught:
        Threshold(**levels)
    return caught.value.errors()[0]["msg"].removeprefix("Value error, ")


def test_levels_out_of_order_say_which_way_to_move_them():
    assert error(warning=95, critical=90, unit="%") == (
        "warning 95% is beyond critical 90% for direction 'above'; set warning at or below "
        "critical")
    assert error(warning=5, critical=10, direction="below") == (
        "warning 5 is beyond critical 10 for direction 'below'; set warning at or above critical")
    assert error(warning="10:20", critical="12:18") == (
        "warning 10:20 and critical 12:18: a value could cross critical without crossing "
        "warning; make the critical band contain the warning band")
    assert error(warning="@0:5", critical="@0:10") == (
        "warning @0:5 and critical @0:10: a value could cross critical without crossing "
        "warning; make the warning band contain the critical band")


def test_equal_levels_and_mixed_kinds_of_level_are_accepted():
    Threshold(warning=90, critical=90)
    Threshold(warning=90, critical=90, direction="below")
    Threshold(warning="@0:10", critical="@0:5")
    Threshold(warning="10:20", critical="@0:5")


def test_false_switches_a_level_off_true_and_infinite_levels_are_refused():
    assert Threshold(warning=False, critical=90).warning is None
    assert error(warning=True) == ("a level is a number, a range such as \"10:20\", or false "
                                   "to switch it off")
    assert error(critical=math.inf) == ("a level is a finite number, not inf; give a number, "
                                        "or false to switch the level off")
    assert error(critical=math.nan).startswith("a level is a finite number, not nan")


def test_an_inventory_threshold_is_laid_over_the_default_part_by_part():
    class Disk(Thresholds):  # made here, not at import: level() is what is tested
        disk: Threshold = level(75, 85, "%", action="Free space")
        free: Threshold = level(10, 5, "GB", direction="below")
        plain: Threshold = level(1, 2)

    assert Disk().free == Threshold(warning=10, critical=5, unit="GB", direction="below")
    assert Disk().plain == Threshold(warning=1, critical=2, unit="", direction="above")
    assert Disk().plain.action is None
    assert Disk.model_validate({"disk": {"critical": 95}}).disk == Threshold(
        warning=75, critical=95, unit="%", action="Free space")
    assert Disk.model_validate({}).disk == Threshold(warning=75, critical=85, unit="%",
                                                     action="Free space")
    assert Disk.model_validate({"disk": {"warning": False}}).disk.warning is None


class Item:
    """What the measure fixture needs of a pytest item."""

    def __init__(self) -> None:
        self.stash: dict = {}
        self.user_properties: list = []


def test_measure_records_the_value_and_its_levels_and_passes_when_ok():
    item = Item()
    assert Measure(item)("memory used", 10, MEMORY, component="bus") == "ok"
    assert measurements(item.user_properties) == [{
        "component": "bus", "metric": "memory used", "detail": None, "value": 10.0,
        "unit": "%", "warning": 75, "critical": 90, "direction": "above", "state": "ok",
        "line": "bus memory used 10% within warning 75%, critical 90%",
        "action": "Check for leaks"}]
    assert item.user_properties[0][0] == KEY


def test_measure_fails_on_critical_with_the_line_and_the_detail_in_it():
    item = Item()
    with pytest.raises(pytest.fail.Exception) as caught:
        Measure(item)("memory used", 95, MEMORY, component="bus", detail="3 of 4", unit="%")
    assert str(caught.value) == ("bus memory used (3 of 4) 95% ≥ critical 90% (warning 75%). "
                                 "Action: Check for leaks")
    (record,) = measurements(item.user_properties)
    assert (record["metric"], record["detail"], record["state"]) == (
        "memory used", "3 of 4", "critical")


def test_measure_warns_on_warning_and_the_check_passes():
    item = Item()
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        assert Measure(item)("free", 7, FREE) == "warning"
    (warning,) = caught
    assert warning.category is ThresholdWarning
    assert str(warning.message) == "free 7 GB ≤ warning 10 GB (critical 5 GB)"
    assert measurements(item.user_properties)[0]["component"] is None


def test_measure_names_the_checks_component_when_none_is_given():
    from opscheck.connect import COMPONENT

    item = Item()
    item.stash[COMPONENT] = "wave-redis"
    Measure(item)("memory used", 1, MEMORY)
    assert measurements(item.user_properties)[0]["line"].startswith("wave-redis memory used 1%")
    assert measurements([("other", 1)]) == []


def test_a_band_shows_its_text_alone_without_a_unit():
    assert Band.parse("10:20").show() == "10:20"
    assert Band.parse("@0:5").show("USD") == "@0:5 USD"


def test_a_range_with_two_colons_reads_its_end_as_everything_after_the_first():
    with pytest.raises(ValueError) as caught:
        Band.parse("1:2:3")
    assert str(caught.value) == "range '1:2:3': '2:3' is not a number; write a range like \"10:20\""


def test_the_worst_value_against_a_band_open_below_is_the_farthest_above_it():
    assert Threshold(critical="~:20").worst([5, 25, 30], float) == 30
    assert Threshold(critical="~:20").worst([5, 15, 19], float) == 19  # closest to its end


def _config(filters: list[str], pythonwarnings: list[str] | None = None):
    from types import SimpleNamespace

    return SimpleNamespace(getini={"filterwarnings": filters}.__getitem__,
                           known_args_namespace=SimpleNamespace(pythonwarnings=pythonwarnings))


def test_the_strict_gate_is_the_runs_own_warning_filter_on_threshold_warnings():
    from opscheck.measure import strict

    assert strict(_config(["error::opscheck.thresholds.ThresholdWarning"]))
    assert strict(_config([], ["error::opscheck.thresholds.ThresholdWarning"]))
    with warnings.catch_warnings(record=True) as shown:
        warnings.simplefilter("always")
        assert not strict(_config(["error::DeprecationWarning"]))
        assert not strict(_config([]))
    assert shown == []  # asking leaves no "is this run strict?" warning behind


def test_measure_shows_and_records_the_unit_of_the_call():
    item = Item()
    Measure(item)("queue", 1, MEMORY, unit="tasks", component="q")
    (record,) = measurements(item.user_properties)
    assert (record["unit"], record["line"]) == (
        "tasks", "q queue 1 tasks within warning 75 tasks, critical 90 tasks")


def test_a_critical_measure_fails_without_a_traceback_and_a_warning_points_at_the_check():
    with pytest.raises(pytest.fail.Exception) as caught:
        Measure(Item())("memory used", 95, MEMORY)
    assert caught.value.pytrace is False  # the line alone
    with warnings.catch_warnings(record=True) as shown:
        warnings.simplefilter("always")
        Measure(Item())("memory used", 80, MEMORY)
    (warning,) = shown
    # the caller's line (the check's), not opscheck's own (a mutation tester's wrapper may
    # stand between them, so no more than that)
    assert Path(warning.filename).name != "measure.py"
