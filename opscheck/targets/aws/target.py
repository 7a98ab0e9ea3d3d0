"""One AWS account and region, as its APIs answer; opened with STS GetCallerIdentity."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from opscheck.components.aws import AlarmWatch, AwsComponent, CostQuery, EcsService, MetricQuery
from opscheck.targets.aws import cloudwatch, cost, services
from opscheck.targets.aws.session import AwsSession


class AwsTarget:
    """The component's boto3 session and what CloudWatch, Cost Explorer, Lambda and ECS say.

    ``open`` asks STS who the credentials are (it needs no permission): a dead endpoint
    costs the timeout once and refused credentials are "could not run" for every check."""

    def __init__(self, component: AwsComponent) -> None:
        self.component = component
        self.session = AwsSession(component)
        self.identity: dict[str, Any] = {}

    @classmethod
    def open(cls, component: AwsComponent) -> AwsTarget:
        target = cls(component)
        answer = target.session.call("sts", "get_caller_identity")
        target.identity = {k: answer.get(k) for k in ("Account", "Arn", "UserId")}
        return target

    def close(self) -> None:
        self.session.close()

    def __str__(self) -> str:
        return self.component.name

    def alarms(self, watch: AlarmWatch) -> list[cloudwatch.Alarm]:
        return cloudwatch.alarms(self.session, watch)

    def datapoints(self, query: MetricQuery) -> list[cloudwatch.Datapoint]:
        return cloudwatch.datapoints(self.session, query)

    def cost(self, query: CostQuery) -> cost.Cost:
        return cost.cost(self.session, query)

    def function(self, name: str) -> services.Function | None:
        return services.function(self.session, name)

    def function_calls(self, name: str) -> tuple[float, float]:
        """(Invocations, Errors) of the function over ``lambda_error_window`` seconds, from
        the AWS/Lambda metrics."""
        window = self.component.lambda_error_window
        now = datetime.now(UTC)
        dims = {"FunctionName": name}
        return (cloudwatch.total(self.session, "AWS/Lambda", "Invocations", dims, window, now),
                cloudwatch.total(self.session, "AWS/Lambda", "Errors", dims, window, now))

    def service(self, wanted: EcsService) -> services.Service | None:
        return services.service(self.session, wanted)

    def minutes_since(self, when: datetime | None) -> float | None:
        """Minutes from ``when`` until now (None when unknown)."""
        if when is None:
            return None
        return (datetime.now(UTC) - when.astimezone(UTC)).total_seconds() / 60
