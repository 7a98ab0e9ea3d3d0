"""Waivers as data: which node ids a pattern waives, the day it stops, what a file may hold
(opscheck.waivers, without a run; the runs themselves are in test_report_gates)."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest

from opscheck.inventory import InventoryError
from opscheck.waivers import Waiver, _noted, load

EXPIRES = dt.date(2030, 6, 30)


def waiver(check: str) -> Waiver:
    return Waiver(check=check, justification="batch host; OPS-1", expires=EXPIRES)


@pytest.mark.parametrize(("pattern", "nodeid", "waived"), [
    ("test_cpu_busy[batch]", "checks/host/test_resources.py::test_cpu_busy[batch]", True),
    ("test_cpu_busy[batch]", "test_cpu_busy[batch]", True),  # the whole id
    ("test_resources.py::test_cpu_busy[batch]",
     "checks/host/test_resources.py::test_cpu_busy[batch]", True),  # tail after a /
    ("test_cpu_busy[batch]", "checks/host/test_resources.py::test_cpu_busy[batch-2]", False),
    ("test_cpu_busy[batch]", "checks/host/test_resources.py::xtest_cpu_busy[batch]", False),
    ("test_cpu_busy[*]", "checks/host/test_resources.py::test_cpu_busy[a/b]", True),
    ("test_cpu_busy[?]", "checks/host/test_resources.py::test_cpu_busy[ab]", False),
    ("test_cpu.busy", "checks/host/test_resources.py::test_cpu_busy", False),  # . is literal
    ("cpu_busy", "checks/host/test_resources.py::test_cpu_busy", False),  # not a substring
])
def test_a_pattern_waives_the_whole_id_or_its_tail_after_a_separator(pattern, nodeid, waived):
    assert waiver(pattern).matches(nodeid) is waived


def test_a_waiver_holds_through_its_expiry_day_and_stops_the_day_after():
    w = waiver("test_x")
    assert not w.expired(EXPIRES - dt.timedelta(days=1))
    assert not w.expired(EXPIRES)
    assert w.expired(EXPIRES + dt.timedelta(days=1))


def test_a_waiver_describes_itself_for_the_reports(tmp_path):
    w = Waiver(check="test_x", justification="  OPS-1, owner: alice  ", expires=EXPIRES)
    assert w.describe(tmp_path / "w.toml") == {
        "check": "test_x", "justification": "OPS-1, owner: alice", "expires": "2030-06-30",
        "expired": dt.date.today() > EXPIRES, "file": str(tmp_path / "w.toml")}


def test_an_empty_file_holds_no_waivers(tmp_path: Path):
    (tmp_path / "w.toml").write_text("")
    assert load(tmp_path / "w.toml") == []


def test_a_file_of_waivers_loads_each_in_order(tmp_path: Path):
    (tmp_path / "w.toml").write_text(
        '[[waivers]]\ncheck = "a"\njustification = "j1"\nexpires = 2030-06-30\n'
        '[[waivers]]\ncheck = "b"\njustification = "j2"\nexpires = 2030-07-01\n')
    assert [(w.check, w.justification, w.expires) for w in load(tmp_path / "w.toml")] == [
        ("a", "j1", EXPIRES), ("b", "j2", dt.date(2030, 7, 1))]


@pytest.mark.parametrize(("text", "key"), [
    ('[[waiver]]\ncheck = "a"\njustification = "j"\nexpires = 2030-06-30\n', "waiver"),
    ('check = "a"\n', "check"),
    ('[[waivers]]\ncheck = ""\njustification = "j"\nexpires = 2030-06-30\n', "waivers[0].check"),
])
def test_a_misspelt_or_empty_entry_is_an_error_not_silently_no_waivers(tmp_path, text, key):
    (tmp_path / "w.toml").write_text(text)
    with pytest.raises(InventoryError) as caught:
        load(tmp_path / "w.toml")
    assert f"w.toml: {key}:" in str(caught.value)


def test_a_note_goes_at_the_end_of_the_first_line_only():
    assert _noted("first\nsecond", "waiver expired") == "first [waiver expired]\nsecond"
    assert _noted("only", "n") == "only [n]"
