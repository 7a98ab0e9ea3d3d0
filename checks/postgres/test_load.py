"""PostgreSQL load: connections, size, long queries, idle transactions, XID headroom."""

import pytest

from opscheck.probes import listing


@pytest.mark.standard
@pytest.mark.postgres
def test_postgres_connections_used(postgres_component, measure):
    """Client connections against max_connections (the runbooks' "connection pool exhausted")."""
    used, most = postgres_component.connections()
    measure("connections used", 100.0 * used / most, postgres_component.thresholds.connections,
            detail=f"{used} of max_connections {most}")


@pytest.mark.standard
@pytest.mark.postgres
def test_postgres_database_size(postgres_component, measure):
    """Size of the database the DSN names (levels: thresholds.database_size, MB)."""
    measure("database size", postgres_component.database_size_mb(),
            postgres_component.thresholds.database_size)


@pytest.mark.standard
@pytest.mark.postgres
def test_postgres_long_queries(postgres_component, measure):
    """Queries running longer than long_query_minutes, listed on failure."""
    minutes = postgres_component.component.long_query_minutes
    rows = postgres_component.long_queries(minutes)
    threshold = listing(postgres_component.thresholds.long_queries, rows)
    measure(f"queries running > {minutes:g} min", len(rows), threshold)


@pytest.mark.standard
@pytest.mark.postgres
def test_postgres_idle_in_transaction(postgres_component, measure):
    """Sessions idle in transaction longer than idle_in_transaction_minutes, listed."""
    minutes = postgres_component.component.idle_in_transaction_minutes
    rows = postgres_component.idle_in_transaction(minutes)
    threshold = listing(postgres_component.thresholds.idle_in_transaction, rows)
    measure(f"sessions idle in transaction > {minutes:g} min", len(rows), threshold)


@pytest.mark.standard
@pytest.mark.postgres
def test_postgres_xid_wraparound(postgres_component, measure):
    """Transaction-ID age of the oldest database, as % of the 2^31 wraparound limit."""
    db, pct = postgres_component.xid_age_pct()
    measure("XID age of the oldest database", pct, postgres_component.thresholds.wraparound,
            detail=f"{db}, of the wraparound limit")
