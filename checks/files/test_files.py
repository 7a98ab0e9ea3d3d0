"""State and control files: the emergency stop, state/config files, checkpoints, git trees."""

import pytest


@pytest.mark.critical
@pytest.mark.files
@pytest.mark.applies(lambda c: c.emergency_stop, "has no emergency_stop path (set "
                     "[system].emergency_stop or emergency_stop on the files component)")
def test_emergency_stop_absent(files_component):
    """The emergency-stop file is absent (WAVE: .claude/EMERGENCY-STOP halts every agent)."""
    stop = files_component.stop_file()
    assert stop is None, (
        f"{files_component}: system halted: emergency-stop file {stop.path} present since "
        f"{stop.since}, content {stop.content!r}. Action: find why it was stopped; remove the "
        "file only after recovery (WAVE runbook, Emergency Stop)")


@pytest.mark.standard
@pytest.mark.files
def test_state_file_parses(files_component, state_file):
    """A JSON/YAML/TOML state or config file exists and parses (.orchestrator-state.json, …)."""
    problem = files_component.parse_problem(state_file)
    assert problem is None, (
        f"{files_component}: {state_file} {problem}. Action: restore it from its backup "
        "(e.g. .orchestrator-state.json.backup) or fix it by hand")


@pytest.mark.standard
@pytest.mark.files
def test_newest_checkpoint_fresh(files_component, checkpoint_dir, measure):
    """The newest checkpoint in a folder is younger than thresholds.checkpoint_age."""
    try:
        newest = files_component.newest(checkpoint_dir)
    except NotADirectoryError as exc:
        pytest.fail(f"{files_component}: checkpoint folder {exc}", pytrace=False)
    pattern = files_component.component.checkpoint_pattern
    assert newest is not None, (
        f"{files_component}: no checkpoint matching {pattern!r} in {checkpoint_dir}")
    measure(f"newest checkpoint age in {checkpoint_dir}", round(newest.age_hours, 2),
            files_component.thresholds.checkpoint_age, detail=newest.path.name)


@pytest.mark.deep
@pytest.mark.files
def test_git_tree_clean(files_component, repo):
    """The git working tree has no uncommitted or untracked changes (SRO health check)."""
    changes = files_component.git_changes(repo)
    shown = ", ".join(line.strip() for line in changes[:10])
    more = f" and {len(changes) - 10} more" if len(changes) > 10 else ""
    assert not changes, (
        f"{files_component}: git tree {repo} is dirty, {len(changes)} change(s): {shown}{more}. "
        "Action: commit or discard them before the orchestrator works on this tree")


@pytest.mark.deep
@pytest.mark.files
def test_git_fsck(files_component, repo):
    """``git fsck --full`` finds no corrupt or missing objects (SRO: after any restore)."""
    damage = files_component.git_fsck(repo)
    assert not damage, (f"{files_component}: git fsck in {repo} {damage}; expected no corrupt "
                        "or missing objects. Action: restore the repository from its remote or "
                        "a backup")
