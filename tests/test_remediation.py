"""The remediation plugin's behaviour: opt-in, confirm, act, re-check, and every veto.

Each test writes a check that fails on a real condition (a flag file exists) and names a
remediation; the configured command is a real process acting on that file.
"""

from __future__ import annotations

import sqlite3

import pytest
from remediation_kit import allow_command, audit, decisions, flag_check, remediation_toml, snapshot


def targets(folder):
    """Every file but the remediation's own state and audit, and Python's caches."""
    return {k: v for k, v in snapshot(folder).items()
            if not k.startswith(("remediation-", "__pycache__"))}


@pytest.fixture
def flag(suite):
    """A failing flag check whose remediation (``rm -f flag``) fixes it."""
    path = suite.path / "flag"
    path.write_text("down\n")
    flag_check(suite, path)
    return path


def fixing(suite, flag, **table):
    """Inventory: restart_service for 'flagger' runs ``rm -f flag`` and logs each run."""
    log = suite.path / "actions.log"
    cmd = ["sh", "-c", f"echo ran >> {log}; rm -f {flag}"]
    suite.inventory(remediation_toml([allow_command(cmd)], **table))
    return log


def test_off_unless_remediate_given(suite, flag):
    fixing(suite, flag)
    result = suite.run_files()
    result.assert_outcomes(failed=1)
    result.stdout.fnmatch_lines(["opscheck remediation: off (--remediate=plan or *"])
    assert flag.exists() and not (suite.path / "actions.log").exists()
    assert audit(suite.path) == []


def test_apply_remediates_and_the_report_says_so(suite, flag):
    fixing(suite, flag)
    result = suite.run_files("--remediate=apply", "-v")
    assert result.ret == 0
    assert result.parseoutcomes() == {"remediated": 1}
    result.stdout.fnmatch_lines([
        "*test_flag.py::test_flag REMEDIATED*",
        "*opscheck: remediation (mode apply)*",
        "*test_flag: REMEDIATED: flagger restart_service (attempt 1/3): ran sh -c *; exit 0 in "
        "* s; re-check passed",
    ])
    assert not flag.exists()
    (record,) = audit(suite.path)
    assert record["decision"] == "ran" and record["recheck"] == "passed"
    assert record["evidence"] == f"{flag} exists"
    assert record["mode"] == "apply" and record["attempt"] == 1 and record["exit_status"] == 0
    assert {"time", "host", "user", "node", "component", "params", "duration"} <= set(record)


def test_remediation_failed_keeps_the_failure_and_shows_redacted_output(suite, flag,
                                                                        monkeypatch):
    monkeypatch.setenv("FLAG_TOKEN", "s3cr3t-value")
    cmd = ["sh", "-c", "echo restarting with token=abc123 $FLAG_TOKEN; exit 3"]
    suite.inventory(remediation_toml(
        [allow_command(cmd)],
        components='[[components]]\nname = "r"\nkind = "redis"\npassword_env = "FLAG_TOKEN"\n'))
    result = suite.run_files("--remediate=apply", "-v")
    result.assert_outcomes(failed=1)
    result.stdout.fnmatch_lines([
        "*test_flag FAILED (remediation failed)*",
        "*- opscheck remediation -*",
        "REMEDIATION FAILED: flagger restart_service (attempt 1/3): ran sh -c *; exit 3 in * s; "
        f"re-check failed: {flag} exists",
        "action output:",
        "restarting with token=*** ***",
    ])
    assert "abc123" not in result.stdout.str() and "s3cr3t-value" not in result.stdout.str()
    (record,) = audit(suite.path)
    assert record["exit_status"] == 3 and record["recheck"] == "failed"
    assert "abc123" not in str(record) and "s3cr3t-value" not in str(record)


def test_plan_decides_and_records_but_runs_nothing(suite, flag):
    log = fixing(suite, flag)
    before = targets(suite.path)
    result = suite.run_files("--remediate=plan")
    result.assert_outcomes(failed=1)
    result.stdout.fnmatch_lines(["*PLANNED (nothing run): flagger restart_service*: would run: "
                                 "sh -c *"])
    assert targets(suite.path) == before and not log.exists()
    assert decisions(suite.path) == ["planned"]


def test_second_run_inside_the_back_off_does_not_act(suite, flag):
    log = suite.path / "actions.log"
    cmd = ["sh", "-c", f"echo ran >> {log}"]  # does not fix: the check keeps failing
    suite.inventory(remediation_toml([allow_command(cmd)], backoff=600))
    suite.run_files("--remediate=apply").assert_outcomes(failed=1)
    second = suite.run_files("--remediate=apply")
    second.assert_outcomes(failed=1)
    second.stdout.fnmatch_lines(["*NOT REMEDIATED (skipped: back-off): flagger restart_service "
                                 "(attempt 1/3): attempt 1 at *; next not before *"])
    assert log.read_text() == "ran\n"
    assert decisions(suite.path) == ["ran", "skipped: back-off"]


def test_spent_budget_opens_the_circuit_until_reset_or_healthy(suite, flag):
    log = suite.path / "actions.log"
    cmd = ["sh", "-c", f"echo ran >> {log}"]
    suite.inventory(remediation_toml([allow_command(cmd)], budget=2, backoff=0, cooldown=0))
    suite.run_files("--remediate=apply")
    second = suite.run_files("--remediate=apply")
    second.stdout.fnmatch_lines(["*REMEDIATION FAILED: *(attempt 2/2)*; budget spent, circuit "
                                 "now open: nothing more runs until healthy or "
                                 "--remediate-reset"])
    third = suite.run_files("--remediate=apply")
    third.stdout.fnmatch_lines(["*NOT REMEDIATED (skipped: circuit open)*: circuit open since "
                                "* (budget spent: 2 attempts within 3600 s, last re-check still "
                                "failing); closes after 0 s healthy or --remediate-reset"])
    assert log.read_text() == "ran\n" * 2
    suite.run_files("--remediate=apply", "--remediate-reset").assert_outcomes(failed=1)
    assert log.read_text() == "ran\n" * 3
    assert decisions(suite.path) == ["ran", "ran", "skipped: circuit open", "ran"]
    assert [r["decision"] for r in audit(suite.path)][3] == "reset"
    # the budget is spent again; healthy passes (cooldown 0) close the circuit
    suite.run_files("--remediate=apply")
    flag.unlink()
    suite.run_files("--remediate=apply").assert_outcomes(passed=1)
    suite.run_files("--remediate=apply").assert_outcomes(passed=1)
    assert audit(suite.path)[-1]["decision"] == "circuit closed"
    flag.write_text("down again\n")
    suite.run_files("--remediate=apply")
    assert decisions(suite.path)[-1] == "ran"


def test_emergency_stop_file_vetoes(suite, flag):
    stop = suite.path / ".claude" / "EMERGENCY-STOP"
    stop.parent.mkdir()
    stop.write_text("STOP\n")
    log = fixing(suite, flag, emergency_stop=".claude/EMERGENCY-STOP")
    result = suite.run_files("--remediate=apply")
    result.assert_outcomes(failed=1)
    result.stdout.fnmatch_lines([f"*NOT REMEDIATED (skipped: emergency stop)*: emergency-stop "
                                 f"file {stop} exists"])
    assert flag.exists() and not log.exists()


def test_system_emergency_stop_is_the_default(suite, flag):
    (suite.path / "STOP").write_text("STOP\n")
    log = suite.path / "actions.log"
    text = remediation_toml([allow_command(["sh", "-c", f"echo ran >> {log}"])])
    suite.inventory('[system]\nemergency_stop = "STOP"\n' + text)
    suite.run_files("--remediate=apply").assert_outcomes(failed=1)
    assert decisions(suite.path) == ["skipped: emergency stop"] and not log.exists()


@pytest.mark.parametrize("how", ["env", "inventory"])
def test_kill_switch_disables_everything(suite, flag, monkeypatch, how):
    if how == "env":
        monkeypatch.setenv("OPSCHECK_NO_REMEDIATE", "1")
        log = fixing(suite, flag)
    else:
        log = fixing(suite, flag, enabled=False)
    result = suite.run_files("--remediate=apply")
    result.assert_outcomes(failed=1)
    result.stdout.fnmatch_lines(["opscheck remediation: mode apply — DISABLED (kill switch: *",
                                 "*NOT REMEDIATED (skipped: kill switch)*"])
    assert flag.exists() and not log.exists()


def test_risky_action_needs_approval(suite, flag):
    flag_check(suite, flag, action="restart_database")
    cmd = ["rm", "-f", str(flag)]
    suite.inventory(remediation_toml([allow_command(cmd, action="restart_database")]))
    result = suite.run_files("--remediate=apply")
    result.assert_outcomes(failed=1)
    result.stdout.fnmatch_lines(["*NOT REMEDIATED (skipped: needs approval)*: restart_database "
                                 "is risky (deletes data or restarts a database); run with "
                                 "--approve restart_database"])
    assert flag.exists()
    approved = suite.run_files("--remediate=apply", "--approve", "restart_database")
    assert approved.parseoutcomes() == {"remediated": 1}
    assert not flag.exists()


def test_action_not_in_the_allow_list_does_not_run(suite, flag):
    flag_check(suite, flag, component="other")
    log = fixing(suite, flag)
    suite.run_files("--remediate=apply").stdout.fnmatch_lines([
        "*NOT REMEDIATED (skipped: not allowed): other restart_service: no "
        "[[][[]remediation.allow]] entry for component other and action restart_service"])
    assert flag.exists() and not log.exists()


def test_a_failure_that_does_not_repeat_is_not_acted_on(suite):
    counter = suite.path / "runs"
    (suite.path / "test_flaky.py").write_text(f'''
import pathlib, pytest

@pytest.mark.critical
@pytest.mark.files
@pytest.mark.remediation("restart_service", component="flagger")
def test_flaky():
    runs = pathlib.Path({str(counter)!r})
    runs.write_text(runs.read_text() + "x" if runs.exists() else "x")
    assert len(runs.read_text()) > 1, "first run fails"
''')
    log = suite.path / "actions.log"
    suite.inventory(remediation_toml([allow_command(["sh", "-c", f"echo ran >> {log}"])],
                                     confirm=3))
    result = suite.run_files("--remediate=apply")
    result.assert_outcomes(passed=1)
    result.stdout.fnmatch_lines(["*NOT REMEDIATED (skipped: not confirmed)*: passed on re-run 1"])
    assert not log.exists() and counter.read_text() == "xx"


def test_confirm_reruns_then_rechecks_before_acting(suite, flag):
    log = fixing(suite, flag, confirm=3)
    counter = suite.path / "setups"
    (suite.path / "conftest.py").write_text(f'''
import pathlib, pytest

@pytest.fixture(autouse=True)
def count_setups():
    p = pathlib.Path({str(counter)!r})
    p.write_text((p.read_text() if p.exists() else "") + "s")
''')
    assert suite.run_files("--remediate=apply").parseoutcomes() == {"remediated": 1}
    # first run + 2 confirm re-runs + the one immediately before the action + the re-check
    assert counter.read_text() == "s" * 5 and log.read_text() == "ran\n"


def test_unknown_remediation_in_a_marker_is_a_usage_error(suite, flag):
    flag_check(suite, flag, action="restart_servise")
    fixing(suite, flag)
    result = suite.run_files("--remediate=apply")
    assert result.ret == pytest.ExitCode.USAGE_ERROR
    result.stderr.fnmatch_lines(["ERROR: test_flag.py::test_flag: remediation 'restart_servise' "
                                 "is not a registered action", "*registered: *restart_service*"])


def test_bare_remediate_before_a_path_explains_the_fix(suite, flag):
    fixing(suite, flag)
    result = suite.run_files("--remediate", "test_flag.py")
    assert result.ret == pytest.ExitCode.USAGE_ERROR
    result.stderr.fnmatch_lines(["ERROR: command line --remediate: bad value 'test_flag.py' *"
                                 "write --remediate=apply, or put it after the paths*"])


def test_a_reset_is_typed_on_the_command_line_never_kept_in_the_environment(suite, flag,
                                                                           monkeypatch):
    """OPSCHECK_REMEDIATE_RESET=1 reset the store on every run: five runs, five actions."""
    log = suite.path / "actions.log"
    cmd = ["sh", "-c", f"echo ran >> {log}"]  # does not fix: the check keeps failing
    suite.inventory(remediation_toml([allow_command(cmd)], budget=3, backoff=600))
    monkeypatch.setenv("OPSCHECK_REMEDIATE_RESET", "1")
    for _ in range(5):
        result = suite.run_files("--remediate=apply")
        assert result.ret == pytest.ExitCode.USAGE_ERROR
    result.stderr.fnmatch_lines(["ERROR: environment OPSCHECK_REMEDIATE_RESET: a reset of the "
                                 "remediation circuits is typed on the command line, once "
                                 "(--remediate-reset), never kept in the environment; unset "
                                 "OPSCHECK_REMEDIATE_RESET"])
    assert not log.exists()
    monkeypatch.delenv("OPSCHECK_REMEDIATE_RESET")
    (suite.path / "pytest.ini").write_text((suite.path / "pytest.ini").read_text()
                                           + "opscheck_remediate_reset = 1\n")
    result = suite.run_files("--remediate=apply")
    assert result.ret == pytest.ExitCode.USAGE_ERROR  # not a key: --strict-config refuses it
    result.stderr.fnmatch_lines(["*Unknown config option: opscheck_remediate_reset*"])
    assert not log.exists()


def test_a_typed_reset_acts_once_and_is_audited(suite, flag):
    log = suite.path / "actions.log"
    cmd = ["sh", "-c", f"echo ran >> {log}"]
    suite.inventory(remediation_toml([allow_command(cmd)], budget=3, backoff=600))
    suite.run_files("--remediate=apply", "--remediate-reset")
    for _ in range(4):  # the back-off holds on every later run
        suite.run_files("--remediate=apply").stdout.fnmatch_lines(
            ["*NOT REMEDIATED (skipped: back-off): flagger restart_service (attempt 1/3)*"])
    assert log.read_text() == "ran\n"
    records = audit(suite.path)
    resets = [r for r in records if r["decision"] == "reset"]
    assert len(resets) == 1 and resets[0]["user"] and resets[0]["host"], resets
    assert [r["decision"] for r in records if "node" in r] == ["ran"] + ["skipped: back-off"] * 4


def test_header_prints_settings_and_state(suite, flag):
    fixing(suite, flag)
    result = suite.run_files("--remediate=plan", "--approve", "a", "--approve", "b")
    result.stdout.fnmatch_lines([
        "opscheck settings: *remediate=plan (command line --remediate), approve=?'a', 'b'? "
        "(command line --approve), remediate_reset=False (default)*",
        "opscheck remediation: mode plan; allowed: flagger/restart_service; approved: a, b",
        f"opscheck remediation: confirm 1x every 0 s, settle 0 s; state {suite.path}/"
        f"remediation-state.sqlite; audit {suite.path}/remediation-audit.jsonl; emergency stop "
        "none"])


def test_a_probe_names_its_remediation_in_the_inventory(suite, tmp_path):
    db = tmp_path / "coordination.db"
    conn = sqlite3.connect(db)
    conn.execute("CREATE TABLE tests (id TEXT, status TEXT)")
    conn.execute("INSERT INTO tests VALUES ('CP-UFS-001', 'in_progress')")
    conn.commit()
    conn.close()
    reset = f"sqlite3 {db} \"UPDATE tests SET status = 'pending' WHERE status = 'in_progress'\""
    suite.inventory(f'''
        [[components]]
        name = "coord"
        kind = "sqlite"
        path = "{db}"

        [[probes]]
        name = "stuck-tests"
        component = "coord"
        type = "rows"
        tier = "critical"
        query = "SELECT id FROM tests WHERE status = 'in_progress'"
        remediation = "run_command"
        ''' + remediation_toml([{"component": "coord", "action": "run_command",
                                 "params": {"command": reset}}]))
    result = suite.run("--remediate=apply", checks=("probes",))
    assert result.parseoutcomes() == {"remediated": 1}, result.stdout.str()
    result.stdout.fnmatch_lines(["*test_probe?coord:stuck-tests?: REMEDIATED: coord run_command *"])
    (record,) = audit(suite.path)
    assert record["evidence"].startswith("coord probe stuck-tests")
