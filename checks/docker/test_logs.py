"""Log signals on containers: a container's log lines matching a pattern within a window,
dated by the engine (``[[components.logs]]`` with ``container``, each at its own tier)."""

import pytest

from opscheck.logs.judge import judge


@pytest.mark.docker
def test_container_log_signal(docker_component, container_log, measure):
    """A container log signal holds: matching lines counted, the newest one's age, none or
    at least one within the window (Engine API logs with timestamps, since the window's
    start)."""
    verdict = judge(docker_component, container_log,
                    docker_component.log_tally(container_log))
    if verdict.failure:
        pytest.fail(verdict.failure, pytrace=False)
    if verdict.value is not None:
        measure(verdict.subject, verdict.value, verdict.threshold)
