"""Every failure and every could-not-run is one line naming the component and the cause, in
every mode (plain, -W error::…ThresholdWarning, xdist): no traceback, no chained exception."""

from __future__ import annotations

import json
import shutil
import subprocess

import pytest
from test_host import _systemd_answers, host
from test_http import http, inventory


def lines_of(result: pytest.RunResult, check: str) -> list[str]:
    """The failure section of ``check`` in pytest's output (between its header and the next)."""
    out, section, inside = result.outlines, [], False
    for line in out:
        if line.startswith("_") and check in line:
            inside = True
            continue
        if inside and (line.startswith("_") or line.startswith("=") or line.startswith("-")):
            break
        if inside and line.strip() and not line.startswith("[gw"):
            section.append(line)
    return section


def assert_one_line(result: pytest.RunResult, check: str, *words: str) -> str:
    section = lines_of(result, check)
    assert len(section) == 1, section
    text = result.stdout.str() + result.stderr.str()
    for bad in ("Traceback", "During handling", "direct cause", "raise ", "CommandFailed"):
        assert bad not in text, bad
    for word in words:
        assert word in section[0], (word, section[0])
    return section[0]


def test_a_missing_mount_is_one_failed_line(suite):
    suite.inventory(host('mounts = ["/", "/opscheck/no/such/mount"]\n'))
    result = suite.run("-k", "disk_not_critically_full")
    result.assert_outcomes(passed=1, failed=1)
    assert_one_line(result, "test_disk_not_critically_full[this-host:/opscheck",
                    "this-host: mount /opscheck/no/such/mount cannot be measured (df: ",
                    "No such file or directory")


@pytest.mark.skipif(_systemd_answers(), reason="this host runs systemd: its units can be asked")
def test_a_unit_on_a_host_without_systemd_could_not_run(suite):
    suite.inventory(host('units = ["ssh.service"]\n'))
    result = suite.run("-k", "unit", "--report-json=s.json")
    result.assert_outcomes(errors=1)
    line = assert_one_line(result, "test_unit_active", "could not run: this-host cannot report "
                           "unit ssh.service: systemd is not answering (")
    assert "expected active" not in line
    check = json.loads((suite.path / "s.json").read_text())["checks"][0]
    assert check["state"] == "could not run"


def test_a_redirect_names_its_location_and_non_json_is_one_line(suite, http_server):
    server = http_server()
    server.route("/health", status=302, headers={"Location": "/login?next=/health"})
    server.route("/text", body="<html>hello</html>")
    conditions = '[[components.expect_json]]\npath = "status"\nequals = "ok"\n'
    inventory(suite, http("moved", f"{server.url}/health", conditions),
              http("text", f"{server.url}/text", conditions))
    result = suite.run("-m", "critical", checks=("http",))
    result.assert_outcomes(passed=1, failed=3)
    assert_one_line(result, "test_http_answers_expected_status[moved]",
                    "moved", "answered 302 (redirect to /login?next=/health), expected 200")
    assert_one_line(result, "test_http_json_condition[moved:status==ok]",
                    "answered 302 (redirect to /login?next=/health): a redirect to "
                    "/login?next=/health, not a JSON body")
    assert_one_line(result, "test_http_json_condition[text:status==ok]",
                    "text", "answered 200: body is not JSON (starts '<html>hello</html>')")


WARNS = '''
import pytest
from opscheck.thresholds import Threshold

@pytest.mark.standard
@pytest.mark.host
def test_memory(host_component, measure):
    """A warning level crossed."""
    measure("memory used", 80, Threshold(warning=75, critical=90, unit="%"))
'''
CRASHES = '''
import pytest

@pytest.fixture
def broken_fixture(host_component):
    return {}["missing"]

@pytest.mark.standard
@pytest.mark.host
def test_crashes(host_component):
    """A check with a bug."""
    return {}["nope"]

@pytest.mark.standard
@pytest.mark.host
def test_fixture_crashes(broken_fixture):
    """A check whose fixture has a bug."""
'''


@pytest.mark.parametrize("workers", [[], ["-n", "2"]], ids=["serial", "xdist"])
def test_a_warning_under_the_strict_gate_is_one_line(suite, workers):
    suite.inventory(host())
    (suite.path / "test_warns.py").write_text(WARNS)
    result = suite.run_files("-W", "error::opscheck.thresholds.ThresholdWarning", *workers)
    result.assert_outcomes(failed=1)
    assert_one_line(result, "test_memory", "this-host memory used 80% ≥ warning 75% "
                    "(critical 90%)")


def test_a_crash_in_a_check_or_fixture_is_one_line_and_tracebacks_on_request(suite):
    suite.inventory(host())
    (suite.path / "test_crashes.py").write_text(CRASHES)
    result = suite.run_files()
    result.assert_outcomes(failed=1, errors=1)
    assert_one_line(result, "test_crashes", "this-host: test_crashes could not complete: "
                    "KeyError: 'nope' (--tb=long shows the traceback)")
    assert_one_line(result, "test_fixture_crashes", "test_fixture_crashes could not run: "
                    "KeyError: 'missing'")
    long = suite.run_files("--tb=long")
    assert "Traceback" in long.stdout.str() or "def test_crashes" in long.stdout.str()


def test_a_process_name_longer_than_comm_is_matched_by_its_program(suite, tmp_path):
    program = tmp_path / "opscheck-long-name-sleeper"  # 26 characters; comm keeps 15
    shutil.copy(shutil.which("sleep"), program)
    suite.inventory(host(f'processes = ["{program.name}", "opscheck-long-name-other"]\n'))
    proc = subprocess.Popen([str(program), "60"])
    try:
        result = suite.run("-k", "process")
    finally:
        proc.kill()
        proc.wait()
    result.assert_outcomes(passed=1, failed=1)
    result.stdout.fnmatch_lines(["*this-host: process 'opscheck-long-name-other' is not "
                                 "running (0 found)"])
    gone = suite.run("-k", "process and sleeper")
    gone.assert_outcomes(failed=1)
