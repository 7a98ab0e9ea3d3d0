"""Host checks on this real host: healthy passes; each fault fails with its line."""

from __future__ import annotations

import shutil
import subprocess

import pytest


def _systemd_answers() -> bool:
    """Does systemd answer here (``systemctl is-system-running`` says a state)?"""
    if shutil.which("systemctl") is None:
        return False
    probe = subprocess.run(["systemctl", "is-system-running"], capture_output=True, text=True,
                           timeout=10)
    return bool(probe.stdout.strip()) and "offline" not in probe.stdout


def host(extra: str = "", spec: str = "local://", name: str = "this-host") -> str:
    return f'[[components]]\nname = "{name}"\nkind = "host"\nspec = "{spec}"\n{extra}'


def test_default_critical_run_passes_and_names_the_component(suite):
    suite.inventory(host())
    result = suite.run("-m", "critical")
    result.assert_outcomes(passed=2)
    result.stdout.fnmatch_lines(["*opscheck: components checked*", "this-host (host): 2 passed"])


@pytest.fixture
def sleeper():
    """A process named "sleep" that exists for the test's duration."""
    proc = subprocess.Popen(["sleep", "60"])
    yield proc
    proc.kill()
    proc.wait()


def test_full_sweep_on_a_healthy_host(suite, sleeper):
    suite.inventory(host('processes = ["sleep"]\n'))
    # CPU busy is left out: on a loaded CI machine it may honestly cross 85 %
    result = suite.run("-m", "not deep", "-k", "not cpu_busy")
    outcomes = result.parseoutcomes()
    assert outcomes.get("failed", 0) == 0 and outcomes.get("errors", 0) == 0
    assert outcomes["passed"] >= 5  # reachable, disk, inodes, memory, process


def test_disk_over_critical_fails_with_the_runbook_line(suite):
    suite.inventory(host('[components.thresholds.disk]\nwarning = 0\ncritical = 0.001\n'
                         'action = "Clean up or expand"\n'))
    result = suite.run("-m", "critical")
    result.assert_outcomes(passed=1, failed=1)
    result.stdout.fnmatch_lines(["*this-host disk used on / *% ≥ critical 0.001% (warning 0%). "
                                 "Action: Clean up or expand"])


def test_memory_over_warning_passes_with_a_warning(suite):
    suite.inventory(host("[components.thresholds.memory]\nwarning = 0.001\ncritical = 100\n"))
    result = suite.run("-k", "memory")
    result.assert_outcomes(passed=1, warnings=1)
    result.stdout.fnmatch_lines(["*ThresholdWarning: this-host memory used *% ≥ warning 0.001% "
                                 "(critical 100%)*"])


def test_cpu_and_inodes_fail_below_current_usage(suite):
    suite.inventory(host("cpu_sample = 0.2\n[components.thresholds.inodes]\nwarning = 0\n"
                         "critical = 0.0001\n[components.thresholds.cpu]\nwarning = 0\n"
                         "critical = 0\n"))
    result = suite.run("-k", "cpu or inodes")
    result.assert_outcomes(failed=2)
    result.stdout.fnmatch_lines(["*this-host inodes used on / *% ≥ critical 0.0001%*",
                                 "*this-host CPU busy *% ≥ critical 0%*"])


def test_mount_that_is_not_a_mount_point_fails(suite, tmp_path):
    suite.inventory(host(f'mounts = ["{tmp_path}"]\n'))
    result = suite.run("-m", "critical")
    result.stdout.fnmatch_lines([f"*this-host {tmp_path} is not a mount point (it lies on *)*"])


def test_required_process_not_running_fails(suite, sleeper):
    suite.inventory(host('processes = ["sleep", "no-such-daemon"]\n'))
    result = suite.run("-k", "process")
    result.assert_outcomes(passed=1, failed=1)
    result.stdout.fnmatch_lines(["*this-host: process 'no-such-daemon' is not running (0 found)"])


def test_listening_socket_required(suite, silent_server):
    suite.inventory(host(f'sockets = ["tcp://127.0.0.1:{silent_server.port}", '
                         '"tcp://127.0.0.1:1"]\n'))
    result = suite.run("-k", "socket")
    result.assert_outcomes(passed=1, failed=1)
    result.stdout.fnmatch_lines(["*this-host: nothing listens on tcp://127.0.0.1:1"])


@pytest.mark.skipif(not _systemd_answers(), reason="needs a host whose PID 1 is systemd (this "
                    "one has none: test_one_line proves the unit check says could not run)")
def test_inactive_unit_fails(suite):
    suite.inventory(host('units = ["opscheck-no-such.service"]\n'))
    result = suite.run("-k", "unit")
    result.assert_outcomes(failed=1)
    result.stdout.fnmatch_lines(["*this-host: unit opscheck-no-such.service is *, expected active"])


def test_ssh_host_that_never_answers_fails_once_within_its_timeout(suite, silent_server):
    spec = f"ssh://opscheck@127.0.0.1:{silent_server.port}"
    suite.inventory('[system]\ntimeout = 1\n' + host(spec=spec, name="dead-host"))
    result = suite.run("-m", "not deep")
    # the first check fails in one line; the rest of that host could not run, at no extra wait
    result.assert_outcomes(failed=1, errors=5, deselected=6)
    result.stdout.fnmatch_lines([
        "could not run: dead-host unreachable (ConnectionError: *timed out*)",  # ERRORS come first
        f"dead-host unreachable at {spec}: ConnectionError: *timed out*",
    ])
    assert "Traceback" not in result.stdout.str()
    assert silent_server.connection_count == 1, "the dead host's timeout was paid more than once"


def test_ssh_port_with_nothing_listening_fails_fast(suite):
    suite.inventory(host(spec="ssh://opscheck@127.0.0.1:1", name="gone"))
    result = suite.run("-m", "critical")
    result.assert_outcomes(failed=1, errors=1)
    result.stdout.fnmatch_lines(["*gone unreachable at ssh://opscheck@127.0.0.1:1: *"])


@pytest.mark.parametrize("workers", ["2"])
def test_runs_under_xdist(suite, workers):
    suite.inventory(host())
    result = suite.run("-n", workers, "-m", "not deep", "-k", "not cpu_busy", subprocess=True)
    outcomes = result.parseoutcomes()
    assert outcomes.get("passed", 0) >= 4 and "failed" not in outcomes
    result.stdout.fnmatch_lines(["this-host (host): * passed*"])
