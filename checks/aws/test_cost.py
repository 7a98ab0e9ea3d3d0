"""AWS: the day's cost in Cost Explorer within its levels (``[[components.costs]]``), at the
entry's tier (default standard). Each check is one Cost Explorer request, which AWS bills."""

import pytest


@pytest.mark.aws
def test_daily_cost_within_levels(aws_component, cost, daily_cost, measure):
    """The cost of today (so far, estimated) or yesterday, UTC, for the account or one
    service, against the entry's levels; its tier marker comes from the entry."""
    figure = daily_cost
    scope = f" of {cost.service}" if cost.service else ""
    estimated = ", estimated" if figure.estimated else ""
    measure(cost.name, figure.amount, cost.threshold(), unit=figure.unit or cost.unit,
            detail=f"{cost.metric}{scope} on {figure.day}{estimated}")
