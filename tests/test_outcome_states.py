"""A check's state from its reports, in-process (opscheck.outcomes.Result): which state wins
across setup, call and teardown, which message goes with it, what a remediation or a waiver
changes; the runs themselves are in test_outcomes."""

from __future__ import annotations

from typing import Any

import pytest

from opscheck.measure import KEY
from opscheck.outcomes import REMEDIATION, WAIVER, Result, failure_text

NODE = "checks/redis/test_redis.py::test_memory[bus]"


def report(when: str = "call", outcome: str = "passed", longrepr: Any = None,
           props: list | None = None, duration: float = 0.25, **extra: Any) -> pytest.TestReport:
    rep = pytest.TestReport(NODE, ("x.py", 1, "test"), {}, outcome, longrepr, when,
                            duration=duration, user_properties=props or [])
    for key, value in extra.items():
        setattr(rep, key, value)
    return rep


def result(*reports: pytest.TestReport) -> Result:
    res = Result(NODE)
    for rep in reports:
        res.add(rep)
    return res


def measured(state: str, line: str) -> tuple[str, dict[str, Any]]:
    return (KEY, {"state": state, "line": line, "metric": "memory used"})


def test_a_passing_check_passes_and_its_phases_durations_add_up():
    res = result(report("setup"), report("call"), report("teardown"))
    assert (res.state, res.message, res.duration) == ("passed", "", 0.75)


def test_a_crossed_warning_level_is_a_warning_with_its_line():
    props = [measured("ok", "a ok"), measured("warning", "bus memory used 80% ≥ warning 75%")]
    res = result(report("setup"), report("call", props=props), report("teardown"))
    assert (res.state, res.message) == ("warning", "bus memory used 80% ≥ warning 75%")
    assert len(res.measurements) == 2


def test_a_failure_in_the_call_is_failed_and_in_setup_could_not_run():
    failed = result(report("setup"), report("call", "failed", "E   bus memory 95% ≥ critical"))
    assert (failed.state, failed.message) == ("failed", "bus memory 95% ≥ critical")
    broken = result(report("setup", "failed", "E   could not run: bus unreachable"))
    assert (broken.state, broken.message) == ("could not run", "could not run: bus unreachable")


def test_a_call_failing_as_could_not_run_is_could_not_run():
    res = result(report("call", "failed", "E   bus unreachable", opscheck_cause="could not run"))
    assert res.state == "could not run"


def test_the_first_failure_keeps_its_state_and_message():
    res = result(report("call", "failed", "E   first"), report("teardown", "failed", "E   later"))
    assert (res.state, res.message) == ("failed", "first")


def test_a_skip_is_skipped_with_its_reason_without_the_prefix():
    res = result(report("setup", "skipped", ("x.py", 3, "Skipped: not configured: no redis")))
    assert (res.state, res.message) == ("skipped", "not configured: no redis")
    odd = result(report("setup", "skipped", "E   odd skip"))
    assert (odd.state, odd.message) == ("skipped", "odd skip")
    short = result(report("setup", "skipped", "odd"))  # text of 3 characters: not a tuple
    assert short.message == "odd"


def test_a_waived_failure_is_waived_with_the_waiver_and_the_failure():
    res = result(report("call", "skipped", "E   export missing", wasxfail="waived until x: OPS-1",
                        props=[(WAIVER, {"check": "test_x"})]))
    assert (res.state, res.message) == ("waived", "waived until x: OPS-1: export missing")
    assert res.waiver == {"check": "test_x"}
    bare = result(report("call", "skipped", None, wasxfail=""))
    assert (bare.state, bare.message) == ("waived", "")


def test_a_remediation_that_fixed_the_check_makes_it_remediated_with_its_line():
    fixed = {"state": "remediated", "line": "REMEDIATED: bus restart_service", "action": "r"}
    res = result(report("call", props=[(REMEDIATION, fixed)]))
    assert (res.state, res.message, res.remediation) == (
        "remediated", "REMEDIATED: bus restart_service", fixed)
    unnamed = result(report("call", props=[(REMEDIATION, {"state": "remediated",
                                                          "action": "restart_service"})]))
    assert unnamed.message == "remediated by restart_service"
    anonymous = result(report("call", props=[(REMEDIATION, {"state": "remediated"})]))
    assert anonymous.message == "remediated by a remediation"


def test_a_remediation_that_did_not_fix_it_leaves_it_failed():
    failed = {"state": "remediation failed", "line": "REMEDIATION FAILED: …"}
    res = result(report("call", "failed", "E   still down", props=[(REMEDIATION, failed)]))
    assert (res.state, res.message) == ("failed", "still down")
    odd = result(report("call", props=[(REMEDIATION, "not a record"), (WAIVER, "nor this")]))
    assert (odd.remediation, odd.waiver, odd.state) == (None, None, "passed")


def test_the_components_properties_are_kept_and_others_ignored():
    res = result(report("setup", props=[("tier", "critical"), ("kind", "redis"),
                                        ("component", "bus"), ("other", 1)]))
    assert res.properties == {"tier": "critical", "kind": "redis", "component": "bus"}


@pytest.mark.parametrize(("longrepr", "line"), [
    ("Failed: bus down", "bus down"),  # pytest.fail's prefix removed
    ("tb line\nE   assert broken\nE   second", "assert broken"),
    ("first\nlast line", "last line"),
    ("", ""),
    (None, ""),
])
def test_the_failure_line_is_the_crash_or_the_first_e_line_or_the_last(longrepr, line):
    assert failure_text(report("call", "failed", longrepr)) == line


def test_the_summary_tallies_each_components_states_and_leaves_out_checks_of_none():
    from types import SimpleNamespace

    from opscheck.outcomes import RESULTS, by_component

    config = SimpleNamespace(stash=pytest.Stash())
    found = config.stash.setdefault(RESULTS, {})
    for i, (component, kind, state) in enumerate([
            ("bus", "redis", "passed"), ("bus", "redis", "passed"), ("bus", "redis", "failed"),
            (None, None, "passed"), ("db", None, "skipped"), (None, None, "passed")]):
        res = Result(f"n{i}", state=state)
        if component:
            res.properties["component"] = component
        if kind:
            res.properties["kind"] = kind
        found[res.nodeid] = res
    tally = by_component(config)
    assert {k: dict(v) for k, v in tally.items()} == {
        ("bus", "redis"): {"passed": 2, "failed": 1}, ("db", "-"): {"skipped": 1}}


def test_a_check_that_could_not_run_stays_so_when_its_teardown_fails_too():
    res = result(report("setup", "failed", "E   could not run: bus unreachable"),
                 report("teardown", "failed", "E   cleanup failed"))
    assert (res.state, res.message) == ("could not run", "could not run: bus unreachable")


def test_a_warning_shows_as_soon_as_the_calls_report_is_in_before_the_teardown():
    # report writers read the result in pytest_runtest_logreport, phase by phase
    res = result(report("setup"), report("call", props=[measured("warning", "80% ≥ 75%")]))
    assert (res.state, res.message) == ("warning", "80% ≥ 75%")


def test_a_remediation_that_fixed_the_check_wins_over_a_warning_left_after_it():
    fixed = {"state": "remediated", "line": "REMEDIATED: bus restart_service"}
    res = result(report("call", props=[(REMEDIATION, fixed), measured("warning", "80% ≥ 75%")]))
    assert (res.state, res.message) == ("remediated", "REMEDIATED: bus restart_service")


def test_a_chained_failures_line_is_the_exception_the_check_ended_with_not_its_cause():
    try:
        try:
            raise KeyError("maxmemory")
        except KeyError as exc:
            raise RuntimeError("bus answered no memory figure") from exc
    except RuntimeError:
        longrepr = pytest.ExceptionInfo.from_current().getrepr()
    assert failure_text(report("call", "failed", longrepr)) == \
        "RuntimeError: bus answered no memory figure"


class Terminal:
    """A terminal reporter that keeps what is written: (kind, text, markup)."""

    def __init__(self) -> None:
        self.written: list[tuple[str, Any, dict]] = []

    def section(self, title: str, **markup: Any) -> None:
        self.written.append(("section", title, markup))

    def line(self, text: str, **markup: Any) -> None:
        self.written.append(("line", text, markup))


def collected(*rows: tuple[str | None, str | None, str]) -> Any:
    """A run's config whose results are ``rows`` of (component, kind, state)."""
    from types import SimpleNamespace

    from opscheck.outcomes import RESULTS

    config = SimpleNamespace(stash=pytest.Stash())
    found = config.stash.setdefault(RESULTS, {})
    for i, (component, kind, state) in enumerate(rows):
        res = Result(f"n{i}", state=state)
        if component:
            res.properties["component"] = component
        if kind:
            res.properties["kind"] = kind
        found[res.nodeid] = res
    return config


def test_the_summary_lists_each_component_checked_by_name_with_its_tally_in_state_order():
    from opscheck.outcomes import Collector

    config = collected(("db", "postgres", "failed"), ("bus", "redis", "warning"),
                       ("bus", "redis", "passed"), ("bus", "redis", "passed"),
                       ("bus", "redis", "waived"), (None, None, "failed"))
    terminal = Terminal()
    Collector(config).pytest_terminal_summary(terminal)  # type: ignore[arg-type]
    assert terminal.written == [("section", "opscheck: components checked", {}),
                                ("line", "bus (redis): 2 passed, 1 warning, 1 waived", {}),
                                ("line", "db (postgres): 1 failed", {})]


def test_a_run_that_checked_no_component_adds_no_components_section():
    from opscheck.outcomes import Collector

    terminal = Terminal()
    Collector(collected((None, None, "passed"))).pytest_terminal_summary(terminal)
    assert terminal.written == []
