"""JUnit XML: pytest's own ``--junitxml``, with opscheck's facts as testcase properties.

``--report-junit PATH`` (or ``--report-dir``) switches pytest's junitxml on. pytest already
writes every user property of a check as a ``<property>`` of its ``<testcase>`` (tier,
kind, component, the measurements, the waiver); this module adds ``opscheck.state``
(passed, warning, failed, could not run, skipped, remediated, waived), ``opscheck.action``
and the remediation's record (``opscheck.remediation``), and writes
dict-valued properties as JSON instead of Python reprs, so CI tools read them.
Failed checks are ``<failure>``, could-not-run ``<error>``, skipped and waived checks
``<skipped>`` (waived ones with ``type="pytest.xfail"``), as pytest writes them.
"""

from __future__ import annotations

import json

import pytest

from opscheck import secrets, text
from opscheck.outcomes import REMEDIATION, results
from opscheck.reporting.records import action
from opscheck.settings import on_controller


@pytest.hookimpl(tryfirst=True)
def pytest_configure(config: pytest.Config) -> None:
    # registered before opscheck.outcomes' collector (its configure is not tryfirst), so
    # among the tryfirst logreport hooks the collector runs first, this next, junitxml last
    if on_controller(config):
        config.pluginmanager.register(Properties(config), "opscheck-junit")
        config.pluginmanager.register(Restore(), "opscheck-junit-restore")


class Restore:
    """Gives the report its own properties back once junitxml has read the written ones:
    the other readers after it (the remediation plugin's summary) see dicts, not JSON."""

    @pytest.hookimpl(wrapper=True)
    def pytest_runtest_logreport(self, report: pytest.TestReport) -> object:
        own = list(report.user_properties)
        try:
            return (yield)
        finally:
            report.user_properties = own


class Properties:
    def __init__(self, config: pytest.Config) -> None:
        self.config = config

    @pytest.hookimpl(tryfirst=True)
    def pytest_runtest_logreport(self, report: pytest.TestReport) -> None:
        """On a check's last report, after the collector, before junitxml reads it."""
        if report.when != "teardown" or not self.config.option.xmlpath:
            return
        result = results(self.config).get(report.nodeid)
        if result is None:
            return
        props = [(k, _json(v) if isinstance(v, dict | list) else v)
                 for k, v in report.user_properties]
        if result.remediation and REMEDIATION not in dict(props):  # it rides on the call report
            props.append((REMEDIATION, _json(secrets.redact_any(result.remediation))))
        props.append(("opscheck.state", result.state))
        todo = action(result)
        if todo:
            props.append(("opscheck.action", todo))
        report.user_properties = props  # for junitxml, inside Restore's wrapper


def _json(value: object) -> str:
    """Strict JSON (a value that is not a finite number as null), for CI tools to read."""
    return json.dumps(text.clean(value), allow_nan=False, default=str)
