"""The verdict pipeline: what a check's reports finally say, decided here, in this order.

1. **outcome** (``pytest_runtest_makereport``): what the check raised becomes one line. A
   :class:`~opscheck.errors.CheckFailed` or a check's ``assert cond, msg``: the message
   alone; :class:`~opscheck.errors.CouldNotRun`: an error with its line; a client's
   connection error: a failure naming the component and its address (the component's later
   checks could not run); :class:`~opscheck.errors.NotApplicable`: a skip with its reason.
2. **waiver**: the :func:`~opscheck.hookspecs.pytest_opscheck_report` hooks amend each
   phase's report (the waivers plugin marks an expired waiver).
3. **remediation**: after the check's whole run, before anything is logged, the
   :func:`~opscheck.hookspecs.pytest_opscheck_remediate` hook may act on a failure and
   replace the run's reports with a re-run's.
4. **redaction and escaping** (:func:`sanitize`): every report is redacted, its
   text made printable and its lines capped just before it is logged, so no reporter,
   writer or xdist channel ever sees a secret, a control character or a byte that is not
   UTF-8 (a task file named ``bad-\xff.json``), and no message is megabytes long. The
   exception a phase raised is redacted in place as it leaves the check (the setup, call
   and teardown wrappers below), so nothing made from it (``--debug``'s trace, a plugin's
   hook, a log) holds a secret either.
5. **the run**: a run in which every selected check was skipped checked nothing, and exits
   5 (never 0), as a run that selected nothing does.

This module owns ``pytest_runtest_protocol`` for the suite's checks: it runs the check
with pytest's own :func:`~_pytest.runner.runtestprotocol`, without logging, and logs the
final reports itself.
"""

from __future__ import annotations

from typing import Any

import pytest
from _pytest.outcomes import Skipped
from _pytest.runner import runtestprotocol

from opscheck import connect, secrets, text
from opscheck.errors import CouldNotRun, NotApplicable
from opscheck.settings import on_controller
from opscheck.thresholds import ThresholdWarning


def _skip(exc: NotApplicable) -> Skipped:
    return Skipped(str(exc), _use_item_location=True)


@pytest.hookimpl(wrapper=True)
def pytest_runtest_setup(item: pytest.Item) -> Any:
    try:
        return (yield)
    except NotApplicable as exc:  # a fixture or the check found the check does not apply
        raise _skip(exc) from None
    except BaseException as exc:  # leaves with its secrets masked, type and traceback kept
        secrets.scrub_exception(exc)
        raise


@pytest.hookimpl(wrapper=True)
def pytest_runtest_call(item: pytest.Item) -> Any:
    try:
        return (yield)
    except NotApplicable as exc:  # a fixture or the check found the check does not apply
        raise _skip(exc) from None
    except BaseException as exc:  # leaves with its secrets masked, type and traceback kept
        secrets.scrub_exception(exc)
        raise


@pytest.hookimpl(wrapper=True)
def pytest_runtest_teardown(item: pytest.Item) -> Any:
    try:
        return (yield)
    except BaseException as exc:  # leaves with its secrets masked, type and traceback kept
        secrets.scrub_exception(exc)
        raise


def message(exc: AssertionError) -> str:
    """A failed check's message without pytest's assertion introspection ('assert 0 > 0',
    '+ where …', which would print the component's whole model); empty for a bare assert,
    whose traceback is then kept for the check's author."""
    return str(exc).split("\nassert ", 1)[0].strip()


#: report attribute: why a failed phase failed (travels with the report to xdist's controller)
CAUSE = "opscheck_cause"
CONDITION = "condition"  # the check's own condition is false: the one cause that is a finding
COULD_NOT_RUN = "could not run"  # a fixture or the target could not find out (setup, CouldNotRun)
UNREACHABLE = "unreachable"  # the component did not answer
BROKEN = "broken"  # the check itself crashed (a bug, not a finding)


def cause(item: pytest.Item, call: pytest.CallInfo[None]) -> str:
    """Why the phase ``call`` failed: only :data:`CONDITION` is a confirmed failure of what
    the check checks (what a remediation may act on)."""
    exc = call.excinfo.value if call.excinfo else None
    if call.when != "call" or isinstance(exc, CouldNotRun):
        return COULD_NOT_RUN
    if connect.unreachable_reason(item) or (exc is not None and connect.is_connection_error(exc)):
        return UNREACHABLE
    if isinstance(exc, AssertionError | pytest.fail.Exception | ThresholdWarning):
        return CONDITION  # a ThresholdWarning raised: the strict gate (-W error::…)
    return BROKEN


def cause_of(report: pytest.TestReport) -> str | None:
    """The :func:`cause` of a failed report (None for one that did not fail here)."""
    return getattr(report, CAUSE, None)


def one_liner(item: pytest.Item, call: pytest.CallInfo[None]) -> str | None:
    """The one line the report of a phase that raised will say (None: pytest's own report
    is kept: a bare ``assert``, or a traceback the operator asked for). Decided from the
    exception alone, before the report is made: pytest then makes its cheapest form of the
    report instead of the traceback that this line replaces."""
    excinfo = call.excinfo
    if excinfo is None or isinstance(excinfo.value, Skipped):
        return None
    exc = excinfo.value
    if isinstance(exc, CouldNotRun | ThresholdWarning):
        return str(exc)
    if call.when == "call" and isinstance(exc, AssertionError) and message(exc):
        return message(exc)
    if call.when == "call" and (found := connect.unreachable_line(item, exc)):
        return found
    if isinstance(exc, pytest.fail.Exception) and not exc.pytrace:  # measure(), checks
        return exc.msg or ""  # its line alone: not the exception it was raised beside
    if not isinstance(exc, AssertionError | pytest.fail.Exception) and not _traceback_asked(
            item.config):
        return crashed(item, call.when, exc)
    return None


def word(item: pytest.Item, call: pytest.CallInfo[None], report: pytest.TestReport,
         line: str | None) -> None:
    """Step 1: the report of a phase that raised says what happened, in one line (printable,
    redacted and capped: a file name or an answer in it cannot add a line of its own); a
    check's own failure to reach its component marks it unreachable for the rest of the run."""
    excinfo = call.excinfo
    if excinfo is None or report.passed or report.skipped:
        return
    setattr(report, CAUSE, cause(item, call))
    if call.when == "call":
        connect.mark_if_unreachable(item, excinfo.value)
    if line is not None:
        report.longrepr = text.one_line(secrets.redact(line))


def _traceback_asked(config: pytest.Config) -> bool:
    """Did the operator ask for tracebacks (``--tb=long``, ``--full-trace``)?"""
    return config.option.tbstyle == "long" or bool(getattr(config.option, "fulltrace", False))


def crashed(item: pytest.Item, when: str, exc: BaseException) -> str:
    """One line for an exception no target turned into a verdict (a check's or a fixture's
    bug, a client library's surprise): the component, the check, the cause."""
    component = item.stash.get(connect.COMPONENT, None)
    who = f"{component.name}: " if component is not None else ""
    name = item.name.split("[")[0]
    what = "could not run" if when != "call" else "could not complete"
    return f"{who}{name} {what}: {connect.one_line(exc)} (--tb=long shows the traceback)"


def pytest_report_teststatus(report: pytest.TestReport, config: pytest.Config) -> Any:
    """A check that could not run is an error even when it found out only while running."""
    if report.when == "call" and report.failed and cause_of(report) == COULD_NOT_RUN:
        return "error", "E", "ERROR"
    return None


@pytest.hookimpl(wrapper=True, tryfirst=True)
def pytest_runtest_makereport(item: pytest.Item, call: pytest.CallInfo[None]) -> Any:
    """Steps 1 and 2, on every phase's report (outermost: other plugins' wrappers, pytest's
    xfail handling among them, have made their changes when this runs)."""
    line = one_liner(item, call)
    if line is None or item.get_closest_marker("xfail") is not None:  # a waived check's
        report = yield  # failure is xfailed, not worded: its traceback is what it shows
    else:  # pytest's traceback would be thrown away: it makes the exception's value alone
        option, style = item.config.option, item.config.option.tbstyle
        option.tbstyle = "value"
        try:
            report = yield
        finally:
            option.tbstyle = style
    word(item, call, report, line)
    item.ihook.pytest_opscheck_report(item=item, call=call, report=report)
    sanitize(report)  # early too: plugins that read reports as they are made see no secret
    return report


def sanitize(report: pytest.TestReport) -> None:
    """Step 4: secrets out of the failure text, captured output and properties (names kept:
    :data:`opscheck.secrets.NAME_KEYS`); every text printable, each line capped."""
    longrepr = report.longrepr
    if isinstance(longrepr, tuple):  # a skip: (path, line, reason); keep its shape
        report.longrepr = (*longrepr[:-1], text.one_line(secrets.redact(str(longrepr[-1]))))
    elif isinstance(longrepr, str):
        report.longrepr = text.lines(secrets.redact(longrepr))
    elif longrepr is not None:
        shown = str(longrepr)
        if secrets.contains_secret(shown) or text.lines(shown) != shown:
            report.longrepr = text.lines(secrets.redact(shown))
    report.sections = [(title, text.lines(secrets.redact(body)))
                       for title, body in report.sections]
    report.user_properties = [
        (k, text.clean(v if k in secrets.NAME_KEYS else secrets.redact_any(v), finite=False))
        for k, v in report.user_properties]


@pytest.hookimpl(tryfirst=True)
def pytest_runtest_protocol(item: pytest.Item, nextitem: pytest.Item | None) -> bool:
    """Run the check, let remediation act (step 3), sanitize (step 4), then log."""
    ihook = item.ihook
    ihook.pytest_runtest_logstart(nodeid=item.nodeid, location=item.location)
    reports = runtestprotocol(item, log=False, nextitem=nextitem)
    replaced = ihook.pytest_opscheck_remediate(item=item, nextitem=nextitem, reports=reports)
    for report in reports if replaced is None else replaced:
        sanitize(report)
        ihook.pytest_runtest_logreport(report=report)
    ihook.pytest_runtest_logfinish(nodeid=item.nodeid, location=item.location)
    return True


def checked_nothing(config: pytest.Config) -> int | None:
    """The number of checks that were selected but all skipped, when none ran; else None."""
    from opscheck import outcomes  # a plugin registered after this one: imported by pytest

    found = outcomes.results(config).values()
    if not found or any(r.state != "skipped" for r in found):
        return None
    return len(found)


@pytest.hookimpl(trylast=True)
def pytest_sessionfinish(session: pytest.Session) -> None:
    """Step 5, the run's verdict: a run in which every selected check was skipped checked
    nothing, and is never OK: exit 5, as pytest's own for a run that selected nothing."""
    if session.exitstatus == pytest.ExitCode.OK and on_controller(session.config) and \
            checked_nothing(session.config):
        session.exitstatus = pytest.ExitCode.NO_TESTS_COLLECTED


def pytest_terminal_summary(terminalreporter: Any, config: pytest.Config) -> None:
    skipped = checked_nothing(config) if on_controller(config) else None
    if skipped:
        terminalreporter.write_line(f"opscheck: nothing was checked: all {skipped} selected "
                                    "checks were skipped (see their reasons); exit 5",
                                    yellow=True)
