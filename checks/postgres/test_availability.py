"""PostgreSQL availability: answers SELECT 1 in time; a replica streams and keeps up."""

import pytest


@pytest.mark.critical
@pytest.mark.postgres
def test_postgres_answers_select_1(postgres_component):
    """Connects and answers ``SELECT 1`` within the timeout (the runbooks' pg_isready)."""
    took = postgres_component.select_one()
    limit = postgres_component.component.timeout
    assert took < limit, (f"{postgres_component} answered SELECT 1 in {took:.2f} s "
                          f"(expected < {limit:g} s)")


@pytest.mark.critical
@pytest.mark.postgres
def test_postgres_replica_streaming(postgres_component):
    """A replica's WAL receiver is streaming from its primary."""
    if not postgres_component.in_recovery():
        pytest.skip(f"{postgres_component} is not a replica (not in recovery)")
    receiver = postgres_component.wal_receiver()
    status = receiver["status"] if receiver else "no WAL receiver"
    assert status == "streaming", (
        f"{postgres_component} replica is {status} (expected streaming). "
        "Action: check the primary and primary_conninfo; see the replica's log")


@pytest.mark.standard
@pytest.mark.postgres
def test_postgres_replication_lag(postgres_component, measure):
    """Seconds a replica's replay is behind what it received."""
    if not postgres_component.in_recovery():
        pytest.skip(f"{postgres_component} is not a replica (not in recovery)")
    lag = postgres_component.replication_lag()
    if lag is None:
        pytest.skip(f"{postgres_component} has replayed no transaction yet")
    measure("replication lag", lag, postgres_component.thresholds.replication_lag)
