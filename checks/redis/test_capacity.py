"""Redis capacity: memory, clients, rejected connections, evictions, last save age."""

import pytest


@pytest.mark.standard
@pytest.mark.redis
def test_redis_memory_used(redis_component, measure):
    """used_memory against maxmemory (or, when maxmemory is 0, the inventory's memory_budget,
    else the machine's memory that Redis reports)."""
    usage = redis_component.memory()
    if not usage.limit:
        pytest.skip(f"{redis_component} has maxmemory 0, reports no total_system_memory, and "
                    "the inventory sets no memory_budget")
    measure("memory used", usage.pct, redis_component.thresholds.memory,
            detail=f"of {usage.source}")


@pytest.mark.standard
@pytest.mark.redis
def test_redis_clients_connected(redis_component, measure):
    """connected_clients against maxclients."""
    usage = redis_component.clients()
    if not usage.limit:
        pytest.skip(f"{redis_component} does not tell its maxclients (CONFIG disabled)")
    measure("clients connected (of maxclients)", usage.pct, redis_component.thresholds.clients)


@pytest.mark.standard
@pytest.mark.redis
def test_redis_rejected_connections(redis_component, measure):
    """Connections rejected at maxclients since the server started."""
    rejected = redis_component.stats()["rejected_connections"]
    measure("rejected connections", rejected, redis_component.thresholds.rejected_connections)


@pytest.mark.standard
@pytest.mark.redis
def test_redis_evicted_keys(redis_component, measure):
    """Keys evicted under maxmemory since the server started."""
    evicted = redis_component.stats()["evicted_keys"]
    measure("evicted keys", evicted, redis_component.thresholds.evicted_keys)


@pytest.mark.standard
@pytest.mark.redis
def test_redis_last_save_age(redis_component, measure):
    """Minutes since the last successful RDB save, where snapshots are on."""
    rdb, _ = redis_component.persistence()
    if not rdb:
        pytest.skip(f"{redis_component} takes no RDB snapshots")
    measure("last successful save", redis_component.last_save_minutes(),
            redis_component.thresholds.last_save_age)
