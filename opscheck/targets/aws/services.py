"""Lambda functions (GetFunction) and ECS services (DescribeServices): their state."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import UTC, datetime

from opscheck.components.aws import EcsService
from opscheck.targets.aws.session import AwsError, AwsSession

#: Lambda's LastModified: ``2019-08-14T22:26:11.234+0000`` (AWS), ``…11.234567000Z`` (emulators)
STAMP = re.compile(r"^(\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d)(?:\.(\d+))?(Z|[+-]\d\d:?\d\d)?$")


@dataclass(frozen=True)
class Function:
    """A Lambda function's state: ``Active`` serves; ``Pending``, ``Inactive`` and ``Failed``
    do not. ``update`` is LastUpdateStatus: ``Successful``, ``InProgress`` or ``Failed``."""

    name: str
    state: str
    reason: str
    update: str
    update_reason: str
    modified: datetime | None


@dataclass(frozen=True)
class Deployment:
    id: str
    status: str  # PRIMARY, ACTIVE, INACTIVE
    rollout: str  # IN_PROGRESS, COMPLETED, FAILED ("" when ECS does not say)
    reason: str
    since: datetime | None  # createdAt (else updatedAt): when the rollout began
    failed_tasks: int


@dataclass(frozen=True)
class Service:
    """An ECS service's counts and deployments; ``event`` is its newest service event."""

    name: str
    status: str  # ACTIVE, DRAINING, INACTIVE
    desired: int
    running: int
    pending: int
    deployments: list[Deployment]
    event: str


def parse_stamp(text: str | None) -> datetime | None:
    """Lambda's LastModified as an aware datetime (None when absent or unreadable)."""
    match = STAMP.match(text or "")
    if not match:
        return None
    base, fraction, zone = match.groups()
    micro = (fraction or "0")[:6].ljust(6, "0")
    zone = "+00:00" if zone in (None, "Z") else zone[:3] + ":" + zone[-2:]
    return datetime.fromisoformat(f"{base}.{micro}{zone}").astimezone(UTC)


def function(session: AwsSession, name: str) -> Function | None:
    """The function's configuration, or None when there is no function of that name."""
    try:
        config = session.call("lambda", "get_function", FunctionName=name)["Configuration"]
    except AwsError as exc:
        if exc.code == "ResourceNotFoundException":
            return None
        raise
    return Function(name=name, state=config.get("State", ""),
                    reason=config.get("StateReason") or "",
                    update=config.get("LastUpdateStatus") or "",
                    update_reason=config.get("LastUpdateStatusReason") or "",
                    modified=parse_stamp(config.get("LastModified")))


def service(session: AwsSession, wanted: EcsService) -> Service | None:
    """The service as ECS describes it, or None when the cluster has no such service."""
    try:
        answer = session.call("ecs", "describe_services", cluster=wanted.cluster,
                              services=[wanted.service])
    except AwsError as exc:
        if exc.code == "ClusterNotFoundException":
            return None
        raise
    found = answer.get("services", [])
    if not found:
        return None
    s = found[0]
    events = s.get("events") or []
    return Service(
        name=wanted.name, status=s.get("status", ""), desired=int(s.get("desiredCount", 0)),
        running=int(s.get("runningCount", 0)), pending=int(s.get("pendingCount", 0)),
        deployments=[Deployment(id=d.get("id", ""), status=d.get("status", ""),
                                rollout=d.get("rolloutState", ""),
                                reason=d.get("rolloutStateReason", ""),
                                since=d.get("createdAt") or d.get("updatedAt"),
                                failed_tasks=int(d.get("failedTasks", 0)))
                     for d in s.get("deployments", [])],
        event=str(events[0].get("message", "")) if events else "")
