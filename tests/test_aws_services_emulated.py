"""The aws kind's service checks against emulated AWS (moto's server on loopback): Lambda
functions and ECS services driven into each state, credentials refused or absent, a dead
and a trickling endpoint, and the T-Developer profile run unchanged against the emulator.
No test reaches AWS (see test_aws_emulated.py)."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from aws_kit import (
    ALARMS,
    CHECKS,
    FUNCTIONS,
    alarm,
    aws,
    cost_answer,
    lambda_function,
    put,
    run,
)

# --------------------------------------------------------------------------- lambda



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

@pytest.mark.parametrize("peer", ["silent", "trickling"])
def test_emulated_dead_endpoint_fails_once_within_the_timeout(suite, aws_test_env,
                                                              silent_server, trickle_server,
                                                              peer):
    """A listener that never answers, or answers one byte every 0.2 s (each read well within
    botocore's read timeout): the first check fails within the 1 s timeout, the rest could
    not run at no extra wait, and nothing is retried."""
    url = silent_server.url if peer == "silent" else trickle_server.url
    extra = FUNCTIONS + ALARMS
    result = run(suite, aws(url, extra, timeout=1), "-m", "critical")
    result.assert_outcomes(failed=1, errors=2)
    result.stdout.fnmatch_lines_random([
        f"td-aws unreachable at {url} (us-east-1): TimeoutError: sts get_caller_identity: *",
        "*could not run: td-aws unreachable (TimeoutError: sts get_caller_identity*"])
    # the deadline's own line (not botocore's read timeout, which a trickle never trips),
    # and one contact for the whole run: the other checks did not wait again, nothing retried
    server = silent_server if peer == "silent" else trickle_server
    assert server.connection_count == 1, "the endpoint was contacted again (a retry or a wait)"


# --------------------------------------------------------------------------- the profile

def test_emulated_t_developer_profile_runs_against_the_emulator(suite, moto_server):
    """profiles/t-developer-v2.toml's aws component, unchanged: it names no endpoint, so
    AWS_ENDPOINT_URL (the loopback emulator, set by the fixture) is where boto3 goes."""
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
