"""The guard: a run that checked nothing is never OK, from any folder, with or without --nagios;
the suite collects nothing but checks; in Nagios mode every outcome is one status line."""

from __future__ import annotations

import os
import sys
from pathlib import Path

import pytest

from conftest import REPO

DEAD = """\
[system]
name = "dead-stack"

[[components]]
name = "dead-redis"
kind = "redis"
url = "redis://127.0.0.1:1"
"""
FOREIGN = """\
from pathlib import Path
Path({flag!r}).write_text("imported")

def test_foreign():
    pass
"""
HOST = """\
[[components]]
name = "this-host"
kind = "host"
"""
SKIPPED = '''
import pytest

@pytest.mark.critical
@pytest.mark.host
def test_does_not_apply(host_component):
    """A check that never applies here."""
    pytest.skip("does not apply")
'''


def pytest_here(pytester: pytest.Pytester, *args: str,
                cwd: Path | None = None) -> pytest.RunResult:
    """``python -m pytest ARGS`` as an operator types it, in ``cwd`` (the environment's
    entry points on: the guard is active, as in any run of this environment)."""
    os.chdir(cwd or pytester.path)
    return pytester.run(sys.executable, "-m", "pytest", "-p", "no:cacheprovider", *args)


@pytest.fixture
def outside(pytester: pytest.Pytester, monkeypatch: pytest.MonkeyPatch) -> pytest.Pytester:
    """An operator's shell in a folder that is not the suite's."""
    for name in ("OPSCHECK_INVENTORY", "OPSCHECK_NAGIOS", "PYTEST_DISABLE_PLUGIN_AUTOLOAD",
                 "PYTEST_ADDOPTS", "PYTHONPATH"):
        monkeypatch.delenv(name, raising=False)
    (pytester.path / "dead.toml").write_text(DEAD)
    return pytester


@pytest.mark.parametrize("env", [True, False], ids=["inventory-set", "no-inventory"])
def test_nagios_outside_the_suite_is_unknown_never_ok(outside, monkeypatch, env):
    if env:
        monkeypatch.setenv("OPSCHECK_INVENTORY", str(outside.path / "dead.toml"))
    result = pytest_here(outside, "-m", "critical", "--nagios")
    assert result.ret == 3, result.stdout.str()
    assert len(result.outlines) == 1, result.outlines
    assert result.outlines[0].startswith("OPSCHECK UNKNOWN - the opscheck plugin is not loaded")
    assert "TESTINFRA" not in result.stdout.str()


def test_an_inventory_outside_the_suite_is_refused(outside, monkeypatch):
    monkeypatch.setenv("OPSCHECK_INVENTORY", str(outside.path / "dead.toml"))
    result = pytest_here(outside, "-m", "critical")
    assert result.ret == 4
    assert result.outlines == []
    assert len(result.errlines) == 1, result.errlines
    assert result.errlines[0].startswith("ERROR: OPSCHECK_INVENTORY=")
    assert "opscheck plugin is not loaded" in result.errlines[0]


def test_other_projects_runs_are_left_alone(outside):
    outside.makepyfile(test_theirs="def test_theirs():\n    pass\n")
    plain = pytest_here(outside)
    assert plain.ret == 0
    plain.assert_outcomes(passed=1)
    opted_out = pytest_here(outside, "--nagios", "-p", "no:opscheck.guard")
    assert opted_out.outlines[0].startswith("TESTINFRA OK - 1 passed"), opted_out.outlines


def test_a_run_from_a_parent_folder_collects_only_the_suites_checks(outside):
    result = pytest_here(outside, str(REPO), "--collect-only", "-q", "-m", "critical or not "
                         "critical", cwd=REPO.parent)
    ids = [line for line in result.outlines if "::" in line]
    assert ids, result.stdout.str()
    assert all(i.startswith("checks/") for i in ids), [i for i in ids
                                                        if not i.startswith("checks/")]
    assert result.ret == 0, result.stdout.str()


def test_folders_outside_the_check_folders_are_never_imported(suite):
    flag = suite.path / "imported"
    (suite.path / "other").mkdir()
    (suite.path / "other" / "test_foreign.py").write_text(FOREIGN.format(flag=str(flag)))
    (suite.path / "site").mkdir()
    (suite.path / "site" / "test_skipped.py").write_text(SKIPPED)
    ini = (suite.path / "pytest.ini").read_text().replace("opscheck_checks = .",
                                                          "opscheck_checks = site")
    (suite.path / "pytest.ini").write_text(ini)
    suite.inventory(HOST)
    crawled = suite.run_files()
    assert not flag.exists(), "a test outside the check folders was imported"
    crawled.assert_outcomes(skipped=1)
    named = suite.run_files("other/test_foreign.py")
    assert named.ret == 4
    assert not flag.exists()
    named.stderr.fnmatch_lines(["ERROR: other/test_foreign.py: not a check of the suite; *"])


def test_a_run_whose_checks_were_all_skipped_checked_nothing(suite):
    (suite.path / "test_skipped.py").write_text(SKIPPED)
    suite.inventory(HOST)
    result = suite.run_files()
    result.assert_outcomes(skipped=1)
    assert result.ret == 5
    result.stdout.fnmatch_lines(["opscheck: nothing was checked: all 1 selected checks were "
                                 "skipped*"])
    nagios = suite.run_files("--nagios", subprocess=True)
    assert nagios.ret == 3
    assert nagios.outlines[0].startswith("OPSCHECK UNKNOWN - 1 skipped")


@pytest.mark.parametrize("problem", ["inventory", "waivers", "marker", "option"])
def test_in_nagios_mode_a_usage_error_is_one_unknown_line(suite, problem):
    suite.inventory("[system]\nname = 'x'\n")
    args = {"inventory": ["--inventory", str(suite.path / "missing.toml")],
            "waivers": ["--waivers", str(suite.path / "missing-waivers.toml")],
            "marker": ["-m", "critical and nosuchmarker"],
            "option": ["--remediate=sometimes"]}[problem]
    result = suite.pytester.runpytest_subprocess(
        "-p", "opscheck.suite", *args, "--nagios",
        *([] if problem == "inventory" else ["--inventory", str(suite.inventory_path)]))
    assert result.ret == 3, result.stdout.str() + result.stderr.str()
    assert len(result.outlines) == 1, result.outlines
    assert result.outlines[0].startswith("OPSCHECK UNKNOWN - ")
    assert "ERROR" not in result.stderr.str()
