"""Waivers as data: which node ids a pattern waives, the day it stops, what a file may hold
(opscheck.waivers, without a run; the runs themselves are in test_report_gates)."""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from types import SimpleNamespace

import pytest

from opscheck.inventory import InventoryError
from opscheck.waivers import EXPIRED, Waiver, _noted, load, pytest_opscheck_report

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


@pytest.mark.parametrize(("text", "message"), [
    ("[[waivers]\n", "cannot read the waivers (TOML syntax error: Expected ']]' at the end of an "
                     "array declaration (at line 1, column 10)); fix the file"),
    ('[[waiver]]\ncheck = "a"\n',
     "waiver: unknown key; write each waiver under its own [[waivers]] header"),
    ('[waivers]\ncheck = "a"\n', "waivers: must be an array of tables: [[waivers]]"),
    ('[[waivers]]\ncheck = "a"\njustification = "j"\nexpires = 2030-01-01\nx = 1\n',
     "waivers[0].x: unknown key 'x'; allowed keys here: check, expires, justification"),
])
def test_each_bad_waivers_file_is_one_line_naming_the_file_the_key_and_the_fix(
        tmp_path, text, message):
    (tmp_path / "w.toml").write_text(text)
    with pytest.raises(InventoryError) as caught:
        load(tmp_path / "w.toml")
    assert str(caught.value) == f"{tmp_path / 'w.toml'}: {message}"


def test_a_missing_waivers_file_says_where_its_path_came_from(tmp_path):
    with pytest.raises(InventoryError) as caught:
        load(tmp_path / "none.toml")
    assert str(caught.value) == (f"{tmp_path / 'none.toml'}: waivers file not found; fix "
                                 "--waivers, OPSCHECK_WAIVERS or opscheck_waivers")


class Item:
    def __init__(self, stale: dict | None) -> None:
        self.nodeid = "checks/x/test_x.py::test_export"
        self.stash = pytest.Stash()
        if stale is not None:
            self.stash[EXPIRED] = stale


STALE = {"check": "test_export*", "expires": "2020-01-31", "justification": "OPS-1",
         "file": "/etc/opscheck/waivers.toml"}


def phase(when: str, outcome: str, longrepr=None) -> tuple[SimpleNamespace, pytest.TestReport]:
    return SimpleNamespace(when=when), pytest.TestReport(
        "n", ("x.py", 1, "t"), {}, outcome, longrepr, when)


def test_an_expired_waiver_fails_a_check_that_passes_now_saying_remove_it():
    call, report = phase("call", "passed")
    pytest_opscheck_report(Item(STALE), call, report)
    assert report.outcome == "failed"
    assert report.longrepr == (
        "checks/x/test_x.py::test_export: waiver 'test_export*' expired on 2020-01-31 (OPS-1); "
        "the check passes now: remove the waiver from /etc/opscheck/waivers.toml")


def test_an_expired_waiver_is_noted_on_the_failures_first_line():
    call, report = phase("call", "failed", "export missing\ndetail")
    pytest_opscheck_report(Item(STALE), call, report)
    assert report.longrepr == ("export missing [waiver 'test_export*' expired on 2020-01-31 "
                               "(OPS-1)]\ndetail")
    crash = SimpleNamespace(message="boom")
    call, report = phase("call", "failed", SimpleNamespace(reprcrash=crash))
    pytest_opscheck_report(Item(STALE), call, report)
    assert crash.message == "boom [waiver 'test_export*' expired on 2020-01-31 (OPS-1)]"


@pytest.mark.parametrize(("stale", "when", "outcome"), [
    (None, "call", "passed"), (STALE, "setup", "passed"), (STALE, "teardown", "passed"),
    (STALE, "call", "skipped")])
def test_no_expired_waiver_or_another_phase_leaves_the_report_alone(stale, when, outcome):
    call, report = phase(when, outcome, ("x.py", 1, "reason") if outcome == "skipped" else None)
    pytest_opscheck_report(Item(stale), call, report)
    assert report.outcome == outcome
