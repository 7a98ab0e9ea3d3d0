"""Under xdist, a component's checks stay on one worker: a dead one is found dead once."""

from __future__ import annotations

import pytest

from opscheck.distribute import component_scope


@pytest.mark.parametrize(("nodeid", "scope"), [
    ("checks/host/test_resources.py::test_disk_not_critically_full[this-host:/]", "this-host"),
    ("checks/redis/test_availability.py::test_redis_answers_ping[wave-redis]", "wave-redis"),
    ("checks/x.py::test_plain", "checks/x.py::test_plain"),
])
def test_scope_is_the_component_in_the_id(nodeid, scope):
    assert component_scope(nodeid) == scope


def test_dead_host_fails_once_under_two_workers(suite, silent_server):
    spec = f"ssh://opscheck@127.0.0.1:{silent_server.port}"
    suite.inventory(f'[system]\ntimeout = 1\n[[components]]\nname = "dead"\nkind = "host"\n'
                    f'spec = "{spec}"\n[[components]]\nname = "here"\nkind = "host"\n')
    result = suite.run("-n", "2", "-m", "critical", subprocess=True)
    # both workers had work (two components), but only one of them ever tried "dead"
    result.assert_outcomes(passed=2, failed=1, errors=1)


def test_a_run_without_xdist_works(suite):
    suite.inventory('[[components]]\nname = "here"\nkind = "host"\n')
    suite.run("-p", "no:xdist", "-m", "critical").assert_outcomes(passed=2)
