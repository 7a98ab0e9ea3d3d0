"""CloudWatch: alarm states (DescribeAlarms) and metric statistics (GetMetricStatistics)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from opscheck.components.aws import AlarmWatch, MetricQuery
from opscheck.targets.aws.session import AwsSession

OK, ALARM, INSUFFICIENT = "OK", "ALARM", "INSUFFICIENT_DATA"


@dataclass(frozen=True)
class Alarm:
    """One alarm: its name, state, since when and why (CloudWatch's words)."""

    name: str
    state: str  # OK, ALARM, INSUFFICIENT_DATA
    since: datetime | None
    reason: str

    def line(self) -> str:
        """``EvolutionFailure in ALARM since 2026-01-15 03:00 UTC (Threshold Crossed: …)``."""
        when = f" since {self.since.astimezone(UTC):%Y-%m-%d %H:%M} UTC" if self.since else ""
        why = f" ({self.reason[:160]})" if self.reason else ""
        return f"{self.name} in {self.state}{when}{why}"


@dataclass(frozen=True)
class Datapoint:
    start: datetime
    value: float


def alarms(session: AwsSession, watch: AlarmWatch) -> list[Alarm]:
    """The metric and composite alarms the watch selects (by exact name or by prefix)."""
    params: dict[str, Any] = ({"AlarmNames": [watch.alarm]} if watch.alarm is not None
                              else {"AlarmNamePrefix": watch.prefix})
    pages = session.pages("cloudwatch", "describe_alarms", **params)
    found = [a for page in pages
             for a in (*page.get("MetricAlarms", []), *page.get("CompositeAlarms", []))]
    return sorted((Alarm(a["AlarmName"], a.get("StateValue", ""),
                         a.get("StateUpdatedTimestamp"), a.get("StateReason", ""))
                   for a in found), key=lambda a: a.name)


def datapoints(session: AwsSession, query: MetricQuery,
               now: datetime | None = None) -> list[Datapoint]:
    """The statistic per period over the last ``window`` seconds, oldest first."""
    end = now or datetime.now(UTC)
    assert query.window is not None  # set by the model
    answer = session.call(
        "cloudwatch", "get_metric_statistics", Namespace=query.namespace,
        MetricName=query.metric, StartTime=end - timedelta(seconds=query.window), EndTime=end,
        Period=query.period, Statistics=[query.statistic],
        Dimensions=[{"Name": k, "Value": v} for k, v in sorted(query.dimensions.items())])
    points = [Datapoint(p["Timestamp"], float(p[query.statistic]))
              for p in answer.get("Datapoints", []) if query.statistic in p]
    return sorted(points, key=lambda p: p.start)


def total(session: AwsSession, namespace: str, metric: str, dimensions: dict[str, str],
          seconds: int, now: datetime | None = None) -> float:
    """The Sum of ``metric`` over the last ``seconds`` (one period; 0 when nothing was sent)."""
    end = now or datetime.now(UTC)
    period = max(60, -(-seconds // 60) * 60)
    answer = session.call(
        "cloudwatch", "get_metric_statistics", Namespace=namespace, MetricName=metric,
        StartTime=end - timedelta(seconds=seconds), EndTime=end, Period=period,
        Statistics=["Sum"], Dimensions=[{"Name": k, "Value": v} for k, v in dimensions.items()])
    return sum(float(p.get("Sum", 0)) for p in answer.get("Datapoints", []))
