"""One component's checks, exactly: ``-m "component(name='…')"``, probes included (their ids
carry the component), where ``-k NAME`` also picks every component whose name contains it."""

from __future__ import annotations

from pathlib import Path

from test_probes import ROW_PROBES, coord

REDIS = """\
[[components]]
name = "wave-redis"
kind = "redis"
url = "redis://127.0.0.1:{port}"

[[components]]
name = "wave-redis-backup"
kind = "backup"
dir = "{folder}"
pattern = "*.rdb"
format = "redis_rdb"

[[probes]]
name = "queue-depth"
component = "wave-redis"
query = "LLEN queue"
critical = 100
"""


def ids(result) -> list[str]:
    return sorted(line.split("::", 1)[1] for line in result.outlines if "::" in line)


def test_component_marker_selects_exactly_one_component_and_its_probes(suite, tmp_path):
    suite.inventory(REDIS.format(port=1, folder=tmp_path))
    checks = ("redis", "backup", "probes")
    by_marker = suite.run("--collect-only", "-q", "-m", "component(name='wave-redis')",
                          checks=checks)
    chosen = ids(by_marker)
    assert chosen and all(i.endswith("[wave-redis]") or "[wave-redis:" in i for i in chosen), \
        chosen
    assert "test_probe[wave-redis:queue-depth]" in chosen
    assert not [i for i in chosen if "wave-redis-backup" in i]
    by_keyword = suite.run("--collect-only", "-q", "-k", "wave-redis", checks=checks)
    assert [i for i in ids(by_keyword) if "wave-redis-backup" in i]  # why -k is not enough
    by_kind = suite.run("--collect-only", "-q", "-m", "component(kind='backup')", checks=checks)
    assert ids(by_kind) and all("[wave-redis-backup" in i for i in ids(by_kind))


def test_probe_ids_carry_their_component(suite, tmp_path):
    db = Path(tmp_path / "coord.db")
    db.touch()
    suite.inventory(coord(db) + ROW_PROBES)
    result = suite.run("--collect-only", "-q", "-k", "coord", checks=("probes",))
    assert ids(result) and all(i.startswith("test_probe[coord:") for i in ids(result))
