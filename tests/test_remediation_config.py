"""Bad ``[remediation]`` tables and options: one-line usage errors naming file, key and fix.

Also: action timeouts, and third-party actions registered through the entry point group.
"""

from __future__ import annotations

import pytest
from remediation_kit import allow_command, audit, flag_check, remediation_toml

from conftest import REPO


def allow(action: str = "restart_service", component: str = "svc", **params: object) -> str:
    return remediation_toml([{"component": component, "action": action, "params": params}])


REDIS = '[[components]]\nname = "cache"\nkind = "redis"\nurl = "redis://127.0.0.1:1/0"\n'

BAD = {
    "unknown_action": (allow("restart_servise", command="true"),
                       "*inventory.toml: remediation.allow.0.action: unknown remediation action "
                       "'restart_servise'; registered: *restart_service*; fix the name or "
                       "install its plugin"),
    "missing_param": (allow(),
                      "*inventory.toml: remediation.allow.0: params.command: required parameter "
                      "is missing; add it"),
    "unknown_param": (allow(command="true", comand="x"),
                      "*remediation.allow.0: params.comand: unknown parameter; restart_service "
                      "takes command, cwd"),
    "empty_command": (allow(command=""),
                      "*remediation.allow.0: params.command: command is empty; give the restart "
                      "command, e.g. \"systemctl restart redis\""),
    "path_escapes_folder": (allow("clean_old_files", folder="/var/log/app", path="../..",
                                  days=7),
                            "*remediation.allow.0: params.path: path '../..' leaves folder; "
                            "give a path inside it, relative, without '..'"),
    "days_not_positive": (allow("clean_old_files", folder="/var/log/app", days=0),
                          "*remediation.allow.0: params.days: Input should be greater than 0"),
    "duplicate_entry": (remediation_toml([allow_command(["true"])] * 2),
                        "*inventory.toml: remediation: allow[[]1]: flagger/restart_service is "
                        "listed twice; keep one entry per component and action"),
    "database_restart_not_risky": (
        REDIS + allow(component="cache", command="systemctl restart redis"),
        "*remediation.allow.0: cache is a redis database: restarting it is risky; use action = "
        "\"restart_database\" (runs only with --approve restart_database)"),
    "unknown_key": (remediation_toml([], budgett=3),
                    "*inventory.toml: remediation.budgett: unknown key 'budgett'; allowed keys "
                    "here: allow, audit, backoff, *"),
    "negative_budget": (remediation_toml([], budget=0),
                        "*inventory.toml: remediation.budget: input should be greater than or "
                        "equal to 1 (got 0); set a value within the bound"),
    "unset_password_env": (allow("redis_bgsave", password_env="NO_SUCH_VAR_OPSCHECK"),
                           "*remediation.allow.0: params.password_env: environment variable "
                           "NO_SUCH_VAR_OPSCHECK is not set; export it or remove password_env"),
}


@pytest.mark.parametrize("case", BAD)
def test_bad_remediation_table_is_a_one_line_usage_error(suite, case):
    text, line = BAD[case]
    suite.inventory(text)
    result = suite.run("--collect-only")
    assert result.ret == pytest.ExitCode.USAGE_ERROR
    result.stderr.fnmatch_lines([f"ERROR: {line}"])


def test_remediate_without_a_table_says_what_to_add(suite):
    suite.inventory("[system]\nname = 'x'\n")
    result = suite.run("--collect-only", "--remediate=plan")
    assert result.ret == pytest.ExitCode.USAGE_ERROR
    result.stderr.fnmatch_lines(["ERROR: *inventory.toml: remediation: --remediate needs a "
                                 "[[]remediation] table with [[][[]remediation.allow]] entries; "
                                 "add one *"])


def test_environment_and_ini_cannot_switch_remediation_on(suite, monkeypatch):
    """What acts must be typed: --remediate and --approve are command-line only."""
    monkeypatch.setenv("OPSCHECK_REMEDIATE", "apply")
    monkeypatch.setenv("OPSCHECK_APPROVE", "restart_service")
    flag = suite.path / "flag"
    flag.write_text("down\n")
    flag_check(suite, flag)
    suite.inventory(remediation_toml([allow_command(["rm", str(flag)])]))
    result = suite.run_files()
    result.assert_outcomes(failed=1)
    result.stdout.fnmatch_lines(["opscheck remediation: off (--remediate=plan or "
                                 "--remediate=apply to enable)"])
    assert flag.exists() and audit(suite.path) == []


def test_an_action_past_its_timeout_is_killed_and_reported(suite):
    flag = suite.path / "flag"
    flag.write_text("down\n")
    flag_check(suite, flag)
    suite.inventory(remediation_toml([allow_command(["sleep", "30"], timeout=0.5)]))
    result = suite.run_files("--remediate=apply")
    result.assert_outcomes(failed=1)
    result.stdout.fnmatch_lines(["*REMEDIATION FAILED: flagger restart_service*: sleep 30 timed "
                                 "out after 0.5 s (killed); exit 124 in 0.* s; re-check failed*"])
    assert audit(suite.path)[0]["exit_status"] == 124


THIRD_PARTY = '''
from opscheck.remediations.registry import ActionResult, Params, action
import pathlib

class TouchParams(Params):
    path: str

@action(TouchParams, summary="remove a file (a third party's action)")
def unflag(ctx, params):
    if ctx.plan:
        return ActionResult(True, f"would remove {params.path}")
    pathlib.Path(params.path).unlink()
    return ActionResult(True, f"removed {params.path}")
'''


def test_third_party_action_through_the_entry_point(suite, monkeypatch, tmp_path):
    site = tmp_path / "site"
    dist = site / "opscheck_unflag-1.0.dist-info"
    dist.mkdir(parents=True)
    (dist / "METADATA").write_text("Metadata-Version: 2.1\nName: opscheck-unflag\nVersion: 1.0\n")
    (dist / "entry_points.txt").write_text(
        "[opscheck.remediations]\nunflag = unflag_action:unflag\n")
    (site / "unflag_action.py").write_text(THIRD_PARTY)
    monkeypatch.setenv("PYTHONPATH", f"{REPO}:{site}")
    flag = suite.path / "flag"
    flag.write_text("down\n")
    flag_check(suite, flag, action="unflag")
    suite.inventory(remediation_toml([{"component": "flagger", "action": "unflag",
                                       "params": {"path": str(flag)}}]))
    result = suite.run_files("--remediate=apply", subprocess=True)
    assert result.parseoutcomes()["remediated"] == 1, result.stdout.str()
    assert not flag.exists()
    assert audit(suite.path)[0]["summary"] == f"removed {flag}"


def test_an_unwritable_audit_log_is_a_usage_error(suite, tmp_path):
    blocker = tmp_path / "file"
    blocker.write_text("not a folder\n")
    suite.inventory(remediation_toml([], audit=f"{blocker}/audit.jsonl"))
    result = suite.run("--collect-only", "--remediate=plan")
    assert result.ret == pytest.ExitCode.USAGE_ERROR
    result.stderr.fnmatch_lines([f"ERROR: *inventory.toml: remediation.audit: cannot write "
                                 f"{blocker}/audit.jsonl (*); point [[]remediation].audit at a "
                                 "writable file"])


def test_a_state_store_that_cannot_be_opened_means_no_action(suite):
    flag = suite.path / "flag"
    flag.write_text("down\n")
    flag_check(suite, flag)
    (suite.path / "state-is-a-folder").mkdir()
    suite.inventory(remediation_toml([allow_command(["rm", str(flag)])],
                                     state="state-is-a-folder"))
    result = suite.run_files("--remediate=apply")
    result.assert_outcomes(failed=1)
    result.stdout.fnmatch_lines(["*NOT REMEDIATED (skipped: state store): flagger "
                                 "restart_service: */state-is-a-folder: unable to open database*"])
    assert flag.exists()
