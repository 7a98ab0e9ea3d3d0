"""Log signals on a host: log files (with their rotated siblings) or a systemd unit's
journal, lines matching a pattern within a window (``[[components.logs]]``, each at its own
tier)."""

import pytest

from opscheck.logs.judge import judge


@pytest.mark.host
def test_log_signal(host_component, log, measure):
    """A log signal holds: matching lines counted, the newest one's age, none or at least one
    within the window (files read from their end, or ``journalctl -u``)."""
    verdict = judge(host_component, log, host_component.log_tally(log))
    if verdict.failure:
        pytest.fail(verdict.failure, pytrace=False)
    if verdict.value is not None:
        measure(verdict.subject, verdict.value, verdict.threshold)
