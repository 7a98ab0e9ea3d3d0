"""Remediation acts only on a confirmed failure of the check's own condition: never on "could
not run" (an unreachable component, a missing driver, a setup error) or a crashed check,
unless the allow entry opts in (``on_unreachable = true``); a dry run that would fail says so.
"""

from __future__ import annotations

import pytest
from remediation_kit import allow_command, audit, flag_check, remediation_toml
from servers import free_port

DEAD_REDIS = '''
import pytest

@pytest.mark.critical
@pytest.mark.redis
@pytest.mark.remediation("restart_database")
def test_redis_answers(redis_component):
    """Redis answers PING."""
    assert redis_component.client.ping(), "no PONG"

@pytest.mark.critical
@pytest.mark.redis
@pytest.mark.remediation("restart_database")
def test_redis_answers_again(redis_component):
    """Its second check: could not run, the component being unreachable."""
    assert redis_component.client.ping(), "no PONG"
'''
NOT_RUN = '''
import pytest
from opscheck.errors import CouldNotRun

@pytest.fixture
def driver():
    raise CouldNotRun("could not run: NVML Shared Library Not Found")

@pytest.mark.critical
@pytest.mark.files
@pytest.mark.remediation("restart_service", component="inference")
def test_gpu_ok(driver):
    """A check whose driver is missing."""

@pytest.mark.critical
@pytest.mark.files
@pytest.mark.remediation("restart_service", component="inference")
def test_crashes():
    """A check that crashes: a bug, not a finding."""
    {}["missing"]
'''


def redis_inventory(port: int, **entry: object) -> str:
    component = ('[[components]]\nname = "bus"\nkind = "redis"\n'
                 f'url = "redis://127.0.0.1:{port}"\ntimeout = 1\n')
    return remediation_toml([allow_command(["touch", "acted"], component="bus",
                                           action="restart_database", **entry)], component)


@pytest.mark.parametrize("mode", ["plan", "apply"])
def test_an_unreachable_component_triggers_no_action(suite, mode):
    (suite.path / "test_dead.py").write_text(DEAD_REDIS)
    suite.inventory(redis_inventory(free_port()))
    result = suite.run_files(f"--remediate={mode}", "--approve", "restart_database")
    result.assert_outcomes(failed=1, errors=1)
    assert not (suite.path / "acted").exists()
    records = [r for r in audit(suite.path) if "node" in r]
    assert [r["decision"] for r in records] == ["skipped: not a confirmed failure"] * 2
    assert "PLANNED" not in result.stdout.str()
    result.stdout.fnmatch_lines(["*NOT REMEDIATED (skipped: not a confirmed failure): bus "
                                 "restart_database: the check failed as 'unreachable'*"
                                 "set on_unreachable = true*"])


def test_on_unreachable_opts_in(suite):
    (suite.path / "test_dead.py").write_text(DEAD_REDIS)
    suite.inventory(redis_inventory(free_port(), on_unreachable=True))
    result = suite.run_files("--remediate=plan", "--approve", "restart_database", "-k",
                             "test_redis_answers and not again")
    assert [r["decision"] for r in audit(suite.path) if "node" in r] == ["planned"]
    result.stdout.fnmatch_lines(["*PLANNED (nothing run): bus restart_database*: would run: "
                                 "touch acted*"])


def test_a_missing_driver_or_a_crash_triggers_no_action(suite):
    (suite.path / "test_not_run.py").write_text(NOT_RUN)
    suite.inventory(remediation_toml([allow_command(["touch", "acted"], component="inference")]))
    result = suite.run_files("--remediate=apply")
    result.assert_outcomes(failed=1, errors=1)
    assert not (suite.path / "acted").exists()
    details = {r["node"].rpartition("::")[2]: r["detail"] for r in audit(suite.path)
               if "node" in r}
    assert details["test_gpu_ok"].startswith("the check failed as 'could not run', not on its "
                                             "own condition (could not run: NVML Shared Library")
    assert details["test_crashes"].startswith("the check failed as 'broken'")


def test_a_confirmed_failure_still_acts(suite):
    flag = suite.path / "flag"
    flag.write_text("x")
    flag_check(suite, flag)
    suite.inventory(remediation_toml([allow_command(["rm", "-f", str(flag)])]))
    result = suite.run_files("--remediate=apply")
    result.stdout.fnmatch_lines(["*REMEDIATED: flagger restart_service*"])
    assert not flag.exists()


def test_a_dry_run_that_would_fail_is_shown_as_would_fail(suite):
    flag = suite.path / "flag"
    flag.write_text("x")
    flag_check(suite, flag)
    suite.inventory(remediation_toml([allow_command(["/nonexistent/restart-it", "now"])]))
    result = suite.run_files("--remediate=plan", "--report-json=s.json")
    result.stdout.fnmatch_lines([
        "*WOULD FAIL (nothing run; the dry run failed, exit 127): flagger restart_service*: "
        "/nonexistent/restart-it is not an executable file*"])
    assert "PLANNED" not in result.stdout.str()
    assert [r["decision"] for r in audit(suite.path) if "node" in r] == ["would fail"]
