"""The aws kind against emulated AWS: moto's server on loopback (tests/servers/moto.py).

Every test here drives the emulator into a state (an alarm set to ALARM, datapoints put
below a level, an ECS service short of tasks, a clock set back) and runs the real checks
against it. What moto does not emulate is said in docs/aws.md. No test reaches AWS: every
component's endpoint_url is the loopback emulator (and AWS_ENDPOINT_URL too, for any
component that would leave it out), credentials are fake and in the environment only, and
the instance metadata service is off.
"""

from __future__ import annotations

import textwrap
import time
from datetime import UTC, datetime, timedelta

import pytest

CHECKS = ("aws",)


def aws(endpoint: str, extra: str = "", name: str = "td-aws", timeout: float = 5) -> str:
    return textwrap.dedent(f"""\
        [[components]]
        name = "{name}"
        kind = "aws"
        region = "us-east-1"
        endpoint_url = "{endpoint}"
        timeout = {timeout}
        """) + textwrap.dedent(extra)


def run(suite, text: str, *args: str):
    suite.inventory(text)
    return suite.run(*args, checks=CHECKS)


def alarm(moto, name: str, state: str | None = None, reason: str = "test") -> None:
    cw = moto.client("cloudwatch")
    cw.put_metric_alarm(AlarmName=name, MetricName="EvolutionSuccessRate", Namespace="TDev",
                        Statistic="Average", Period=3600, EvaluationPeriods=1, Threshold=70,
                        ComparisonOperator="LessThanThreshold")
    if state:
        cw.set_alarm_state(AlarmName=name, StateValue=state, StateReason=reason)


# --------------------------------------------------------------------------- reachability

def test_emulated_aws_api_answers(suite, moto_server):
    result = run(suite, aws(moto_server.url), "-k", "api_answers")
    result.assert_outcomes(passed=1)


# --------------------------------------------------------------------------- alarms

ALARMS = """
[[components.alarms]]
alarm = "EvolutionFailure"
tier = "critical"
action = "notify-oncall: check logs for failures (TD:67-71)"
"""


def test_emulated_alarm_ok_passes_and_alarm_fails(suite, moto_server):
    alarm(moto_server, "EvolutionFailure", "OK")
    run(suite, aws(moto_server.url, ALARMS), "-k", "alarm").assert_outcomes(passed=1)
    alarm(moto_server, "EvolutionFailure", "ALARM", "Threshold Crossed: 1 datapoint [65.0]")
    result = run(suite, aws(moto_server.url, ALARMS), "-k", "alarm")
    result.assert_outcomes(failed=1)
    result.stdout.fnmatch_lines(["td-aws alarm EvolutionFailure in ALARM since * UTC "
                                 "(Threshold Crossed: 1 datapoint ?65.0?). Action: "
                                 "notify-oncall*"])


def test_emulated_missing_alarm_fails(suite, moto_server):
    result = run(suite, aws(moto_server.url, ALARMS), "-k", "alarm")
    result.assert_outcomes(failed=1)
    result.stdout.fnmatch_lines(["td-aws has no CloudWatch alarm named 'EvolutionFailure' "
                                 "in us-east-1; expected it to exist*"])


def test_emulated_insufficient_data_could_not_run_or_warns_as_configured(suite, moto_server):
    alarm(moto_server, "EvolutionFailure", "INSUFFICIENT_DATA", "Unchecked: Initial alarm "
          "creation")
    result = run(suite, aws(moto_server.url, ALARMS), "-k", "alarm")
    result.assert_outcomes(errors=1)
    result.stdout.fnmatch_lines(["*could not run: td-aws alarm EvolutionFailure in "
                                 "INSUFFICIENT_DATA since * CloudWatch has too little data*"])
    warned = ALARMS + 'insufficient_data = "warning"\n'
    result = run(suite, aws(moto_server.url, warned), "-k", "alarm")
    result.assert_outcomes(passed=1, warnings=1)
    result.stdout.fnmatch_lines(["*ThresholdWarning: td-aws alarm EvolutionFailure in "
                                 "INSUFFICIENT_DATA*too little data to evaluate it*"])


PREFIX = """
[[components.alarms]]
prefix = "td-"
min_alarms = 2
"""


def test_emulated_alarm_prefix_fails_on_any_alarm_and_on_too_few(suite, moto_server):
    alarm(moto_server, "td-high-cost", "OK")
    result = run(suite, aws(moto_server.url, PREFIX), "-k", "alarm")
    result.assert_outcomes(failed=1)
    result.stdout.fnmatch_lines(["td-aws has 1 CloudWatch alarms named td-… in us-east-1, "
                                 "expected at least 2"])
    alarm(moto_server, "td-security", "ALARM", "Threshold Crossed")
    alarm(moto_server, "other-alarm", "ALARM")  # not selected by the prefix
    result = run(suite, aws(moto_server.url, PREFIX), "-k", "alarm")
    result.assert_outcomes(failed=1)
    result.stdout.fnmatch_lines(["td-aws alarm td-security in ALARM since * (Threshold "
                                 "Crossed)"])
    assert "other-alarm" not in result.stdout.str()


def test_emulated_alarm_runs_at_its_own_tier(suite, moto_server):
    alarm(moto_server, "EvolutionFailure", "OK")
    alarm(moto_server, "HighCost", "ALARM")
    text = aws(moto_server.url, ALARMS + '[[components.alarms]]\nalarm = "HighCost"\n')
    result = run(suite, text, "-m", "critical", "-k", "alarm")
    result.assert_outcomes(passed=1)  # HighCost is standard: not selected
    result = run(suite, text, "-m", "standard", "-k", "alarm")
    result.assert_outcomes(failed=1)


# --------------------------------------------------------------------------- metrics

def put(moto, metric: str, *values: float, minutes_ago: float = 5, namespace: str = "TDev",
        dimensions: dict[str, str] | None = None) -> None:
    stamp = datetime.now(UTC) - timedelta(minutes=minutes_ago)
    moto.client("cloudwatch").put_metric_data(Namespace=namespace, MetricData=[
        {"MetricName": metric, "Value": v, "Timestamp": stamp,
         "Dimensions": [{"Name": k, "Value": x} for k, x in (dimensions or {}).items()]}
        for v in values])


SUCCESS = """
[[components.metrics]]
name = "evolution-success-rate"
namespace = "TDev"
metric = "EvolutionSuccessRate"
statistic = "Average"
period = 3600
direction = "below"
warning = 85
critical = 70
unit = "%"
action = "Check logs for failures (TD:50)"
"""


@pytest.mark.parametrize(("values", "outcome", "line"), [
    ((90, 100), {"passed": 1}, None),
    ((80, 82), {"passed": 1, "warnings": 1},
     "*ThresholdWarning: td-aws evolution-success-rate (EvolutionSuccessRate Average over "
     "3600 s) 81% ≤ warning 85% (critical 70%)*"),
    ((60, 70), {"failed": 1},
     "td-aws evolution-success-rate (EvolutionSuccessRate Average over 3600 s) 65% ≤ "
     "critical 70% (warning 85%). Action: Check logs for failures (TD:50)"),
], ids=["within", "warning", "critical"])
def test_emulated_metric_statistic_against_its_levels(suite, moto_server, values, outcome,
                                                      line):
    put(moto_server, "EvolutionSuccessRate", *values)
    put(moto_server, "EvolutionSuccessRate", 0, minutes_ago=90)  # before the period: unseen
    result = run(suite, aws(moto_server.url, SUCCESS), "-k", "metric")
    result.assert_outcomes(**outcome)
    if line:
        result.stdout.fnmatch_lines([line])


def test_emulated_metric_dimensions_select_the_series(suite, moto_server):
    query = SUCCESS + 'dimensions = { Agent = "planner" }\n'
    put(moto_server, "EvolutionSuccessRate", 50, dimensions={"Agent": "research"})
    put(moto_server, "EvolutionSuccessRate", 95, dimensions={"Agent": "planner"})
    run(suite, aws(moto_server.url, query), "-k", "metric").assert_outcomes(passed=1)
    put(moto_server, "EvolutionSuccessRate", 10, dimensions={"Agent": "planner"})
    run(suite, aws(moto_server.url, query), "-k", "metric").assert_outcomes(failed=1)


def test_emulated_metric_window_judges_its_worst_period(suite, moto_server):
    query = SUCCESS.replace("period = 3600", "period = 600\nwindow = 3600")
    put(moto_server, "EvolutionSuccessRate", 95, minutes_ago=5)
    put(moto_server, "EvolutionSuccessRate", 40, minutes_ago=35)  # an earlier bad period
    result = run(suite, aws(moto_server.url, query), "-k", "metric")
    result.assert_outcomes(failed=1)
    result.stdout.fnmatch_lines(["td-aws evolution-success-rate (EvolutionSuccessRate Average "
                                 "over 600 s, worst of 2 periods in 3600 s) 40% ≤ critical "
                                 "70%*"])


@pytest.mark.parametrize(("missing", "outcome", "line"), [
    ("could-not-run", {"errors": 1}, "*could not run: td-aws evolution-success-rate: no "
     "datapoint of TDev EvolutionSuccessRate in the last 3600 s (is the metric still sent?)"),
    ("fail", {"failed": 1}, "td-aws evolution-success-rate: no datapoint of TDev "
     "EvolutionSuccessRate in the last 3600 s, expected at least one"),
    ("ok", {"passed": 1}, None),
])
def test_emulated_metric_without_data_as_configured(suite, moto_server, missing, outcome,
                                                    line):
    query = SUCCESS + f'missing_data = "{missing}"\n'
    result = run(suite, aws(moto_server.url, query), "-k", "metric")
    result.assert_outcomes(**outcome)
    if line:
        result.stdout.fnmatch_lines([line])


SECURITY = """
[[components.metrics]]
name = "security-gate-failures"
namespace = "TDev"
metric = "SecurityGateFailures"
statistic = "Sum"
period = 300
critical = 1
missing_data = "ok"
tier = "critical"
"""


def test_emulated_sum_over_five_minutes_pages_at_critical_tier(suite, moto_server):
    text = aws(moto_server.url, SECURITY)
    run(suite, text, "-m", "critical", "-k", "metric").assert_outcomes(passed=1)
    put(moto_server, "SecurityGateFailures", 1, minutes_ago=1)
    result = run(suite, text, "-m", "critical", "-k", "metric")
    result.assert_outcomes(failed=1)
    result.stdout.fnmatch_lines(["td-aws security-gate-failures (SecurityGateFailures Sum "
                                 "over 300 s) 1 ≥ critical 1"])


# --------------------------------------------------------------------------- cost

DAILY = """
[[components.costs]]
name = "daily-cost"
critical = 100
warning = 80
action = "python scripts/cost_analysis.py --breakdown (TD:252)"
"""


def cost_answer(amount: str, day: str | None = None) -> dict:
    day = day or datetime.now(UTC).date().isoformat()
    end = (datetime.fromisoformat(day) + timedelta(days=1)).date().isoformat()
    return {"ResultsByTime": [{"TimePeriod": {"Start": day, "End": end},
                               "Total": {"UnblendedCost": {"Amount": amount, "Unit": "USD"}},
                               "Groups": [], "Estimated": True}]}


@pytest.mark.parametrize(("amount", "outcome", "line"), [
    ("42.17", {"passed": 1}, None),
    ("85", {"passed": 1, "warnings": 1}, "*ThresholdWarning: td-aws daily-cost*85 USD ≥ "
     "warning 80 USD*"),
    ("123.456", {"failed": 1}, "td-aws daily-cost (UnblendedCost on *, estimated) 123.456 USD "
     "≥ critical 100 USD (warning 80 USD). Action: python scripts/cost_analysis.py*"),
], ids=["within", "warning", "critical"])
def test_emulated_daily_cost_against_its_levels(suite, moto_server, amount, outcome, line):
    moto_server.costs(cost_answer(amount))
    result = run(suite, aws(moto_server.url, DAILY), "-k", "cost")
    result.assert_outcomes(**outcome)
    if line:
        result.stdout.fnmatch_lines([line])


def test_emulated_cost_explorer_without_a_figure_could_not_run(suite, moto_server):
    """moto tracks no cost: unless told, it answers an empty ResultsByTime."""
    result = run(suite, aws(moto_server.url, DAILY), "-k", "cost")
    result.assert_outcomes(errors=1)
    result.stdout.fnmatch_lines(["*could not run: td-aws Cost Explorer gave no UnblendedCost "
                                 "for *"])


# --------------------------------------------------------------------------- lambda

def lambda_function(moto, name: str) -> None:
    import io
    import zipfile

    role = moto.client("iam").create_role(RoleName=f"{name}-role",
                                          AssumeRolePolicyDocument="{}")["Role"]["Arn"]
    code = io.BytesIO()
    with zipfile.ZipFile(code, "w") as archive:
        archive.writestr("handler.py", "def handle(event, context):\n    return 1\n")
    moto.client("lambda").create_function(FunctionName=name, Runtime="python3.12", Role=role,
                                          Handler="handler.handle",
                                          Code={"ZipFile": code.getvalue()})


FUNCTIONS = 'functions = ["research-agent"]\n'


def test_emulated_lambda_active_passes_and_missing_fails(suite, moto_server):
    lambda_function(moto_server, "research-agent")
    text = aws(moto_server.url, 'functions = ["research-agent", "planner-agent"]\n')
    result = run(suite, text, "-k", "active")
    result.assert_outcomes(passed=1, failed=1)
    result.stdout.fnmatch_lines(["td-aws has no Lambda function 'planner-agent' in us-east-1; "
                                 "expected it to exist. Action: *"])


@pytest.mark.parametrize(("calls", "errors", "outcome", "line"), [
    (40, 1, {"passed": 1}, None),
    (20, 5, {"failed": 1}, "td-aws Lambda research-agent error rate (5 errors in 20 "
     "invocations over 3600 s) 25% ≥ critical 10% (warning 5%). Action: Review the "
     "function's error logs*"),
    (3, 3, {"skipped": 1}, None),
], ids=["within", "critical", "too-few"])
def test_emulated_lambda_error_rate(suite, moto_server, calls, errors, outcome, line):
    lambda_function(moto_server, "research-agent")
    dims = {"FunctionName": "research-agent"}
    put(moto_server, "Invocations", *[1] * calls, namespace="AWS/Lambda", dimensions=dims)
    put(moto_server, "Errors", *[1] * errors, namespace="AWS/Lambda", dimensions=dims)
    result = run(suite, aws(moto_server.url, FUNCTIONS), "-k", "error_rate", "-rs")
    result.assert_outcomes(**outcome)
    if line:
        result.stdout.fnmatch_lines([line])
    if "skipped" in outcome:
        result.stdout.fnmatch_lines(["*3 invocations in the last 3600 s, fewer than "
                                     "lambda_min_invocations 10: too few to judge*"])


# --------------------------------------------------------------------------- ecs

SERVICES = """
stuck_after_minutes = 30
[[components.services]]
cluster = "agents"
service = "planner"
"""


def ecs_service(moto, desired: int = 2, healthy: bool = False) -> None:
    ecs = moto.client("ecs")
    ecs.create_cluster(clusterName="agents")
    ecs.register_task_definition(family="planner", containerDefinitions=[
        {"name": "planner", "image": "planner:1", "memory": 128}])
    ecs.create_service(cluster="agents", serviceName="planner", taskDefinition="planner",
                       desiredCount=desired)
    if healthy:  # moto starts the desired tasks when the count is updated
        ecs.update_service(cluster="agents", service="planner", desiredCount=desired)


def test_emulated_ecs_service_short_of_tasks_fails_then_passes(suite, moto_server):
    ecs_service(moto_server)  # moto: created with 0 running, 2 pending
    result = run(suite, aws(moto_server.url, SERVICES), "-k", "service_running")
    result.assert_outcomes(failed=1)
    result.stdout.fnmatch_lines(["td-aws ECS service agents/planner runs 0 of 2 tasks "
                                 "(desired 2, 2 pending)*"])
    moto_server.client("ecs").update_service(cluster="agents", service="planner",
                                             desiredCount=2)
    run(suite, aws(moto_server.url, SERVICES), "-k", "service_running").assert_outcomes(
        passed=1)


def test_emulated_ecs_service_scaled_to_zero_fails_below_min_running(suite, moto_server):
    ecs_service(moto_server, desired=0)
    result = run(suite, aws(moto_server.url, SERVICES), "-k", "service_running")
    result.assert_outcomes(failed=1)
    result.stdout.fnmatch_lines(["td-aws ECS service agents/planner runs 0 of 1 tasks "
                                 "(desired 0, 0 pending)*"])
    zero = SERVICES + "min_running = 0\n"
    run(suite, aws(moto_server.url, zero), "-k", "service_running").assert_outcomes(passed=1)


def test_emulated_missing_ecs_service_and_cluster_fail(suite, moto_server):
    result = run(suite, aws(moto_server.url, SERVICES), "-k", "service_running")
    result.assert_outcomes(failed=1)
    result.stdout.fnmatch_lines(["td-aws has no ECS service 'planner' in cluster 'agents' "
                                 "(us-east-1); expected it to exist"])
    ecs_service(moto_server)
    moto_server.client("ecs").delete_service(cluster="agents", service="planner", force=True)
    result = run(suite, aws(moto_server.url, SERVICES), "-k", "service_running")
    result.assert_outcomes(failed=1)
    result.stdout.fnmatch_lines(["td-aws ECS service agents/planner is * expected ACTIVE*",
                                 ])


def test_emulated_ecs_deployment_in_progress_too_long_is_stuck(suite, moto_server):
    ecs_service(moto_server)  # moto: its deployment stays IN_PROGRESS
    text = aws(moto_server.url, SERVICES)
    run(suite, text, "-k", "not_stuck").assert_outcomes(passed=1)  # begun just now
    moto_server.reset()
    with moto_server.aged(2 * 3600):  # the same deployment, begun two hours ago
        ecs_service(moto_server)
    result = run(suite, text, "-k", "not_stuck")
    result.assert_outcomes(failed=1)
    result.stdout.fnmatch_lines(["td-aws ECS service agents/planner stuck: deployment "
                                 "ecs-svc/* in progress for 12? min, expected at most 30 "
                                 "min (ECS deployment * in progress.). Action: *"])


# --------------------------------------------------------------------------- credentials

def test_emulated_refused_credentials_could_not_run_every_check(suite, moto_server):
    lambda_function(moto_server, "research-agent")
    with moto_server.checking_credentials():
        result = run(suite, aws(moto_server.url, FUNCTIONS), "-k", "api or active")
    result.assert_outcomes(errors=2)
    result.stdout.fnmatch_lines(["*could not run: td-aws: AWS refused the credentials (sts "
                                 "get_caller_identity: InvalidClientTokenId: *); export "
                                 "AWS_PROFILE*"])


def test_emulated_no_credentials_in_the_chain_could_not_run(suite, moto_server, monkeypatch):
    monkeypatch.delenv("AWS_ACCESS_KEY_ID")
    monkeypatch.delenv("AWS_SECRET_ACCESS_KEY")
    result = run(suite, aws(moto_server.url), "-k", "api")
    result.assert_outcomes(errors=1)
    result.stdout.fnmatch_lines(["*could not run: td-aws: no AWS credentials found in boto3's "
                                 "chain; export AWS_PROFILE (or set profile), or "
                                 "AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY, or run where "
                                 "an instance or container role applies"])


def test_emulated_credentials_from_a_named_profile(suite, moto_server, monkeypatch, tmp_path):
    monkeypatch.delenv("AWS_ACCESS_KEY_ID")
    monkeypatch.delenv("AWS_SECRET_ACCESS_KEY")
    credentials = tmp_path / "credentials"
    credentials.write_text("[tdev]\naws_access_key_id = AKIAPROFILE\n"
                           "aws_secret_access_key = opscheck-profile-secret\n")
    monkeypatch.setenv("AWS_SHARED_CREDENTIALS_FILE", str(credentials))
    run(suite, aws(moto_server.url, 'profile = "tdev"\n'), "-k", "api").assert_outcomes(
        passed=1)
    result = run(suite, aws(moto_server.url, 'profile = "nope"\n'), "-k", "api")
    result.assert_outcomes(errors=1)
    result.stdout.fnmatch_lines(["*could not run: td-aws: AWS profile 'nope' is not in "
                                 "~/.aws/config or ~/.aws/credentials; fix profile or create "
                                 "it"])


def test_emulated_secret_key_never_in_any_output(suite, moto_server):
    """A failing check's report holds no credential, even where a message would carry it."""
    from servers.moto import FAKE_SECRET

    alarm(moto_server, "EvolutionFailure", "ALARM", f"reason quoting {FAKE_SECRET}")
    result = run(suite, aws(moto_server.url, ALARMS), "-k", "alarm")
    result.assert_outcomes(failed=1)
    result.stdout.fnmatch_lines(["*(reason quoting [*][*][*]). Action: *"])
    assert FAKE_SECRET not in result.stdout.str() + result.stderr.str()


# --------------------------------------------------------------------------- deadlines

def _durations(result) -> dict[str, float]:
    reports = result.reprec.getreports("pytest_runtest_logreport")  # type: ignore[attr-defined]
    totals: dict[str, float] = {}
    for report in reports:
        totals[report.nodeid] = totals.get(report.nodeid, 0.0) + report.duration
    return totals


@pytest.mark.parametrize("peer", ["silent", "trickling"])
def test_emulated_dead_endpoint_fails_once_within_the_timeout(suite, aws_test_env,
                                                              silent_server, trickle_server,
                                                              peer):
    """A listener that never answers, or answers one byte every 0.2 s (each read well within
    botocore's read timeout): the first check fails within the 1 s timeout, the rest could
    not run at no extra wait, and nothing is retried."""
    url = silent_server.url if peer == "silent" else trickle_server.url
    extra = FUNCTIONS + ALARMS
    start = time.monotonic()
    result = run(suite, aws(url, extra, timeout=1), "-m", "critical")
    elapsed = time.monotonic() - start
    result.assert_outcomes(failed=1, errors=2)
    result.stdout.fnmatch_lines_random([
        f"td-aws unreachable at {url} (us-east-1): TimeoutError: sts get_caller_identity: *",
        "*could not run: td-aws unreachable (TimeoutError: sts get_caller_identity*"])
    durations = _durations(result)
    first = max(durations.values())
    assert first < 2.0, f"the unreachable check took {first:.2f} s with a 1 s timeout"
    assert sorted(durations.values())[-2] < 0.5, durations  # the others did not wait
    assert elapsed < 8.0, f"the whole run took {elapsed:.2f} s"  # never hangs
    if peer == "silent":
        assert silent_server.connection_count == 1, "botocore retried the call"


# --------------------------------------------------------------------------- the profile

def test_emulated_t_developer_profile_runs_against_the_emulator(suite, moto_server):
    """profiles/t-developer-v2.toml's aws component, unchanged: it names no endpoint, so
    AWS_ENDPOINT_URL (the loopback emulator, set by the fixture) is where boto3 goes."""
    import os
    from pathlib import Path

    assert os.environ["AWS_ENDPOINT_URL"].startswith("http://127.0.0.1:")
    profile = Path(__file__).resolve().parents[1] / "profiles" / "t-developer-v2.toml"
    for name in ("EvolutionFailure", "HighCost", "SecurityViolation"):
        alarm(moto_server, name, "OK")
    for name in ("research-agent", "planner-agent"):
        lambda_function(moto_server, name)
    for metric, value in (("EvolutionSuccessRate", 92), ("CycleTimeHours", 3.5),
                          ("PRMergeRate", 95), ("ErrorRate", 2)):
        put(moto_server, metric, value, namespace="T-Developer")
    moto_server.costs(cost_answer("37.5"))
    args = ("--inventory", str(profile), "-k", "t-developer-aws")
    result = suite.run(*args, checks=CHECKS, inventory=False)
    result.assert_outcomes(passed=13, skipped=2)  # lambda error rates: no invocations yet
    put(moto_server, "SecurityGateFailures", 1, minutes_ago=1, namespace="T-Developer")
    result = suite.run(*args, "-m", "critical", checks=CHECKS, inventory=False)
    result.assert_outcomes(passed=6, failed=1)
    result.stdout.fnmatch_lines(["t-developer-aws security-gate-failures (SecurityGateFailures "
                                 "Sum over 300 s) 1 ≥ critical 1. Action: page-security (TD:83)"])
