"""State and control files: the emergency stop, state/config files and what they hold,
file ages and sizes, checkpoints, git trees."""

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
def test_path_exists(files_component, existing):
    """A file the inventory requires exists, in any format (a path, or a glob that must
    match at least one: ``config/redis.conf``, ``workspace-*/memory``)."""
    found = files_component.matches(existing)
    assert found, f"{files_component}: {existing} does not exist (nothing matches)"


@pytest.mark.files
def test_file_key(files_component, file_key):
    """A key of a JSON, YAML, TOML or dotenv file is present, absent, equal to a value or
    not empty (``[[components.keys]]``, at the entry's tier); secret values never shown."""
    problem = files_component.key_problem(file_key)
    action = f". Action: {file_key.action}" if file_key.action else ""
    assert problem is None, f"{files_component}: {problem}{action}"


@pytest.mark.files
def test_text_matches(files_component, text_match):
    """A text file holds (or does not hold) a line matching a pattern
    (``[[components.text]]``, at the entry's tier)."""
    problem = files_component.text_problem(text_match)
    action = f". Action: {text_match.action}" if text_match.action else ""
    assert problem is None, f"{files_component}: {problem}{action}"


@pytest.mark.files
def test_file_limit(files_component, file_limit, measure):
    """The newest matching file's age, or the matching files' total size, against levels
    (``[[components.limits]]``, at the entry's tier)."""
    value, what = files_component.limit_value(file_limit)  # what: "age of 2026-01-07.md"
    measure(f"{file_limit.measure} of {file_limit.path}", round(value, 3),
            file_limit.threshold(), detail=what.partition(" of ")[2])


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
    detail = (f"empty: no checkpoint matching {pattern!r} yet; the folder unchanged since it "
              "was made or emptied" if newest.none_yet else newest.path.name)
    measure(f"newest checkpoint age in {checkpoint_dir}", round(newest.age_hours, 2),
            files_component.thresholds.checkpoint_age, detail=detail)


@pytest.mark.deep
@pytest.mark.files
def test_git_tree_clean(files_component, repo):
    """The git working tree has no uncommitted or untracked changes (SRO health check)."""
    for tree in files_component.repos(repo):
        changes = files_component.git_changes(tree)
        shown = ", ".join(line.strip() for line in changes[:10])
        more = f" and {len(changes) - 10} more" if len(changes) > 10 else ""
        assert not changes, (
            f"{files_component}: git tree {tree} is dirty, {len(changes)} change(s): "
            f"{shown}{more}. Action: commit or discard them before the orchestrator works on "
            "this tree")


@pytest.mark.deep
@pytest.mark.files
def test_git_fsck(files_component, git_repo):
    """``git fsck --full`` finds no corrupt or missing objects (SRO: after any restore)."""
    for tree in files_component.repos(git_repo):
        damage = files_component.git_fsck(tree)
        assert not damage, (f"{files_component}: git fsck in {tree} {damage}; expected no "
                            "corrupt or missing objects. Action: restore the repository from "
                            "its remote or a backup")


@pytest.mark.standard
@pytest.mark.files
def test_git_on_branch(files_component, git_head):
    """HEAD is on the expected branch (``branch``), or on any branch for ``branch = "*"``:
    not detached (AF: fix a detached HEAD in an agent worktree)."""
    wrong = []
    for tree in files_component.repos(git_head):
        branch = files_component.git_branch(tree)
        if branch is None:
            wrong.append(f"{tree} has a detached HEAD at {files_component.git_head(tree)}")
        elif git_head.branch != "*" and branch != git_head.branch:
            wrong.append(f"{tree} is on branch {branch}")
    expected = "a branch" if git_head.branch == "*" else f"branch {git_head.branch}"
    assert not wrong, (f"{files_component}: {'; '.join(wrong)}, expected {expected}. "
                       "Action: git checkout <branch> && git pull in that tree")


@pytest.mark.standard
@pytest.mark.files
def test_git_last_commit_age(files_component, git_commit, measure):
    """The last commit's age against the entry's ``commit_age`` levels (hours): work that
    stopped being committed."""
    threshold = git_commit.commit_age
    for tree in files_component.repos(git_commit):
        measure(f"last commit in {tree} age", round(files_component.git_commit_age_hours(tree),
                                                     2), threshold)
