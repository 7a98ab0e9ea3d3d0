"""What files hold, their age and size, and git HEAD state, on real files and real git
repositories in each state (on a branch, on another branch, detached, stale)."""

from __future__ import annotations

import os
import time
from pathlib import Path

import pytest
from test_files import git

API_KEY = "sk-ant-Secret-9d8e7f"


@pytest.fixture
def config(tmp_path) -> Path:
    root = tmp_path / "wave"
    (root / "config").mkdir(parents=True)
    (root / ".env.production").write_text(
        f"# WAVE\nANTHROPIC_API_KEY={API_KEY}\nexport POSTGRES_PASSWORD='p w'\nREDIS_URL=\n")
    (root / "config" / "redis.conf").write_text("bind 127.0.0.1\nrequirepass secret\n")
    (root / "config" / "orchestrator-config.yaml").write_text(
        "orchestrator:\n  mode: supervised\nsafety:\n  cost_limits:\n    daily_limit: 100\n"
        "github:\n  auto_claim_labels: [opscheck]\n")
    (root / "settings.toml").write_text('[agents]\nmax = 3\n')
    (root / "state.json").write_text('{"state": "running", "error": null}')
    for name in ("workspace-kev", "workspace-forge"):
        (root / name / "memory").mkdir(parents=True)
        (root / name / "memory" / "2026-01-07.md").write_text("notes\n")
    return root


def files(body: str) -> str:
    return f'[[components]]\nname = "cfg"\nkind = "files"\n{body}'


def run(suite, *args):
    return suite.run("-m", "critical or standard or deep", *args, checks=("files",))


def key(file: str, name: str, test: str, extra: str = "") -> str:
    return f'[[components.keys]]\nfile = "{file}"\nkey = "{name}"\n{test}\n{extra}\n'


def test_keys_of_every_format(suite, config):
    env, yml = config / ".env.production", config / "config/orchestrator-config.yaml"
    suite.inventory(files(
        key(env, "ANTHROPIC_API_KEY", "not_empty = true", 'tier = "critical"')
        + key(env, "POSTGRES_PASSWORD", "present = true")
        + key(yml, "orchestrator.mode", 'equals = "supervised"')
        + key(yml, "github.auto_claim_labels", "not_empty = true")
        + key(config / "settings.toml", "agents.max", "equals = 3")
        + key(config / "state.json", "error", "present = true")
        + key(config / "state.json", "failure", "absent = true")))
    result = run(suite, "-k", "file_key")
    result.assert_outcomes(passed=7)
    assert API_KEY not in result.stdout.str()


def test_key_faults_fail_and_never_show_a_secret_value(suite, config):
    env, yml = config / ".env.production", config / "config/orchestrator-config.yaml"
    suite.inventory(files(
        key(env, "ANTHROPIC_API_KEY", 'equals = "sk-other"',
            'action = "set it in .env.production (WV:185)"')
        + key(env, "REDIS_URL", "not_empty = true")
        + key(env, "GITHUB_TOKEN", "present = true")
        + key(yml, "orchestrator.mode", 'equals = "autonomous"')
        + key(config / "state.json", "error", "absent = true")
        + key(config / "missing.json", "x", "present = true")))
    result = run(suite, "-k", "file_key")
    result.assert_outcomes(failed=6)
    result.stdout.fnmatch_lines_random([
        "cfg: */.env.production 'ANTHROPIC_API_KEY' is <hidden, 20 characters>, expected "
        "'sk-other'. Action: set it in .env.production (WV:185)",
        "cfg: */.env.production 'REDIS_URL' is <hidden, 0 characters>, expected a non-empty*",
        "cfg: */.env.production has no 'GITHUB_TOKEN'; expected 'GITHUB_TOKEN' present",
        "cfg: */orchestrator-config.yaml 'orchestrator.mode' is 'supervised', expected "
        "'autonomous'",
        "cfg: */state.json has 'error' (null); expected it absent",
        "cfg: */missing.json is missing",
    ])
    assert API_KEY not in result.stdout.str() + result.stderr.str()


def test_dotenv_files_parse_and_a_broken_one_fails(suite, config):
    (config / ".env").write_text("GOOD=1\nthis line is not an assignment\n")
    suite.inventory(files(f'parse = ["{config}/.env.production", "{config}/.env"]'))
    result = run(suite, "-k", "state_file")
    result.assert_outcomes(passed=1, failed=1)
    result.stdout.fnmatch_lines(["cfg: */.env is not valid DOTENV: line 2 is not NAME=value*"])


def test_any_file_or_glob_exists(suite, config):
    suite.inventory(files(f'exists = ["{config}/config/redis.conf", '
                          f'"{config}/workspace-*/memory/*.md", "{config}/config/nope.conf", '
                          f'"{config}/workspace-*/memory/*.txt"]'))
    result = run(suite, "-k", "path_exists")
    result.assert_outcomes(passed=2, failed=2)
    result.stdout.fnmatch_lines_random([
        "cfg: */config/nope.conf does not exist (nothing matches)",
        "cfg: */workspace-*/memory/*.txt does not exist (nothing matches)"])


def test_text_file_patterns(suite, config):
    conf = config / "config" / "redis.conf"
    suite.inventory(files(
        f'[[components.text]]\nfile = "{conf}"\nmatches = "^requirepass "\n'
        f'[[components.text]]\nfile = "{conf}"\nnot_matches = "^bind 0\\\\.0\\\\.0\\\\.0"\n'
        f'[[components.text]]\nfile = "{conf}"\nmatches = "^appendonly yes"\n'
        'action = "enable AOF (WV:543)"\n'
        f'[[components.text]]\nfile = "{conf}"\nnot_matches = "^bind 127"\n'))
    result = run(suite, "-k", "text_matches")
    result.assert_outcomes(passed=2, failed=2)
    result.stdout.fnmatch_lines_random([
        "cfg: */redis.conf has no line matching /^appendonly yes/. Action: enable AOF (WV:543)",
        "cfg: */redis.conf line 1 matches /^bind 127/: 'bind 127'",
    ])


def test_file_age_and_size_limits(suite, config):
    old = config / "workspace-kev" / "memory" / "2026-01-07.md"
    when = time.time() - 30 * 3600
    os.utime(old, (when, when))
    (config / "big.log").write_bytes(b"x" * 3 * 1024 * 1024)
    suite.inventory(files(
        f'[[components.limits]]\npath = "{config}/workspace-kev/memory/*.md"\nmeasure = "age"\n'
        'critical = 24\naction = "openclaw gateway status (AF:406)"\n'
        f'[[components.limits]]\npath = "{config}/workspace-forge/memory/*.md"\n'
        'measure = "age"\ncritical = 24\n'
        f'[[components.limits]]\npath = "{config}/*.log"\nmeasure = "size"\nwarning = 1\n'
        'critical = 2\nunit = "MiB"\n'
        f'[[components.limits]]\npath = "{config}/none-*.db"\nmeasure = "size"\ncritical = 1\n'))
    result = run(suite, "-k", "file_limit")
    result.assert_outcomes(passed=1, failed=3)
    result.stdout.fnmatch_lines_random([
        "cfg age of */workspace-kev/memory/*.md (2026-01-07.md) 30* h ≥ critical 24 h. Action: "
        "openclaw gateway status*",
        "cfg size of */[*].log (big.log) 3 MiB ≥ critical 2 MiB (warning 1 MiB)",
        "cfg: no file matches */none-*.db",
    ])


@pytest.fixture
def repos(tmp_path) -> dict[str, Path]:
    """Real repositories: on main, on a feature branch, detached, and with an old commit."""
    made = {}
    for name in ("main", "feature", "detached", "stale"):
        repo = tmp_path / "worktrees" / name
        repo.mkdir(parents=True)
        git(repo, "init", "-q", "-b", "main")
        (repo / "f").write_text(name)
        git(repo, "add", "f")
        if name == "stale":  # committed three days ago
            os.environ["GIT_COMMITTER_DATE"] = f"@{int(time.time()) - 3 * 86400} +0000"
        try:
            git(repo, "commit", "-q", "-m", f"{name} work")
        finally:
            os.environ.pop("GIT_COMMITTER_DATE", None)
        made[name] = repo
    git(made["feature"], "checkout", "-q", "-b", "feature")
    git(made["detached"], "checkout", "-q", "--detach")
    return made


def test_git_branch_detached_head_and_last_commit_age(suite, repos, tmp_path):
    suite.inventory(files(
        "git = [\n"
        f'  {{ path = "{repos["main"]}", branch = "main", commit_age = {{ critical = 24 }} }},\n'
        f'  {{ path = "{repos["feature"]}", branch = "main" }},\n'
        f'  {{ path = "{repos["stale"]}", commit_age = {{ warning = 24, critical = 48 }} }},\n'
        f'  {{ path = "{tmp_path}/worktrees/*", branch = "*" }},\n'
        f'  "{repos["detached"]}",\n'
        "]\n"))
    result = run(suite, "-k", "git_on_branch or git_last_commit", "-v")
    result.assert_outcomes(passed=2, failed=3)
    result.stdout.fnmatch_lines_random([
        "*test_git_on_branch?cfg:*/worktrees/main? PASSED*",
        "*test_git_last_commit_age?cfg:*/worktrees/main? PASSED*",
        "cfg: */worktrees/feature is on branch feature, expected branch main. Action: git "
        "checkout <branch> && git pull in that tree",
        "cfg: */worktrees/detached has a detached HEAD at * detached work, expected a branch.*",
        "cfg last commit in */worktrees/stale age * h ≥ critical 48 h (warning 24 h)",
    ])
    # the plain entry asks for neither: only the tree and fsck checks run on it
    assert "test_git_on_branch[cfg:" + str(repos["detached"]) + "]" not in result.stdout.str()


@pytest.mark.parametrize(("body", "message"), [
    ('[[components.keys]]\nfile = "redis.conf"\nkey = "x"\npresent = true',
     "cannot tell the format of"),
    ('[[components.keys]]\nfile = "a.json"\nkey = "x"\npresent = true\nabsent = true',
     "sets present and absent"),
    ('[[components.text]]\nfile = "a.conf"', "needs one of matches or not_matches"),
    ('[[components.limits]]\npath = "a"\nmeasure = "size"\ncritical = 1\nunit = "h"',
     "unit 'h' is not one of B, KB"),
    ('git = [{ path = "x", branch = "main", colour = "red" }]', "colour"),
])
def test_bad_files_entry_is_a_usage_error(suite, body, message):
    suite.inventory(files(body))
    result = run(suite)
    assert result.ret == 4, result.stdout.str()
    assert "components[0] (cfg)" in result.stderr.str()
    assert message in result.stderr.str()


def test_git_glob_matching_no_tree_skips_saying_so(suite, tmp_path):
    suite.inventory(files(f'git = [{{ path = "{tmp_path}/worktrees/*", branch = "*", '
                          'clean = false }]\n'))
    result = run(suite, "-k", "git", "-rs")
    result.assert_outcomes(skipped=2)  # the branch check and fsck; clean = false: no clean
    result.stdout.fnmatch_lines(["*cfg: no folder matches the git glob */worktrees/*"])
