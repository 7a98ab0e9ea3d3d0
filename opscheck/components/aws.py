"""An AWS account (one region), through boto3: CloudWatch alarms and metrics, the day's cost,
Lambda functions and ECS services.

Credentials come only from boto3's standard chain (environment variables, the named
``profile`` of ``~/.aws/config``, a container or instance role), never from the inventory.
Every call is bounded by ``timeout`` on the whole answer, botocore's connect and read
timeouts are set to it, and botocore retries nothing unless ``retries`` says so.
Each list below is an item list: its checks run once per entry
(``t-developer-aws:EvolutionFailure``), and alarms, metrics and costs carry their own tier::

    [[components.alarms]]
    alarm = "EvolutionFailure"        # or prefix = "t-developer-"
    tier = "critical"

    [[components.metrics]]
    name = "evolution-success-rate"
    namespace = "T-Developer"
    metric = "EvolutionSuccessRate"
    statistic = "Average"
    period = 3600                     # seconds, CloudWatch's period
    window = 3600                     # look back this far; the worst period is judged
    direction = "below"
    warning = 85
    critical = 70
    unit = "%"
"""

from __future__ import annotations

import re
from typing import Any, ClassVar, Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from opscheck.components import Component, check_url, identifier
from opscheck.items import Item, Levels, unique
from opscheck.thresholds import Threshold, Thresholds, level

Statistic = Literal["Average", "Sum", "Minimum", "Maximum", "SampleCount"]
CostMetric = Literal["UnblendedCost", "BlendedCost", "AmortizedCost", "NetUnblendedCost",
                     "NetAmortizedCost"]
REGION = r"^[a-z]{2}(-[a-z]+)+-\d+$"


class AlarmWatch(Item):
    """CloudWatch alarms, one by name or all with a prefix: ``ALARM`` fails the check."""

    alarm: str | None = Field(default=None, description="the alarm's exact name")
    prefix: str | None = Field(default=None, description="every alarm whose name starts so")
    insufficient_data: Literal["could-not-run", "warning"] = Field(
        default="could-not-run", description="what INSUFFICIENT_DATA means: the check could "
        "not run (an error), or it passes with a warning")
    min_alarms: int = Field(default=1, ge=0, description="prefix: fewest alarms it must match")

    @model_validator(mode="after")
    def _one_selector(self) -> AlarmWatch:
        if (self.alarm is None) == (self.prefix is None):
            raise ValueError("give exactly one of alarm = \"<name>\" or prefix = \"<start>\"")
        if (self.alarm is not None and not self.alarm.strip()) or self.prefix == "":
            raise ValueError("an empty alarm name or prefix selects nothing; write one")
        return self

    @property
    def name(self) -> str:
        """The item's id: the alarm's name, or the prefix followed by ``*``."""
        return self.alarm if self.alarm is not None else f"{self.prefix}*"


class MetricQuery(Levels):
    """A CloudWatch metric statistic over a period, held against levels (GetMetricStatistics)."""

    name: str = Field(description="id of the query within its component")
    namespace: str = Field(description="CloudWatch namespace, e.g. AWS/Lambda")
    metric: str = Field(description="metric name, e.g. Errors")
    dimensions: dict[str, str] = Field(default_factory=dict,
                                       description="dimension name -> value")
    statistic: Statistic = Field(default="Average",
                                 description="Average, Sum, Minimum, Maximum or SampleCount")
    period: int = Field(description="seconds per datapoint: 1, 5, 10, 30 or a multiple of 60")
    window: int | None = Field(default=None, description="seconds to look back (default: one "
                               "period); the worst period in it is judged")
    missing_data: Literal["could-not-run", "fail", "ok"] = Field(
        default="could-not-run", description="no datapoint in the window: the check could not "
        "run, fails, or passes (a metric sent only when something goes wrong)")

    @field_validator("name")
    @classmethod
    def _name_shape(cls, value: str) -> str:
        return identifier(value, "metric query name")

    @model_validator(mode="after")
    def _periods(self) -> MetricQuery:
        if self.period not in (1, 5, 10, 30) and (self.period <= 0 or self.period % 60):
            raise ValueError(f"period {self.period} is not a CloudWatch period; use 1, 5, 10, "
                             "30 or a multiple of 60 seconds")
        self.window = self.window or self.period
        if self.window < self.period:
            raise ValueError(f"window {self.window} is shorter than period {self.period}; "
                             "make it at least one period")
        if self.window // self.period > 1440:
            raise ValueError(f"window {self.window} holds more than 1440 periods of "
                             f"{self.period} s (CloudWatch's limit); lengthen period")
        return self


class CostQuery(Levels):
    """The day's cost in Cost Explorer (GetCostAndUsage, daily), held against levels."""

    name: str = Field(description="id of the cost query within its component")
    day: Literal["today", "yesterday"] = Field(default="today", description="today (so far, "
                                               "estimated) or yesterday (UTC days)")
    metric: CostMetric = Field(default="UnblendedCost", description="Cost Explorer's metric")
    service: str | None = Field(default=None, description="only this service (its SERVICE "
                                "dimension, e.g. \"AWS Lambda\"); default: the whole account")
    unit: str = Field(default="USD", description="unit shown with the cost")

    @field_validator("name")
    @classmethod
    def _name_shape(cls, value: str) -> str:
        return identifier(value, "cost query name")


class EcsService(BaseModel):
    """An ECS service: its cluster and name."""

    model_config = ConfigDict(extra="forbid")

    cluster: str = Field(description="the cluster's name or ARN")
    service: str = Field(description="the service's name or ARN")
    min_running: int = Field(default=1, ge=0, description="fewest running tasks, whatever "
                             "the desired count (0: a service scaled to zero is fine)")

    @property
    def name(self) -> str:
        return f"{self.cluster}/{self.service}"


class AwsThresholds(Thresholds):
    lambda_error_rate: Threshold = level(
        5, 10, "%", action="Review the function's error logs: aws logs tail "
        "/aws/lambda/<function> --since 1h")


class AwsComponent(Component):
    kind: Literal["aws"] = "aws"
    ITEMS: ClassVar[dict[str, str]] = {"alarm": "alarms", "metric": "metrics", "cost": "costs",
                                       "function": "functions", "service": "services"}

    region: str = Field(description="the AWS region, e.g. us-east-1")
    endpoint_url: str | None = Field(default=None, description="another endpoint for every "
                                     "service (an emulator, a VPC endpoint); default: AWS's")
    profile: str | None = Field(default=None, description="a profile name of ~/.aws/config; "
                                "default: boto3's chain (environment, AWS_PROFILE, role)")
    retries: int = Field(default=0, ge=0, le=5, description="botocore retries of a failed "
                         "call (standard mode), all within timeout")
    alarms: list[AlarmWatch] = Field(default_factory=list,
                                     description="CloudWatch alarms ([[components.alarms]])")
    metrics: list[MetricQuery] = Field(default_factory=list, description="CloudWatch metric "
                                       "statistics held against levels ([[components.metrics]])")
    costs: list[CostQuery] = Field(default_factory=list, description="the day's cost "
                                   "([[components.costs]]); each costs one paid API request")
    functions: list[str] = Field(default_factory=list, description="Lambda function names")
    lambda_error_window: int = Field(default=3600, ge=60, description="seconds over which a "
                                     "function's error rate (Errors / Invocations) is taken")
    lambda_min_invocations: int = Field(default=10, ge=1, description="fewer invocations in "
                                        "the window: the error rate is not judged")
    services: list[EcsService] = Field(default_factory=list, description="ECS services "
                                       "([[components.services]])")
    stuck_after_minutes: float = Field(default=30, gt=0, description="a function update or an "
                                       "ECS deployment in progress longer than this is stuck")
    thresholds: AwsThresholds = Field(default_factory=AwsThresholds)

    @field_validator("region")
    @classmethod
    def _region(cls, value: str) -> str:
        if not re.match(REGION, value):
            raise ValueError(f"region {value!r} is not an AWS region name; write it like "
                             "\"us-east-1\"")
        return value

    @field_validator("endpoint_url")
    @classmethod
    def _endpoint(cls, value: str | None) -> str | None:
        return None if value is None else check_url(value, ("http", "https"),
                                                    "http://127.0.0.1:5000", "endpoint_url")

    @field_validator("alarms", "metrics", "costs", "services")
    @classmethod
    def _unique(cls, items: list[Any]) -> list[Any]:
        return unique(items)

    @field_validator("functions")
    @classmethod
    def _functions(cls, names: list[str]) -> list[str]:
        if len(set(names)) != len(names) or any(not n.strip() for n in names):
            raise ValueError("list each Lambda function once, by a non-empty name")
        return names

    @property
    def address(self) -> str:
        return f"{self.endpoint_url or 'AWS'} ({self.region})"
