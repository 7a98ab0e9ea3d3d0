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
    return suite.run("-p", "no:randomly", *args, checks=CHECKS)


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
