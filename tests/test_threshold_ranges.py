"""Levels written as Nagios ranges (``"10:20"``, ``"@10:20"``): a value that must stay in a
band. Numbers and ``false`` keep their meaning; a range is judged, worded, recorded and
reported as a range."""

from __future__ import annotations

import json

import pytest

from opscheck.inventory import InventoryError
from opscheck.suite import load
from opscheck.thresholds import Band, Threshold


@pytest.mark.parametrize(("text", "alerts", "fine"), [
    ("10:20", [9.99, 20.01, -5], [10, 15, 20]),         # outside the band alerts
    ("10:", [9.99, -1], [10, 1e9]),                      # below 10 alerts
    ("~:20", [20.5, 1e9], [20, -1e9]),                   # above 20 alerts
    ("@10:20", [10, 15, 20], [9.99, 20.01]),             # inside the band alerts
    ("0:0", [0.5, -0.5], [0]),
])
def test_nagios_ranges_alert_as_nagios_says(text, alerts, fine):
    band = Band.parse(text)
    assert [band.alerts(v) for v in alerts] == [True] * len(alerts)
    assert [band.alerts(v) for v in fine] == [False] * len(fine)
    assert str(band) == text


@pytest.mark.parametrize(("text", "why"), [
    ("10", "is text without ':'"),             # Nagios reads 0:10; opscheck's 10 means >= 10
    (":10", "has no start; write 0:10 or ~:10"),
    ("20:10", "starts above its end"),
    ("a:b", "'a' is not a number"),
    ("1:inf", "not a finite number"),
    ("nan:", "not a finite number"),
])
def test_ranges_that_could_be_misread_are_refused(text, why):
    with pytest.raises(ValueError, match=why.replace("(", r"\(")):
        Band.parse(text)


def test_a_band_is_worded_as_one_and_numbers_are_unchanged():
    band = Threshold(warning="10:20", critical="5:25", unit="%", action="Rebalance")
    assert band.describe("svc load", 3) == (
        "critical", "svc load 3% outside critical 5:25% (warning 10:20%). Action: Rebalance")
    assert band.describe("svc load", 22)[1] == \
        "svc load 22% outside warning 10:20% (critical 5:25%). Action: Rebalance"
    assert band.describe("svc load", 15) == ("ok", "svc load 15% within warning 10:20%, "
                                                   "critical 5:25%")
    assert Threshold(critical="@0:5", unit="USD").describe("x", 2)[1] == \
        "x 2 USD inside critical @0:5 USD"
    number = Threshold(warning=75, critical=90, unit="%")
    assert number.describe("m", 91)[1] == "m 91% ≥ critical 90% (warning 75%)"
    assert Threshold(warning=False, critical=90).warning is None
    assert Threshold.model_validate(band.model_dump()) == band  # dumps as its Nagios text


def test_bands_in_the_wrong_order_are_refused():
    with pytest.raises(ValueError, match="make the critical band contain the warning band"):
        Threshold(warning="5:25", critical="10:20")
    with pytest.raises(ValueError, match="make the warning band contain the critical band"):
        Threshold(warning="@10:12", critical="@0:20")
    Threshold(warning=80, critical="0:90")  # a number and a band: each judged on its own


def test_the_worst_of_several_values_for_a_band_is_the_one_farthest_outside():
    band = Threshold(critical="20:80")
    assert band.worst([50, 85, 5, 79], lambda v: v) == 5
    assert Threshold(critical=90).worst([50, 95, 91], lambda v: v) == 95
    assert Threshold(critical=10, direction="below").worst([50, 3, 9], lambda v: v) == 3
    assert Threshold(critical="@40:60").worst([10, 55, 45, 90], lambda v: v) == 55


SQLITE = '[[components]]\nname = "db"\nkind = "sqlite"\npath = "{path}"\n'


@pytest.mark.parametrize(("level", "message"), [
    ('"90"', "level '90' is text without ':'"),
    ('"20:10"', "range '20:10' starts above its end"),
    ('"~"', "level '~' is text without ':'"),
])
def test_a_bad_range_in_an_inventory_is_a_usage_error_naming_the_key(tmp_path, level, message):
    path = tmp_path / "inventory.toml"
    path.write_text("[[components]]\nname = \"h\"\nkind = \"host\"\n"
                    f"[components.thresholds.disk]\ncritical = {level}\n")
    with pytest.raises(InventoryError) as raised:
        load(path)
    assert str(raised.value).startswith(f"{path}: components[0] (h).thresholds.disk.critical")
    assert message in str(raised.value)


def test_sustained_judgments_need_numbers(tmp_path):
    path = tmp_path / "inventory.toml"
    path.write_text('[[components]]\nname = "p"\nkind = "prometheus"\nurl = "http://127.0.0.1:1"\n'
                    '[[components.queries]]\nname = "q"\nexpr = "up"\ntype = "sustained"\n'
                    'window = "5m"\nmin_samples = 5\ncritical = "1:2"\n')
    with pytest.raises(InventoryError, match="held in one direction; give numbers"):
        load(path)
    path.write_text('[[components]]\nname = "g"\nkind = "gpu"\n'
                    '[components.thresholds.memory_sustained]\ncritical = "0:23"\n')
    with pytest.raises(InventoryError, match="held in one direction; give numbers"):
        load(path)


def test_a_probe_outside_its_band_fails_and_reports_the_range(suite, tmp_path):
    import sqlite3

    db = tmp_path / "live.db"
    sqlite3.connect(db).close()
    suite.inventory(SQLITE.format(path=db) + '[[probes]]\nname = "in-band"\ncomponent = "db"\n'
                    'query = "SELECT 42"\nwarning = "20:40"\ncritical = "10:50"\nunit = "tasks"\n'
                    '[[probes]]\nname = "out-band"\ncomponent = "db"\nquery = "SELECT 5"\n'
                    'critical = "10:50"\nunit = "tasks"\n')
    out = tmp_path / "summary.json"
    result = suite.run("-m", "standard", "--nagios", f"--report-json={out}",
                       checks=("probes",))
    assert result.outlines[0].startswith("OPSCHECK CRITICAL")
    perf = result.outlines[0].partition(" | ")[2]
    assert "'db probe in-band'=42;20:40;10:50" in perf
    assert "'db probe out-band'=5;;10:50" in perf
    assert "CRITICAL: db: test_probe[db:out-band]: db probe out-band 5 tasks outside critical " \
           "10:50 tasks" in result.outlines
    assert "WARNING: db: test_probe[db:in-band]: db probe in-band 42 tasks outside warning " \
           "20:40 tasks (critical 10:50 tasks)" in result.outlines
    checks = {c["id"].split("[")[-1].split(":")[-1]: c
              for c in json.loads(out.read_text())["checks"]}
    measured = checks["in-band]"]["measurements"][0]
    assert (measured["warning"], measured["warning_range"], measured["critical_range"]) == \
        (None, "20:40", "10:50")
