"""AWS services: each Lambda function is Active and not stuck updating (critical), its
recent error rate within levels (standard); each ECS service runs its desired tasks
(critical) and no deployment is stuck or failed (standard).

"Stuck": an update or a deployment still in progress ``stuck_after_minutes`` after it began.
"""

import pytest

ACTION_AGENT = ("Check the agent: aws lambda get-function / aws ecs describe-services; "
                "restart or scale it")


@pytest.mark.critical
@pytest.mark.aws
def test_lambda_function_active(aws_component, function):
    """The function exists, its State is Active, and its last update neither failed nor has
    been in progress longer than stuck_after_minutes."""
    c = aws_component.component
    f = aws_component.function(function)
    assert f is not None, (f"{c.name} has no Lambda function {function!r} in {c.region}; "
                           f"expected it to exist. Action: {ACTION_AGENT}")
    why = f" ({f.reason})" if f.reason else ""
    assert f.state == "Active", (f"{c.name} Lambda {function} is {f.state or 'in no state'}"
                                 f"{why}, expected Active. Action: {ACTION_AGENT}")
    assert f.update != "Failed", (f"{c.name} Lambda {function}: its last update failed "
                                  f"({f.update_reason or 'no reason given'}). Action: "
                                  "redeploy the function")
    age = aws_component.minutes_since(f.modified)
    if f.update == "InProgress" and age is not None:
        assert age <= c.stuck_after_minutes, (
            f"{c.name} Lambda {function} stuck: update in progress for {age:.0f} min, "
            f"expected at most {c.stuck_after_minutes:g} min. Action: {ACTION_AGENT}")


@pytest.mark.standard
@pytest.mark.aws
def test_lambda_error_rate(aws_component, function, measure):
    """Errors / Invocations of the function (AWS/Lambda metrics) over lambda_error_window
    against thresholds.lambda_error_rate; too few invocations are not judged."""
    c = aws_component.component
    calls, errors = aws_component.function_calls(function)
    if calls < c.lambda_min_invocations:
        pytest.skip(f"{c.name} Lambda {function}: {calls:g} invocations in the last "
                    f"{c.lambda_error_window} s, fewer than lambda_min_invocations "
                    f"{c.lambda_min_invocations}: too few to judge an error rate")
    measure(f"Lambda {function} error rate", round(100.0 * errors / calls, 2),
            c.thresholds.lambda_error_rate,
            detail=f"{errors:g} errors in {calls:g} invocations over {c.lambda_error_window} s")


@pytest.mark.critical
@pytest.mark.aws
def test_ecs_service_running(aws_component, service):
    """The ECS service exists, is ACTIVE and runs its desired count of tasks (and at least
    min_running)."""
    c = aws_component.component
    s = aws_component.service(service)
    assert s is not None, (f"{c.name} has no ECS service {service.service!r} in cluster "
                           f"{service.cluster!r} ({c.region}); expected it to exist")
    assert s.status == "ACTIVE", (f"{c.name} ECS service {s.name} is {s.status}, expected "
                                  "ACTIVE")
    want = max(s.desired, service.min_running)
    event = f"; latest event: {s.event[:160]}" if s.event else ""
    assert s.running >= want, (
        f"{c.name} ECS service {s.name} runs {s.running} of {want} tasks (desired "
        f"{s.desired}, {s.pending} pending){event}. Action: {ACTION_AGENT}")


@pytest.mark.standard
@pytest.mark.aws
def test_ecs_deployment_not_stuck(aws_component, service):
    """No deployment of the service has FAILED or been IN_PROGRESS longer than
    stuck_after_minutes."""
    c = aws_component.component
    s = aws_component.service(service)
    if s is None:
        pytest.skip(f"{c.name} has no ECS service {service.name} (test_ecs_service_running "
                    "fails for it)")
    failed = [d for d in s.deployments if d.rollout == "FAILED"]
    assert not failed, (f"{c.name} ECS service {s.name} deployment {failed[0].id} FAILED "
                        f"({failed[0].reason or 'no reason given'}, {failed[0].failed_tasks} "
                        "failed tasks). Action: roll back to the last good task definition")
    for d in s.deployments:
        age = aws_component.minutes_since(d.since)
        if d.rollout == "IN_PROGRESS" and age is not None:
            assert age <= c.stuck_after_minutes, (
                f"{c.name} ECS service {s.name} stuck: deployment {d.id} in progress for "
                f"{age:.0f} min, expected at most {c.stuck_after_minutes:g} min "
                f"({d.reason or 'no reason given'}). Action: {ACTION_AGENT}")
