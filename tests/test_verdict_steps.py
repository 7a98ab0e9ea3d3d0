"""The verdict pipeline's steps on hand-made reports, in-process (opscheck.verdict): why a
phase failed, the one line it shows, what sanitizing masks and keeps, when a run checked
nothing; the runs themselves are in test_outcomes and test_one_line."""

from __future__ import annotations

from types import SimpleNamespace
from typing import Any

import pytest

from opscheck import secrets, verdict
from opscheck.connect import COMPONENT
from opscheck.errors import CouldNotRun
from opscheck.outcomes import RESULTS, Result
from opscheck.thresholds import ThresholdWarning


@pytest.fixture
def fresh_secrets(monkeypatch: pytest.MonkeyPatch):
    monkeypatch.setattr(secrets, "_values", set())
    monkeypatch.setattr(secrets, "_names", set())
    secrets._matcher.cache_clear()
    yield
    secrets._matcher.cache_clear()


class Item:
    def __init__(self, name: str = "test_memory[bus]", component: Any = None,
                 tbstyle: str = "short", marks: dict[str, Any] | None = None) -> None:
        self.name = name
        self.marks = marks or {}
        self.stash = pytest.Stash()
        if component is not None:
            self.stash[COMPONENT] = component
        self.config = SimpleNamespace(option=SimpleNamespace(tbstyle=tbstyle, fulltrace=False))

    def get_closest_marker(self, name: str) -> Any:
        return self.marks.get(name)


def call(when: str, exc: BaseException | None) -> pytest.CallInfo:
    def raise_it() -> None:
        if exc is not None:
            raise exc

    return pytest.CallInfo.from_call(raise_it, when)


def word(item: Any, phase: pytest.CallInfo, rep: pytest.TestReport) -> None:
    """Step 1 as the pipeline runs it: the line decided from the exception, then worded."""
    verdict.word(item, phase, rep, verdict.one_liner(item, phase))


def report(outcome: str = "failed", longrepr: Any = "E   x", when: str = "call",
           **extra: Any) -> pytest.TestReport:
    rep = pytest.TestReport("n", ("x.py", 1, "t"), {}, outcome, longrepr, when, **extra)
    return rep


@pytest.mark.parametrize(("when", "exc", "why"), [
    ("setup", AssertionError("x"), "could not run"),
    ("call", CouldNotRun("could not run: bus unreachable"), "could not run"),
    ("call", ConnectionRefusedError("refused"), "unreachable"),
    ("call", AssertionError("bus down"), "condition"),
    ("call", pytest.fail.Exception("95% ≥ critical", pytrace=False), "condition"),
    ("call", ThresholdWarning("80% ≥ warning"), "condition"),
    ("call", KeyError("x"), "broken"),
])
def test_only_the_checks_own_condition_is_a_confirmed_failure(when, exc, why):
    assert verdict.cause(Item(), call(when, exc)) == why


def test_the_assert_message_is_shown_without_pytests_introspection():
    assert verdict.message(AssertionError("bus down\nassert 0 > 0\n + where")) == "bus down"
    assert verdict.message(AssertionError("  spaced  ")) == "spaced"
    assert verdict.message(AssertionError()) == ""


def test_each_kind_of_failure_is_worded_in_one_line():
    item = Item()
    rep = report()
    word(item, call("call", AssertionError("bus down\nassert False")), rep)
    assert (rep.longrepr, verdict.cause_of(rep)) == ("bus down", "condition")
    rep = report()
    word(item, call("call", pytest.fail.Exception("over\nthe limit", pytrace=False)), rep)
    assert rep.longrepr == "over\\nthe limit"  # one line: its newline cannot forge a line
    rep = report(when="setup")
    word(item, call("setup", CouldNotRun("could not run: bus unreachable")), rep)
    assert (rep.longrepr, verdict.cause_of(rep)) == ("could not run: bus unreachable",
                                                     "could not run")


def test_a_crash_names_the_component_the_check_and_the_cause():
    bus = SimpleNamespace(name="bus")
    assert verdict.crashed(Item(component=bus), "call", KeyError("used_memory")) == (
        "bus: test_memory could not complete: KeyError: 'used_memory' (--tb=long shows the "
        "traceback)")
    assert verdict.crashed(Item(), "setup", ValueError("bad\nmore")) == (
        "test_memory could not run: ValueError: bad (--tb=long shows the traceback)")
    rep = report()
    word(Item(), call("call", KeyError("k")), rep)
    assert rep.longrepr.startswith("test_memory could not complete: KeyError")


def test_a_crash_keeps_its_traceback_when_the_operator_asks_for_it():
    rep = report(longrepr="the traceback")
    word(Item(tbstyle="long"), call("call", KeyError("k")), rep)
    assert rep.longrepr == "the traceback" and verdict.cause_of(rep) == "broken"


def test_passed_and_skipped_phases_are_not_worded():
    rep = report("passed", None)
    word(Item(), call("call", None), rep)
    assert rep.longrepr is None and verdict.cause_of(rep) is None


def test_a_call_that_could_not_run_is_reported_as_an_error():
    rep = report()
    setattr(rep, verdict.CAUSE, verdict.COULD_NOT_RUN)
    assert verdict.pytest_report_teststatus(rep, None) == ("error", "E", "ERROR")
    setattr(rep, verdict.CAUSE, verdict.CONDITION)
    assert verdict.pytest_report_teststatus(rep, None) is None


@pytest.mark.usefixtures("fresh_secrets")
def test_sanitize_masks_secrets_everywhere_but_the_name_fields():
    secrets.remember("s3cr3t-value")
    rep = report(longrepr="pw s3cr3t-value\nline 2", sections=[("out", "s3cr3t-value\x1b[2J")],
                 user_properties=[("component", "s3cr3t-value"), ("x", {"m": "s3cr3t-value"})])
    verdict.sanitize(rep)
    assert rep.longrepr == "pw ***\nline 2"
    assert rep.sections == [("out", "***\\x1b[2J")]
    assert rep.user_properties == [("component", "s3cr3t-value"), ("x", {"m": "***"})]
    skip = report("skipped", ("x.py", 3, "no s3cr3t-value\nhere"), when="setup")
    verdict.sanitize(skip)
    assert skip.longrepr == ("x.py", 3, "no ***\\nhere")


def test_a_run_whose_checks_were_all_skipped_checked_nothing():
    config = SimpleNamespace(stash=pytest.Stash())
    assert verdict.checked_nothing(config) is None  # nothing selected: pytest's own exit 5
    found = config.stash.setdefault(RESULTS, {})
    found["a"], found["b"] = Result("a", state="skipped"), Result("b", state="skipped")
    assert verdict.checked_nothing(config) == 2
    found["c"] = Result("c", state="passed")
    assert verdict.checked_nothing(config) is None


def test_the_message_stops_at_the_first_introspection_line():
    assert verdict.message(AssertionError("bus down\nassert a\nassert b")) == "bus down"


def test_a_check_that_does_not_apply_is_skipped_at_its_own_location():
    from opscheck.errors import NotApplicable

    skipped = verdict._skip(NotApplicable("no replica configured"))
    assert (skipped.msg, skipped._use_item_location) == ("no replica configured", True)


@pytest.mark.parametrize(("tbstyle", "fulltrace", "asked"), [
    ("long", False, True), ("short", True, True), ("short", False, False), ("auto", None, False)])
def test_a_traceback_is_asked_for_with_tb_long_or_full_trace(tbstyle, fulltrace, asked):
    option = SimpleNamespace(tbstyle=tbstyle)
    if fulltrace is not None:
        option.fulltrace = fulltrace
    assert verdict._traceback_asked(SimpleNamespace(option=option)) is asked


@pytest.mark.usefixtures("fresh_secrets")
def test_a_rich_failure_report_is_flattened_only_when_it_holds_a_secret_or_a_control_character():
    class Longrepr:
        def __init__(self, text: str) -> None:
            self.text = text

        def __str__(self) -> str:
            return self.text

        def toterminal(self, tw) -> None:  # what pytest's reports have
            tw.line(self.text)

    secrets.remember("s3cr3t-value")
    clean = Longrepr("E   bus down\nline 2")
    rep = report(longrepr=clean)
    verdict.sanitize(rep)
    assert rep.longrepr is clean  # kept as it is: pytest renders it
    for text, shown in (("E   pw s3cr3t-value", "E   pw ***"), ("E   \x1b[2J", "E   \\x1b[2J")):
        rep = report(longrepr=Longrepr(text))
        verdict.sanitize(rep)
        assert rep.longrepr == shown


def test_properties_keep_non_finite_numbers_as_they_are():
    rep = report(user_properties=[("opscheck.measure", {"value": float("inf")})])
    verdict.sanitize(rep)
    assert rep.user_properties == [("opscheck.measure", {"value": float("inf")})]


def test_a_connection_error_in_the_call_names_the_component_its_address_and_marks_it():
    from opscheck.connect import _CONNECTIONS, Connections

    bus = SimpleNamespace(name="bus", address="127.0.0.1:6379")
    item = Item(component=bus)
    item.config.stash = pytest.Stash()
    item.config.stash[_CONNECTIONS] = Connections()
    rep = report()
    word(item, call("call", ConnectionRefusedError("refused")), rep)
    assert (rep.longrepr, verdict.cause_of(rep)) == (
        "bus at 127.0.0.1:6379: ConnectionRefusedError: refused", "unreachable")
    assert item.config.stash[_CONNECTIONS].failed == {"bus": "ConnectionRefusedError: refused"}


def test_a_bare_assert_keeps_its_traceback_for_the_checks_author():
    rep = report(longrepr="the traceback")
    word(Item(), call("call", AssertionError()), rep)
    assert (rep.longrepr, verdict.cause_of(rep)) == ("the traceback", "condition")


def test_a_check_failing_with_an_empty_message_shows_an_empty_line_not_its_exception():
    rep = report(longrepr="the traceback")
    word(Item(), call("call", pytest.fail.Exception("", pytrace=False)), rep)
    assert rep.longrepr == ""


def test_a_waived_failure_keeps_pytests_xfail_report():
    # pytest made the failure an xfail (a waiver): a skipped report with the exception
    rep = report("skipped", ("x.py", 1, "waived until 2030-06-30: OPS-1"))
    word(Item(), call("call", AssertionError("export missing")), rep)
    assert rep.longrepr == ("x.py", 1, "waived until 2030-06-30: OPS-1")
    assert verdict.cause_of(rep) is None


def test_a_failure_pytest_made_without_an_exception_keeps_its_report():
    # a strict xfail that passed: failed, with no exception to word
    rep = report(longrepr="[XPASS(strict)] known bug")
    word(Item(), call("call", None), rep)
    assert (rep.longrepr, verdict.cause_of(rep)) == ("[XPASS(strict)] known bug", None)


class Terminal:
    def __init__(self) -> None:
        self.written: list[tuple[str, dict]] = []

    def write_line(self, line: str, **markup: Any) -> None:
        self.written.append((line, markup))


def test_a_run_that_checked_nothing_says_so_in_yellow_with_its_exit_status():
    config = SimpleNamespace(stash=pytest.Stash())
    config.stash[RESULTS] = {"a": Result("a", state="skipped"), "b": Result("b", state="skipped")}
    terminal = Terminal()
    verdict.pytest_terminal_summary(terminal, config)
    assert terminal.written == [("opscheck: nothing was checked: all 2 selected checks were "
                                 "skipped (see their reasons); exit 5", {"yellow": True})]
    config.stash[RESULTS]["c"] = Result("c", state="passed")
    terminal = Terminal()
    verdict.pytest_terminal_summary(terminal, config)
    assert terminal.written == []


def test_an_xdist_worker_does_not_say_that_nothing_was_checked():
    config = SimpleNamespace(stash=pytest.Stash(), workerinput={})
    config.stash[RESULTS] = {"a": Result("a", state="skipped")}
    terminal = Terminal()
    verdict.pytest_terminal_summary(terminal, config)
    assert terminal.written == []


def make_report(item: Any, phase: pytest.CallInfo, built: pytest.TestReport) -> tuple[str, Any]:
    """Drive the makereport wrapper by hand: the traceback style pytest builds the report
    with, and the report the wrapper returns."""
    item.ihook = SimpleNamespace(pytest_opscheck_report=lambda **_: None)
    wrapper = verdict.pytest_runtest_makereport(item, phase)
    next(wrapper)
    style = item.config.option.tbstyle  # what pytest's own makereport would see
    with pytest.raises(StopIteration) as done:
        wrapper.send(built)
    return style, done.value.value


def test_a_report_whose_traceback_is_replaced_is_built_without_one():
    item = Item(tbstyle="short")
    style, rep = make_report(item, call("setup", CouldNotRun("could not run: bus unreachable")),
                             report(when="setup"))
    assert style == "value"  # pytest makes the exception's value alone, not its traceback
    assert rep.longrepr == "could not run: bus unreachable"
    assert item.config.option.tbstyle == "short"  # the operator's style, back as it was


def test_a_traceback_that_is_kept_is_built_as_the_operator_asked():
    waived = Item(tbstyle="short", marks={"xfail": pytest.mark.xfail(reason="OPS-1").mark})
    for item, exc, outcome in (
            (Item(tbstyle="short"), AssertionError(), "failed"),  # a bare assert
            (Item(tbstyle="long"), KeyError("k"), "failed"),  # a crash, --tb=long
            (waived, KeyError("k"), "skipped")):  # a waived check's crash: xfailed, not worded
        style, rep = make_report(item, call("call", exc), report(outcome, "the traceback"))
        assert style == item.config.option.tbstyle
        assert rep.longrepr == "the traceback"
