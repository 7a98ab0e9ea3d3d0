"""The self-reflexive-orchestrator profile on a stand-in of its system: /opt/orchestrator as a
real git checkout (config YAML, .env, state file, emergency contacts, the systemd unit file,
logs/orchestrator.log), the monthly config tarball made by tar, a real redis-server, and a
stand-in of the orchestrator's CLI (`python -m src.cli`) printing the runbook's outputs
(SRO:205-229). Healthy, every check passes without a warning; each alert type of the
runbook (SRO:266-356) injected fails with the runbook's words.

Not run here: the systemd units (no systemd on these machines: `units` are left out) and
the CI-failure alert (not expressible: the profile keeps a template, see coverage.toml).
High CPU itself is this machine's; its alert is the health-check's verdict, injected.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from datetime import datetime
from pathlib import Path

import pytest
import standin_kit as kit

pytestmark = pytest.mark.skipif(shutil.which("git") is None, reason="needs git")

HEALTHY = """Overall Status: HEALTHY

Components:
✓ CPU Usage: 45% (HEALTHY)
✓ Memory: 60% (HEALTHY)
✓ Disk Space: 70% (HEALTHY)
✓ Git Repository: Clean (HEALTHY)
✓ GitHub API: Connected (HEALTHY)
✓ Multi-Agent Coder: Available (HEALTHY)
"""
STATUS = """Orchestrator Status
------------------
Mode: supervised
State: running
Issues processed: 45
PRs created: 40
Current cost: ${cost} / $100.00 daily
Rate limit: 45 / 60 rpm
Pending approvals: 2
"""
CLI = """import pathlib, sys
here = pathlib.Path.cwd() / ".standin"
command = sys.argv[1]
answer = here / (command + ".out")
print(answer.read_text() if answer.exists() else command + ": ok")
code = here / (command + ".exit")
sys.exit(int(code.read_text()) if code.exists() else 0)
"""
PYTHON = """#!/bin/sh
# the orchestrator's venv python: `-m pip list` answers as pip does, the rest runs for real
if [ "$1" = "-m" ] && [ "$2" = "pip" ]; then
  printf 'Package    Version\\n---------- -------\\nanthropic  0.40.0\\nPyGithub   2.5.0\\n'
  exit 0
fi
exec {python} "$@"
"""
UNIT = """[Service]
WorkingDirectory=/opt/orchestrator
ExecStart=/opt/orchestrator/venv/bin/python -m src.cli start --mode supervised
"""


def git(root: Path, *args: str) -> None:
    subprocess.run(["git", "-c", "user.name=t", "-c", "user.email=t@t", *args], cwd=root,
                   check=True, capture_output=True)


def build(root: Path) -> None:
    (root / "config").mkdir(parents=True)
    (root / "src").mkdir()
    (root / "src" / "__init__.py").write_text("")
    (root / "src" / "cli.py").write_text(CLI)
    (root / "venv" / "bin").mkdir(parents=True)
    python = root / "venv" / "bin" / "python"
    python.write_text(PYTHON.format(python=sys.executable))
    python.chmod(0o755)
    (root / ".standin").mkdir()
    (root / ".standin" / "health-check.out").write_text(HEALTHY)
    (root / ".standin" / "status.out").write_text(STATUS.format(cost="12.50"))
    (root / "config" / "orchestrator-config.yaml").write_text(
        "orchestrator:\n  mode: supervised\ngithub:\n  auto_claim_labels: [orchestrator]\n"
        "safety:\n  cost_limits:\n    daily_limit: 100\n")
    (root / "config" / "emergency-contacts.yaml").write_text("primary: oncall@example.org\n")
    (root / ".orchestrator-state.json").write_text('{"state": "running"}')
    (root / ".env").write_text("GITHUB_TOKEN=ghp_standin\nANTHROPIC_API_KEY=sk-standin\n")
    (root / "orchestrator.service").write_text(UNIT)
    (root / "logs").mkdir()
    log("INFO - orchestrator - started issue #12", root)
    (root / ".gitignore").write_text("venv/\nlogs/\n.standin/\nbackup-*.tar.gz\n.env\n"
                                     "__pycache__/\n")
    git(root, "init", "-q")
    git(root, "add", "-A")
    git(root, "commit", "-qm", "orchestrator")
    tarball(root)


def tarball(root: Path) -> None:
    """The monthly `tar -czf backup-$(date +%Y%m%d).tar.gz config/ .env .orchestrator-state.json`
    (SRO:676-678)."""
    subprocess.run(["tar", "-czf", f"backup-{datetime.now():%Y%m%d}.tar.gz", "config/", ".env",
                    ".orchestrator-state.json"], cwd=root, check=True)


def log(line: str, root: Path) -> None:
    with open(root / "logs" / "orchestrator.log", "a") as f:
        f.write(f"{datetime.now():%Y-%m-%d %H:%M:%S},123 - {line}\n")


def inventory(suite, root: Path, redis_url: str) -> None:
    data = kit.retarget(kit.profile("self-reflexive-orchestrator"), {
        "/opt/orchestrator": str(root),
        "/etc/systemd/system/orchestrator.service": str(root / "orchestrator.service"),
        "redis://localhost:6379/0": redis_url})
    host = kit.component(data, "orchestrator-host")
    del host["units"]  # no systemd here
    kit.write(suite, data)


@pytest.fixture
def stack(suite, redis_server, monkeypatch, tmp_path):
    root = tmp_path / "opt-orchestrator"
    build(root)
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    coder = bin_dir / "multi-agent-coder"
    coder.write_text("#!/bin/sh\necho 'multi-agent-coder 1.4.0'\n")
    coder.chmod(0o755)
    monkeypatch.setenv("PATH", f"{bin_dir}{os.pathsep}{os.environ['PATH']}")
    inventory(suite, root, redis_server.url)
    return root


@pytest.mark.slow
def test_orchestrator_stand_in_healthy_and_each_alert(suite, stack, redis_server):
    seen = kit.assert_healthy(kit.run(suite, *kit.WARNINGS_FAIL))
    for check in ("test_command_answers[orchestrator-host:cli-health-check]",
                  "test_command_answers[orchestrator-host:daily-cost-percent]",
                  "test_git_tree_clean[orchestrator-files:" + str(stack) + "]",
                  "test_backup_restores[orchestrator-config-backup]",
                  "test_redis_answers_ping[orchestrator-redis]"):
        assert seen[check] == "PASSED", check

    # 1. Health Degraded (SRO:270-287); 2. Cost Limit Approaching: 90 % of the daily limit
    # warns (SRO:289-291); 3. Safety Violation (SRO:315-322): any warns
    (stack / ".standin" / "status.out").write_text(STATUS.format(cost="92.00"))
    log("WARNING - safety_violation: Complexity guard blocked operation on #123", stack)
    result = kit.run(suite, *kit.WARNINGS_FAIL, k="orchestrator-host")
    kit.assert_reports(result, "test_command_answers[orchestrator-host:daily-cost-percent]",
                       "Cost limit approaching (SRO:289-313)", "92% ≥ warning 90%")
    kit.assert_reports(result, "test_log_signal[orchestrator-host:safety-violations]",
                       "Safety violation (SRO:315-322)")

    (stack / ".standin" / "health-check.out").write_text(
        HEALTHY.replace("Overall Status: HEALTHY", "Overall Status: DEGRADED").replace(
            "✓ CPU Usage: 45% (HEALTHY)", "✗ CPU Usage: 97% (High CPU usage)"))
    (stack / ".standin" / "status.out").write_text(STATUS.format(cost="100.00"))
    for n in range(10):
        log(f"ERROR - orchestrator - request {n} failed", stack)
    (stack / "config" / "orchestrator-config.yaml").write_text(
        "orchestrator:\n  mode: autonomous\ngithub: {}\n")
    (stack / ".env").write_text("GITHUB_TOKEN=\nANTHROPIC_API_KEY=sk-standin\n")
    (stack / "stray.txt").write_text("left behind\n")
    redis_server.stop()
    result = kit.run(suite)
    kit.assert_reports(result, "test_command_answers[orchestrator-host:cli-health-check]",
                       "Health degraded (SRO:270-287)")
    kit.assert_reports(result, "test_command_answers[orchestrator-host:daily-cost-percent]",
                       "100% ≥ critical 100%")
    kit.assert_reports(result, "test_log_signal[orchestrator-host:errors-last-hour]",
                       "Errors in the orchestrator log (SRO:254-263)")
    kit.assert_reports(result, "test_file_key[orchestrator-files:orchestrator-config.yaml:"
                       "orchestrator.mode==supervised]", "Set orchestrator.mode: supervised")
    kit.assert_reports(result, "test_file_key[orchestrator-files:.env:GITHUB_TOKEN:not-empty]",
                       "Set the GitHub token")
    kit.assert_reports(result, "test_git_tree_clean[orchestrator-files:" + str(stack) + "]",
                       "stray.txt")
    kit.assert_reports(result, "test_redis_answers_ping[orchestrator-redis]",
                       "orchestrator-redis")


def test_the_monthly_tarball_in_the_tree_leaves_it_clean_only_when_ignored(suite, stack):
    """Audit E6: the tarballs are written into the tree the clean check reads; the profile
    holds that they belong in .gitignore, and without that line the check names them."""
    (stack / ".gitignore").write_text("venv/\nlogs/\n.standin/\n.env\n__pycache__/\n")
    git(stack, "commit", "-qam", "no ignore for tarballs")
    result = kit.run(suite, k="test_git_tree_clean")
    kit.assert_reports(result, "test_git_tree_clean[orchestrator-files:" + str(stack) + "]",
                       "backup-")
