"""Cost Explorer: one day's cost (GetCostAndUsage, DAILY granularity, UTC days).

Each request to Cost Explorer is billed by AWS (USD 0.01 at the time of writing): a cost
query checked every minute costs about USD 14 a month; run it in the standard tier.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from typing import Any

from opscheck.components.aws import CostQuery
from opscheck.errors import CouldNotRun
from opscheck.targets.aws.session import AwsSession


@dataclass(frozen=True)
class Cost:
    day: date
    amount: float
    unit: str
    estimated: bool


def the_day(query: CostQuery, now: datetime | None = None) -> date:
    today = (now or datetime.now(UTC)).astimezone(UTC).date()
    return today if query.day == "today" else today - timedelta(days=1)


def cost(session: AwsSession, query: CostQuery, now: datetime | None = None) -> Cost:
    """The day's cost; could-not-run when Cost Explorer gives no figure for it."""
    day = the_day(query, now)
    params: dict[str, Any] = {
        "TimePeriod": {"Start": day.isoformat(), "End": (day + timedelta(days=1)).isoformat()},
        "Granularity": "DAILY", "Metrics": [query.metric]}
    if query.service:
        params["Filter"] = {"Dimensions": {"Key": "SERVICE", "Values": [query.service]}}
    answer = session.call("ce", "get_cost_and_usage", **params)
    for result in answer.get("ResultsByTime", []):
        if result.get("TimePeriod", {}).get("Start") != day.isoformat():
            continue
        figure = result.get("Total", {}).get(query.metric)
        if figure is not None:
            return Cost(day, float(figure["Amount"]), str(figure.get("Unit", "")),
                        bool(result.get("Estimated", False)))
    raise CouldNotRun(f"could not run: {session} Cost Explorer gave no {query.metric} for "
                      f"{day} (is Cost Explorer enabled for the account?)")
