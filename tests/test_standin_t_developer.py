"""The T-Developer v2 profile on a stand-in of its system: the checkout (scripts/ answering
by their exit status, the MCP client config, evolution_history/), an MCP server process by
its command line, ~/.mcp/logs/server.log, the local daily and weekly-full backups, and AWS
as the moto emulator on loopback (CloudWatch alarms and metrics, Lambda agents, Cost
Explorer, the S3 backup bucket), as tests/aws_kit.py drives it. Healthy, every check passes
without a warning; each Key Metrics row and alert of the runbook (TD:46-84) and the daily
cost limit (TD:267, its own test: Cost Explorer's emulated answer is fixed per request)
injected fails with the runbook's words.

Not exercised: the Lambda error rates (moto does not invoke functions: no Invocations, the
check skips saying so).
"""

from __future__ import annotations

import os
import subprocess
import sys
from datetime import datetime
from pathlib import Path

import pytest
import standin_kit as kit
from aws_kit import alarm, cost_answer, lambda_function, put

SCRIPTS = ["health_check.py", "check_stuck_processes.py", "pre_evolution_check.py",
           "check_metrics.py", "dr_test.py", "check_resource_usage.py", "verify_restore.py"]
SCRIPT = ("import pathlib, sys\nflag = pathlib.Path(__file__).with_suffix('.fail')\n"
          "print(flag.read_text() if flag.exists() else 'OK')\n"
          "sys.exit(1 if flag.exists() else 0)\n")


def build(root: Path, home: Path) -> None:
    (root / "scripts").mkdir()
    for script in SCRIPTS:
        (root / "scripts" / script).write_text(SCRIPT)
    (root / "mcp").mkdir()
    (root / "mcp" / "__init__.py").write_text("")
    (root / "mcp" / "test.py").write_text(SCRIPT.replace("with_suffix('.fail')",
                                                         "with_name('test.fail')"))
    clients = root / "packages" / "mcp" / "clients"
    clients.mkdir(parents=True)
    (clients / "claude.mcp.json").write_text('{"mcpServers": {"t-developer": {}}}')
    (root / "evolution_history").mkdir()
    (root / "evolution_history" / f"cycle-{datetime.now():%Y%m%d}.json").write_text("{}")
    logs = home / ".mcp" / "logs"
    logs.mkdir(parents=True)
    log(logs / "server.log", "INFO mcp-server started")
    for name in (f"daily-{datetime.now():%Y%m%d}", f"full-{datetime.now():%Y%m%d}"):
        folder = home / "backups" / name
        folder.mkdir(parents=True)
        (folder / "evolution_history.json").write_text('{"cycles": 3}')


def log(path: Path, line: str) -> None:
    with open(path, "a") as f:
        f.write(f"{datetime.now():%Y-%m-%d %H:%M:%S} {line}\n")


def healthy_aws(moto) -> None:
    for name in ("EvolutionFailure", "HighCost", "SecurityViolation"):
        alarm(moto, name, "OK")
    for name in ("research-agent", "planner-agent"):
        lambda_function(moto, name)
    for metric, value in (("EvolutionSuccessRate", 92), ("CycleTimeHours", 3.5),
                          ("PRMergeRate", 95), ("ErrorRate", 2), ("CostPerCycle", 6)):
        put(moto, metric, value, namespace="T-Developer")
    s3 = moto.client("s3")
    s3.create_bucket(Bucket="t-developer-backups")
    s3.put_object(Bucket="t-developer-backups", Key=f"daily-{datetime.now():%Y%m%d}/history.json",
                  Body=b'{"cycles": 3}')


@pytest.fixture
def mcp_server(tmp_path):
    """An MCP server process: `ps aux | grep mcp-server` finds it by its command line."""
    script = tmp_path / "mcp-server.py"
    script.write_text("import time\ntime.sleep(600)\n")
    process = subprocess.Popen([sys.executable, str(script), "--stdio"])
    yield process
    process.terminate()
    process.wait(10)


@pytest.mark.slow
def test_t_developer_stand_in_healthy_and_each_alert(suite, moto_server, mcp_server,
                                                      tmp_path, monkeypatch):
    root, home = suite.path, tmp_path / "home"
    build(root, home)
    healthy_aws(moto_server)
    moto_server.costs(cost_answer("37.5"))
    data = kit.retarget(kit.profile("t-developer-v2"), {
        "~/.mcp": str(home / ".mcp"), "/backups/t-developer": str(home / "backups")})
    kit.write(suite, data)
    assert os.environ["AWS_ENDPOINT_URL"].startswith("http://127.0.0.1:")

    seen = kit.assert_healthy(kit.run(suite, *kit.WARNINGS_FAIL))
    for check in ("test_cloudwatch_metric_within_levels[t-developer-aws:evolution-success-rate]",
                  "test_daily_cost_within_levels[t-developer-aws:daily-cost]",
                  "test_newest_backup_is_fresh[t-developer-s3-backup]",
                  "test_newest_backup_is_fresh[t-developer-full-backup]",
                  "test_process_command_line_running[t-developer-host:mcp-servers]",
                  "test_command_answers[t-developer-host:health-check-full]"):
        assert seen.get(check) == "PASSED", (check, seen.get(check))

    # Key Metrics (TD:46-54) past their alert thresholds, the three alarms (TD:63-84)
    for metric, value in (("EvolutionSuccessRate", 20), ("CycleTimeHours", 7),
                          ("PRMergeRate", 40), ("ErrorRate", 30), ("CostPerCycle", 25)):
        put(moto_server, metric, value, minutes_ago=2, namespace="T-Developer")
    put(moto_server, "SecurityGateFailures", 1, minutes_ago=1, namespace="T-Developer")
    alarm(moto_server, "EvolutionFailure", "ALARM", "success rate below 70")
    (root / "scripts" / "health_check.py").with_suffix(".fail").write_text("UNHEALTHY: planner")
    (root / "mcp" / "test.fail").write_text("research server: no answer")
    (root / "scripts" / "verify_restore.fail").write_text("evolution_history: 2 cycles missing")
    for n in range(10):
        log(home / ".mcp" / "logs" / "server.log", f"ERROR tool call {n} failed")
    mcp_server.terminate()
    mcp_server.wait(10)
    result = kit.run(suite)
    aws = "test_cloudwatch_metric_within_levels[t-developer-aws:{}]"
    for check, words in {
        aws.format("evolution-success-rate"): "Check logs for failures (TD:50)",
        aws.format("cycle-time"): "Investigate bottlenecks (TD:51)",
        aws.format("cost-per-cycle"): "Review resource usage (TD:52)",
        aws.format("pr-merge-rate"): "Check quality gates (TD:53)",
        aws.format("error-rate"): "critical 10%",
        aws.format("security-gate-failures"): "page-security (TD:83)",
        "test_cloudwatch_alarm_not_firing[t-developer-aws:EvolutionFailure]": "notify-oncall",
        "test_command_answers[t-developer-host:health-check-full]": "System unhealthy",
        "test_command_answers[t-developer-host:mcp-test-all]": "MCP connection issues",
        "test_command_answers[t-developer-host:verify-restore]": "Restored data does not verify",
        "test_log_signal[t-developer-host:mcp-server-errors]": "MCP server errors (TD:155-167)",
        "test_process_command_line_running[t-developer-host:mcp-servers]":
            "MCP connection issues (TD:198-216)",
    }.items():
        kit.assert_reports(result, check, words)


def test_t_developer_daily_cost_limit(suite, moto_server):
    """Cost limits: daily $100 (TD:261, 267): the day's cost above it fails the check."""
    moto_server.costs(cost_answer("150"))
    kit.write(suite, kit.profile("t-developer-v2"))
    result = kit.run(suite, k="daily-cost")
    kit.assert_reports(result, "test_daily_cost_within_levels[t-developer-aws:daily-cost]",
                       "150", "critical 100 USD", "High Costs")
