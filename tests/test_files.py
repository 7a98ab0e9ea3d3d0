"""State and control file checks on real files and real git repositories."""

from __future__ import annotations

import os
import subprocess
import time
from pathlib import Path

import pytest

INVENTORY = """\
[system]
emergency_stop = "project/.claude/EMERGENCY-STOP"

[[components]]
name = "wave-files"
kind = "files"
parse = ["project/.orchestrator-state.json", "project/orchestrator-config.yaml",
         "project/claude.mcp.json", "project/settings.toml"]
checkpoints = ["project/.claude/checkpoints"]
git = ["project"]
"""


def git(repo: Path, *args: str) -> str:
    env = {**os.environ, "GIT_AUTHOR_NAME": "t", "GIT_AUTHOR_EMAIL": "t@localhost",
           "GIT_COMMITTER_NAME": "t", "GIT_COMMITTER_EMAIL": "t@localhost"}
    return subprocess.run(["git", "-C", str(repo), *args], check=True, capture_output=True,
                          text=True, env=env, timeout=30).stdout


def set_back(path: Path, hours: float) -> None:
    when = time.time() - hours * 3600
    os.utime(path, (when, when))


@pytest.fixture
def project(suite) -> Path:
    suite.inventory(INVENTORY)
    root = suite.path / "project"
    (root / ".claude" / "checkpoints").mkdir(parents=True)
    (root / ".orchestrator-state.json").write_text('{"state": "running"}\n')
    (root / "orchestrator-config.yaml").write_text("safety:\n  cost_limits:\n    limit: 100\n")
    (root / "claude.mcp.json").write_text('{"mcpServers": {}}\n')
    (root / "settings.toml").write_text('mode = "supervised"\n')
    (root / ".claude" / "checkpoints" / "cp-1.json").write_text("{}")
    set_back(root / ".claude" / "checkpoints" / "cp-1.json", 30)
    (root / ".claude" / "checkpoints" / "cp-2.json").write_text("{}")
    git(root, "init", "-q")
    git(root, "add", "-A")
    git(root, "commit", "-q", "-m", "initial")
    return root


def run(suite, *args):
    return suite.run("-m", "critical or standard or deep", *args, checks=("files",))


def test_healthy_files_pass_every_check(suite, project):
    run(suite).assert_outcomes(passed=1 + 4 + 1 + 2)


def test_stop_file_present_fails_critical_saying_halted_since_when(suite, project):
    stop = project / ".claude" / "EMERGENCY-STOP"
    stop.write_text("STOP\n")
    set_back(stop, 2)
    result = suite.run("-m", "critical", checks=("files",))
    result.assert_outcomes(failed=1)
    result.stdout.fnmatch_lines([
        "*wave-files: system halted: emergency-stop file */project/.claude/EMERGENCY-STOP present"
        " since 20??-??-?? ??:??:?? * (2.0 h ago), content 'STOP'. Action: *"])


def test_stop_path_on_the_component_overrides_system_and_may_use_variables(
        suite, project, monkeypatch):
    monkeypatch.setenv("PROJECT_PATH", str(project))
    suite.inventory(INVENTORY.replace('kind = "files"\n', 'kind = "files"\nemergency_stop = '
                                      '"${PROJECT_PATH}/.claude/STOP-HERE"\n'))
    (project / ".claude" / "EMERGENCY-STOP").write_text("STOP")  # not the configured path
    suite.run("-m", "critical", checks=("files",)).assert_outcomes(passed=1)
    (project / ".claude" / "STOP-HERE").write_text("runaway costs")
    result = suite.run("-m", "critical", checks=("files",))
    result.assert_outcomes(failed=1)
    result.stdout.fnmatch_lines(["*STOP-HERE present since *, content 'runaway costs'*"])


def test_no_stop_path_configured_skips_with_the_fix(suite, project):
    suite.inventory(INVENTORY.split("\n", 2)[2])  # without [system].emergency_stop
    result = suite.run("-m", "critical", checks=("files",))
    result.assert_outcomes(skipped=1)
    result.stdout.fnmatch_lines(["*no emergency_stop path (set [[]system].emergency_stop*"])


@pytest.mark.parametrize(("name", "text", "message"), [
    (".orchestrator-state.json", '{"state": "runn', "*.orchestrator-state.json is not valid JSON:"
     " Unterminated string starting at: line 1 column 11*"),
    ("orchestrator-config.yaml", "safety: [unclosed\n", "*orchestrator-config.yaml is not valid"
     " YAML: while parsing a flow sequence*"),
    ("settings.toml", "mode = \n", "*settings.toml is not valid TOML: *"),
    ("claude.mcp.json", "", "*claude.mcp.json is empty (expected JSON)*"),
])
def test_corrupt_state_file_fails_naming_it(suite, project, name, text, message):
    (project / name).write_text(text)
    result = run(suite, "-k", "test_state_file_parses")
    result.assert_outcomes(passed=3, failed=1)
    result.stdout.fnmatch_lines([message])


def test_missing_state_file_fails(suite, project):
    (project / "claude.mcp.json").unlink()
    result = run(suite, "-k", "test_state_file_parses")
    result.assert_outcomes(passed=3, failed=1)
    result.stdout.fnmatch_lines(["*wave-files: */claude.mcp.json is missing. Action:*"])


def test_stale_newest_checkpoint_fails(suite, project):
    set_back(project / ".claude" / "checkpoints" / "cp-2.json", 25)
    result = run(suite, "-k", "test_newest_checkpoint_fresh")
    result.assert_outcomes(failed=1)
    result.stdout.fnmatch_lines(
        ["*wave-files newest checkpoint age in *checkpoints (cp-2.json) 25 h ≥ critical 24 h*"])


def test_an_empty_checkpoint_folder_is_judged_by_how_long_it_has_been_empty(suite, project):
    """A fresh install (the folder made, no checkpoint yet) passes on day one; a folder left
    without a checkpoint for longer than the level fails, saying there is none."""
    folder = project / ".claude" / "checkpoints"
    for cp in folder.iterdir():
        cp.unlink()
    run(suite, "-k", "test_newest_checkpoint_fresh").assert_outcomes(passed=1)
    day_ago = time.time() - 25 * 3600
    os.utime(folder, (day_ago, day_ago))
    result = run(suite, "-k", "test_newest_checkpoint_fresh")
    result.assert_outcomes(failed=1)
    result.stdout.fnmatch_lines(["*newest checkpoint age in */checkpoints (empty: no "
                                 "checkpoint matching '[*]' yet; the folder unchanged since it "
                                 "was made or emptied) 25* h ≥ critical 24 h*"])


def test_a_checkpoint_folder_holding_no_checkpoint_fails_whatever_changes_it(suite, project):
    """Only an empty folder is timed by its own change: a lock file written and a log left
    there change it too, and are not checkpoints."""
    suite.inventory(INVENTORY.replace('checkpoints = [', 'checkpoint_pattern = "cp-*"\n'
                                      'checkpoints = ['))
    folder = project / ".claude" / "checkpoints"
    for cp in folder.iterdir():
        cp.unlink()
    (folder / "agent.log").write_text("wrote nothing\n")  # just now: the folder changed
    result = run(suite, "-k", "test_newest_checkpoint_fresh")
    result.assert_outcomes(failed=1)
    result.stdout.fnmatch_lines(["*no checkpoint matching 'cp-[*]' in */checkpoints*"])


def test_missing_checkpoint_folder_fails(suite, project):
    folder = project / ".claude" / "checkpoints"
    for cp in folder.iterdir():
        cp.unlink()
    folder.rmdir()
    result = run(suite, "-k", "test_newest_checkpoint_fresh")
    result.assert_outcomes(failed=1)
    result.stdout.fnmatch_lines(["*checkpoint folder */checkpoints is missing or not a folder*"])


def test_dirty_git_tree_fails_listing_changes(suite, project):
    (project / "settings.toml").write_text('mode = "autonomous"\n')
    (project / "stray.txt").write_text("x")
    result = run(suite, "-k", "test_git_tree_clean")
    result.assert_outcomes(failed=1)
    result.stdout.fnmatch_lines(["*git tree */project is dirty, 2 change(s): M settings.toml, "
                                 "?? stray.txt*"])


def test_git_status_takes_no_index_lock(suite, project):
    os.utime(project / "settings.toml")  # stat data changed: plain `git status` rewrites the index
    before = (project / ".git" / "index").stat().st_mtime_ns
    run(suite, "-k", "test_git_tree_clean").assert_outcomes(passed=1)
    assert (project / ".git" / "index").stat().st_mtime_ns == before


def test_corrupted_git_object_fails_fsck(suite, project):
    blob = git(project, "rev-parse", "HEAD:settings.toml").strip()
    obj = project / ".git" / "objects" / blob[:2] / blob[2:]
    obj.chmod(0o644)
    obj.write_bytes(b"garbage, not a zlib stream")
    result = run(suite, "-k", "test_git_fsck")
    result.assert_outcomes(failed=1)
    result.stdout.fnmatch_lines([f"*wave-files: git fsck in */project exited *{blob[:7]}*; "
                                 "expected no corrupt or missing objects. Action: restore*"])


def test_not_a_git_repository_fails_in_one_line(suite, project, tmp_path):
    suite.inventory(INVENTORY.replace('git = ["project"]', f'git = ["{tmp_path}"]'))
    result = run(suite, "-k", "test_git_tree_clean")
    result.assert_outcomes(failed=1)
    result.stdout.fnmatch_lines(["*git status in * exited 128: fatal: not a git repository*"])


@pytest.mark.parametrize(("change", "message"), [
    (('"project/settings.toml"]', '"project/settings.ini"]'),
     "cannot tell the format of 'project/settings.ini' from its name"),
    (('"project/.claude/EMERGENCY-STOP"', '"${OPSCHECK_UNSET_VAR}/STOP"'),
     "uses environment variable OPSCHECK_UNSET_VAR, which is not set; export"),
])
def test_bad_files_inventory_is_a_usage_error(suite, change, message, monkeypatch):
    monkeypatch.delenv("OPSCHECK_UNSET_VAR", raising=False)
    suite.inventory(INVENTORY.replace(*change))
    result = run(suite)
    assert result.ret == 4
    assert "components[0] (wave-files)" in result.stderr.str()
    assert message in result.stderr.str()
