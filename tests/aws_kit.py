"""Helpers of the emulated-AWS tests: inventories of an aws component, and the emulator
driven into states (alarms, datapoints, Lambda functions, Cost Explorer answers)."""

from __future__ import annotations

import io
import textwrap
import zipfile
from datetime import UTC, datetime, timedelta

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


def put(moto, metric: str, *values: float, minutes_ago: float = 5, namespace: str = "TDev",
        dimensions: dict[str, str] | None = None) -> None:
    stamp = datetime.now(UTC) - timedelta(minutes=minutes_ago)
    moto.client("cloudwatch").put_metric_data(Namespace=namespace, MetricData=[
        {"MetricName": metric, "Value": v, "Timestamp": stamp,
         "Dimensions": [{"Name": k, "Value": x} for k, x in (dimensions or {}).items()]}
        for v in values])


def cost_answer(amount: str, day: str | None = None) -> dict:
    day = day or datetime.now(UTC).date().isoformat()
    end = (datetime.fromisoformat(day) + timedelta(days=1)).date().isoformat()
    return {"ResultsByTime": [{"TimePeriod": {"Start": day, "End": end},
                               "Total": {"UnblendedCost": {"Amount": amount, "Unit": "USD"}},
                               "Groups": [], "Estimated": True}]}


def lambda_function(moto, name: str) -> None:
    role = moto.client("iam").create_role(RoleName=f"{name}-role",
                                          AssumeRolePolicyDocument="{}")["Role"]["Arn"]
    code = io.BytesIO()
    with zipfile.ZipFile(code, "w") as archive:
        archive.writestr("handler.py", "def handle(event, context):\n    return 1\n")
    moto.client("lambda").create_function(FunctionName=name, Runtime="python3.12", Role=role,
                                          Handler="handler.handle",
                                          Code={"ZipFile": code.getvalue()})


ALARMS = """
[[components.alarms]]
alarm = "EvolutionFailure"
tier = "critical"
action = "notify-oncall: check logs for failures (TD:67-71)"
"""

FUNCTIONS = 'functions = ["research-agent"]\n'
