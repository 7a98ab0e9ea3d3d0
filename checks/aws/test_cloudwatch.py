"""AWS: the API answers with the configured credentials (critical); CloudWatch alarms are not
in ALARM, and CloudWatch metric statistics are within their levels, each at its own tier
(``[[components.alarms]]``, ``[[components.metrics]]``; default standard).

A metric query is a CloudWatch statistic over a period, like an alarm's: "EvolutionSuccessRate
Average over 3600 s below 70 %". Over a window of several periods the worst one is judged.
"""

import warnings

import pytest

from opscheck.targets.aws.cloudwatch import ALARM, INSUFFICIENT
from opscheck.thresholds import ThresholdWarning


@pytest.mark.critical
@pytest.mark.aws
def test_aws_api_answers(aws_component):
    """STS GetCallerIdentity answers: the endpoint is reached and the credentials accepted."""
    account = aws_component.identity.get("Account")
    assert account, (f"{aws_component} STS answered without an account "
                     f"({aws_component.identity!r}); expected the caller's account id")


@pytest.mark.aws
def test_cloudwatch_alarm_not_firing(aws_component, alarm, alarm_states):
    """The alarm (or every alarm with the prefix) exists and is not in ALARM; its tier
    marker comes from the entry. INSUFFICIENT_DATA: could not run, or a warning."""
    c = aws_component.component
    if alarm.alarm is not None:
        assert alarm_states, (f"{c.name} has no CloudWatch alarm named {alarm.alarm!r} in "
                              f"{c.region}; expected it to exist (was it deleted or renamed?)")
    else:
        assert len(alarm_states) >= alarm.min_alarms, (
            f"{c.name} has {len(alarm_states)} CloudWatch alarms named {alarm.prefix}… in "
            f"{c.region}, expected at least {alarm.min_alarms}")
    firing = [a for a in alarm_states if a.state == ALARM]
    action = f". Action: {alarm.action}" if alarm.action else ""
    others = ", ".join(a.name for a in firing[1:])
    more = f" (and {len(firing) - 1} more: {others})" if others else ""
    assert not firing, f"{c.name} alarm {firing[0].line()}{more}{action}"
    short = [a for a in alarm_states if a.state == INSUFFICIENT]
    if short:  # insufficient_data = "warning" (else the fixture said could not run)
        warnings.warn(ThresholdWarning(f"{c.name} alarm {short[0].line()}: too little data "
                                       "to evaluate it"), stacklevel=1)


@pytest.mark.aws
def test_cloudwatch_metric_within_levels(aws_component, metric, metric_datapoints, measure):
    """A CloudWatch statistic over its period (the worst period in the window) against its
    levels; its tier marker comes from the entry. No datapoint: as ``missing_data`` says."""
    c = aws_component.component
    detail = f"{metric.metric} {metric.statistic} over {metric.period} s"
    if not metric_datapoints:
        assert metric.missing_data == "ok", (
            f"{c.name} {metric.name}: no datapoint of {metric.namespace} {metric.metric} in "
            f"the last {metric.window} s, expected at least one")
        return
    worst = metric.threshold().worst(metric_datapoints, lambda p: p.value)
    if len(metric_datapoints) > 1:
        detail += f", worst of {len(metric_datapoints)} periods in {metric.window} s"
    measure(metric.name, worst.value, metric.threshold(), detail=detail)
