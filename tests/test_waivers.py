"""Waivers as data: which node ids a pattern waives, the day it stops, what a file may hold
(opscheck.waivers, without a run; the runs themselves are in test_report_gates)."""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from types import SimpleNamespace

import pytest

from opscheck.inventory import InventoryError
from opscheck.outcomes import RESULTS, Result
from opscheck.waivers import (
    EXPIRED,
    UNMATCHED,
    WAIVERS,
    Waiver,
    _noted,
    expired_lines,
    load,
    pytest_configure,
    pytest_opscheck_report,
    pytest_terminal_summary,
    unmatched,
    unmatched_lines,
    waivers_file,
)

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


class Config:
    """The little of pytest.Config the waivers plugin asks: its settings (command line, ini),
    where the run started and the suite's root, its warning filters, its stash."""

    def __init__(self, root: Path, option: str | None = None, ini: str | None = None,
                 filterwarnings: tuple[str, ...] = ()) -> None:
        self.stash = pytest.Stash()
        self.rootpath = root / "suite"
        self.invocation_params = SimpleNamespace(dir=root / "shell")
        self.known_args_namespace = SimpleNamespace(pythonwarnings=None)
        self._option, self._ini = option, {"opscheck_waivers": ini,
                                           "filterwarnings": list(filterwarnings)}

    def getoption(self, name: str, default=None):
        return self._option if name == "opscheck_waivers" else default

    def getini(self, name: str):
        return self._ini[name]


class Terminal:
    """A terminal reporter that keeps what the plugin writes: (kind, text, markup)."""

    def __init__(self) -> None:
        self.written: list[tuple[str, str, dict]] = []

    def section(self, title: str, **markup) -> None:
        self.written.append(("section", title, markup))

    def line(self, text: str, **markup) -> None:
        self.written.append(("line", text, markup))


@pytest.fixture
def no_env(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("OPSCHECK_WAIVERS", raising=False)


def test_without_a_waivers_setting_no_file_is_in_force(tmp_path, no_env):
    assert waivers_file(Config(tmp_path)) is None


def test_a_waivers_file_typed_is_relative_to_the_shell_and_one_in_the_ini_to_the_suite(
        tmp_path, no_env, monkeypatch):
    assert waivers_file(Config(tmp_path, option="w.toml")) == tmp_path / "shell" / "w.toml"
    assert waivers_file(Config(tmp_path, ini="w.toml")) == tmp_path / "suite" / "w.toml"
    monkeypatch.setenv("OPSCHECK_WAIVERS", "env.toml")
    assert waivers_file(Config(tmp_path, ini="w.toml")) == tmp_path / "shell" / "env.toml"


def test_the_run_loads_the_waivers_file_in_force_and_none_without_one(tmp_path, no_env):
    (tmp_path / "shell").mkdir()
    (tmp_path / "shell" / "w.toml").write_text(
        '[[waivers]]\ncheck = "test_x"\njustification = "OPS-1"\nexpires = 2030-06-30\n')
    config = Config(tmp_path, option="w.toml")
    pytest_configure(config)
    assert [(w.check, w.justification) for w in config.stash[WAIVERS]] == [("test_x", "OPS-1")]
    bare = Config(tmp_path)
    pytest_configure(bare)
    assert WAIVERS not in bare.stash


def test_a_bad_waivers_file_stops_the_run_as_a_usage_error_naming_file_and_fix(tmp_path, no_env):
    with pytest.raises(pytest.UsageError) as caught:
        pytest_configure(Config(tmp_path, option="none.toml"))
    assert str(caught.value) == (f"{tmp_path / 'shell' / 'none.toml'}: waivers file not found; "
                                 "fix --waivers, OPSCHECK_WAIVERS or opscheck_waivers")


def test_the_waivers_matching_no_check_are_none_before_collection_and_those_found_after(
        tmp_path):
    config = Config(tmp_path)
    assert unmatched(config) == []
    config.stash[UNMATCHED] = ["test_gone"]
    assert unmatched(config) == ["test_gone"]


def expired_result(nodeid: str, expired: bool) -> Result:
    return Result(nodeid, state="failed", waiver={
        "check": "test_export*", "justification": "OPS-1", "expires": "2020-01-31",
        "expired": expired, "file": "/etc/opscheck/waivers.toml"})


def test_each_expired_waiver_is_listed_with_its_check_and_how_to_renew_or_remove_it():
    found = [expired_result("c/test_x.py::test_export", True),
             expired_result("c/test_x.py::test_export2", False), Result("c/test_x.py::test_y")]
    assert expired_lines(found) == [
        "c/test_x.py::test_export: waiver 'test_export*' expired on 2020-01-31; renew it with "
        "a new justification or remove it from /etc/opscheck/waivers.toml"]


def test_a_waiver_matching_no_check_says_how_to_fix_it_and_under_the_gate_that_it_fails():
    source = Path("/etc/opscheck/waivers.toml")
    line = ("waiver 'test_gone' in /etc/opscheck/waivers.toml matches no collected check; fix "
            "its pattern (* and ? are wildcards, brackets are literal) or remove it")
    assert unmatched_lines(["test_gone"], source, gate=False) == [line]
    assert unmatched_lines(["test_gone", "b"], source, gate=True)[0] == \
        line + " (strict gate: this fails the run)"
    assert len(unmatched_lines(["test_gone", "b"], source, gate=True)) == 2


def test_the_summary_lists_expired_waivers_in_red_then_unmatched_ones_in_yellow(tmp_path, no_env):
    config = Config(tmp_path, option="w.toml")
    config.stash[RESULTS] = {"c/test_x.py::test_export": expired_result(
        "c/test_x.py::test_export", True)}
    config.stash[UNMATCHED] = ["test_gone"]
    terminal = Terminal()
    pytest_terminal_summary(terminal, config)
    assert terminal.written == [
        ("section", "opscheck: EXPIRED WAIVERS", {"red": True, "bold": True}),
        ("line", expired_lines(config.stash[RESULTS].values())[0], {"red": True}),
        ("section", "opscheck: WAIVERS MATCHING NO CHECK", {"red": False, "yellow": True}),
        ("line", unmatched_lines(["test_gone"], tmp_path / "shell" / "w.toml", False)[0], {})]


def test_under_the_strict_gate_unmatched_waivers_are_red_and_said_to_fail_the_run(
        tmp_path, no_env):
    config = Config(tmp_path, option="w.toml",
                    filterwarnings=("error::opscheck.thresholds.ThresholdWarning",))
    config.stash[UNMATCHED] = ["test_gone"]
    terminal = Terminal()
    pytest_terminal_summary(terminal, config)
    assert terminal.written == [
        ("section", "opscheck: WAIVERS MATCHING NO CHECK", {"red": True, "yellow": False}),
        ("line", unmatched_lines(["test_gone"], tmp_path / "shell" / "w.toml", True)[0], {})]


def test_a_run_without_expired_or_unmatched_waivers_adds_nothing_to_the_summary(tmp_path):
    config = Config(tmp_path)
    config.stash[RESULTS] = {"n": expired_result("n", False)}
    terminal = Terminal()
    pytest_terminal_summary(terminal, config)
    assert terminal.written == []


def test_an_xdist_worker_writes_no_summary_the_controller_does(tmp_path):
    config = Config(tmp_path)
    config.stash[RESULTS] = {"n": expired_result("n", True)}
    config.workerinput = {}  # type: ignore[attr-defined]
    terminal = Terminal()
    pytest_terminal_summary(terminal, config)
    assert terminal.written == []


def test_an_expired_waiver_leaves_a_failure_report_without_a_crash_line_as_it_is():
    class PluginRepr:  # another plugin's report: not text, no crash line to note it on
        def toterminal(self, tw) -> None:
            tw.line("a plugin's own report")

    shown = PluginRepr()
    call, report = phase("call", "failed", shown)
    pytest_opscheck_report(Item(STALE), call, report)
    assert report.outcome == "failed" and report.longrepr is shown
