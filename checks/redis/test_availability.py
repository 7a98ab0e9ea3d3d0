"""Redis availability: PING, persistence, replica link, and strangers refused."""

import pytest


@pytest.mark.critical
@pytest.mark.redis
def test_redis_answers_ping(redis_component):
    """Redis answers PING (with AUTH when the inventory names a password variable)."""
    answer = redis_component.ping()
    assert answer == "PONG", f"{redis_component} answered PING with {answer[:160]} (expected PONG)"


@pytest.mark.critical
@pytest.mark.redis
def test_redis_persistence_healthy(redis_component):
    """The last RDB save, AOF write and AOF rewrite succeeded, where persistence is on."""
    rdb, aof = redis_component.persistence()
    if not (rdb or aof):
        pytest.skip(f"{redis_component} has persistence off (no save points, no AOF)")
    info = redis_component.info("persistence")
    bad = []
    if rdb and info.get("rdb_last_bgsave_status") != "ok":
        bad.append(f"rdb_last_bgsave_status {info.get('rdb_last_bgsave_status')}")
    for key in ("aof_last_write_status", "aof_last_bgrewrite_status") if aof else ():
        if info.get(key) != "ok":
            bad.append(f"{key} {info.get(key)}")
    assert not bad, (f"{redis_component} persistence failing: {', '.join(bad)} (expected ok). "
                     "Action: check the disk and the Redis log, then BGSAVE")


@pytest.mark.critical
@pytest.mark.redis
def test_redis_replica_link_up(redis_component):
    """A replica's link to its master is up."""
    info = redis_component.info("replication")
    if info.get("role") != "slave":
        pytest.skip(f"{redis_component} is not a replica (role {info.get('role')})")
    master = f"{info.get('master_host')}:{info.get('master_port')}"
    status = info.get("master_link_status")
    assert status == "up", (
        f"{redis_component} replica link to {master} is {status} (expected up), down for "
        f"{info.get('master_link_down_since_seconds', '?')} s. Action: check the master")


@pytest.mark.standard
@pytest.mark.redis
@pytest.mark.applies(lambda c: c.require_password, "requires no password (require_password)")
def test_redis_refuses_strangers(redis_component):
    """When the inventory requires a password, a connection without AUTH is refused."""
    assert not redis_component.answers_strangers(), (
        f"{redis_component} answers PING without AUTH (expected NOAUTH). "
        "Action: set requirepass (or ACL) so that strangers are refused")
