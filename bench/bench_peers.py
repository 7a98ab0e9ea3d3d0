"""Benchmark: opscheck against its peers, in one run, on real loopback servers.

    .venv/bin/python bench/bench_peers.py [--repeat 3] [--quick]

Cases (each the median of REPEAT runs; wall time of a whole process, start-up included):

- **critical**: a stack of host + redis + postgres + sqlite + http (timeouts 1 s), ``opscheck
  -m critical`` against the same judgments made by testinfra used directly (a pytest file with
  testinfra's ``host`` fixture and the clients), Debian's Nagios plugins run in a row
  (check_disk, check_tcp, check_pgsql, check_http), a shell script in the runbooks' style
  (df, redis-cli, psql, curl, sqlite3) and a bare Python script making the same client calls;
- **dead**: 20 Redis components that accept and never answer (timeout 1 s), sequentially and
  with ``-n 2``, against the same 20 calls made in parallel by bare Python threads, and
  against the bound: the healthy floor (the same 20 components on a live Redis) + one
  timeout + 0.3 s;
- **many**: about 2,000 checks (a Redis and an SQLite component with 1,000 probes each),
  wall time and peak memory, sequentially and with ``-n 2``, against a bare Python loop
  making the same 2,000 client calls, and against pytest's own floor: as many trivial tests
  with the same plugins;
- **sessions**: 25 PostgreSQL components on a server with ``max_connections = 20``: checks
  that could not connect ("too many clients") and the most sessions opscheck held at once;
- **sqlite-memory**: 100 SQLite components on one 20 MiB file: peak memory.

A peer that is not installed is reported as such, never a crash. Results go to
``build/bench/peers.json`` too, for ``bench/bench_summary.py``. Prints figures and ratios;
asserts nothing (performance is measured here, never in tests).
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import shutil
import sqlite3
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO / "tests"))

from servers import (  # noqa: E402 - the self-tests' loopback servers
    HTTPServer,
    PostgresServer,
    RedisServer,
    SilentServer,
    make_owned_tempdir,
)

BIN = Path(sys.executable).parent
NAGIOS = Path("/usr/lib/nagios/plugins")
OUT = REPO / "build" / "bench"
EMPTY = Path(tempfile.mkdtemp(prefix="opscheck-bench-cwd-"))  # as from cron: no conftest near


def env() -> dict[str, str]:
    """As an operator's shell has it: bytecode cached (an installed package has it)."""
    e = {k: v for k, v in os.environ.items()
         if not k.startswith("OPSCHECK_") and k != "PYTHONDONTWRITEBYTECODE"}
    e["OPSCHECK_STATE_DIR"] = tempfile.mkdtemp(prefix="opscheck-bench-state-")
    return e


def run(cmd: list[str], cwd: Path | None = None, ok: tuple[int, ...] = (0, 1),
        **kw: Any) -> tuple[float, float, str]:
    """(wall seconds, peak RSS MiB, output) of one process (its children's peak included)."""
    start = time.perf_counter()
    proc = subprocess.Popen(cmd, cwd=cwd or EMPTY, env=kw.get("env") or env(),
                            stdout=subprocess.PIPE,
                            stderr=subprocess.STDOUT, text=True)
    out, _ = proc.communicate(timeout=900)
    took = time.perf_counter() - start
    peak = _peak_of(proc.pid)
    if proc.returncode not in ok:
        raise RuntimeError(f"{' '.join(map(str, cmd))} exited {proc.returncode}:\n{out[-3000:]}")
    return took, peak, out


_PEAKS: dict[int, float] = {}


def _peak_of(pid: int) -> float:
    return _PEAKS.pop(pid, 0.0)


_real_wait = subprocess.Popen._try_wait  # type: ignore[attr-defined]


def _try_wait(self: subprocess.Popen[Any], wait_flags: int) -> tuple[int, int]:
    """Popen's wait, through wait4: the child's peak RSS is kept (ru_maxrss, KiB)."""
    try:
        pid, status, usage = os.wait4(self.pid, wait_flags)
    except ChildProcessError:
        return _real_wait(self, wait_flags)
    if pid:
        _PEAKS[pid] = usage.ru_maxrss / 1024
    return pid, status


subprocess.Popen._try_wait = _try_wait  # type: ignore[attr-defined, method-assign]


def median(runs: int, fn: Any) -> tuple[float, float, str]:
    results = [fn() for _ in range(runs)]
    return (statistics.median(r[0] for r in results), max(r[1] for r in results),
            results[-1][2])


def opscheck(inventory: Path, *args: str) -> list[str]:
    return [str(BIN / "opscheck"), "-q", "-p", "no:randomly", "--inventory", str(inventory),
            *args]


def last_line(out: str) -> str:
    lines = [line for line in out.splitlines() if line.strip()]
    return lines[-1].strip("= ") if lines else ""


# -- the critical stack ------------------------------------------------------------------
TESTINFRA = '''
import sqlite3, psycopg, redis, requests

def test_disk(host):
    assert host.run("df -P /").rc == 0

def test_memory(host):
    assert "MemAvailable" in host.file("/proc/meminfo").content_string

def test_redis_ping():
    assert redis.Redis.from_url("{redis}", socket_timeout=1).ping()

def test_redis_role():
    assert redis.Redis.from_url("{redis}", socket_timeout=1).info("replication")

def test_pg_select_1():
    with psycopg.connect("{pg}", connect_timeout=2) as c:
        assert c.execute("SELECT 1").fetchone()[0] == 1

def test_pg_read_only():
    with psycopg.connect("{pg}", connect_timeout=2) as c:
        assert c.execute("SELECT pg_is_in_recovery()").fetchone()[0] is False

def test_sqlite_quick_check():
    with sqlite3.connect("file:{db}?mode=ro", uri=True) as c:
        assert c.execute("PRAGMA quick_check").fetchone()[0] == "ok"

def test_http_status():
    assert requests.get("{http}", timeout=1).status_code == 200

def test_http_json():
    assert requests.get("{http}", timeout=1).json()["status"] == "ok"
'''

BARE = '''
import shutil, sqlite3, psycopg, redis, requests, subprocess
subprocess.run(["sh", "-c", "df -P /"], capture_output=True, check=True)
open("/proc/meminfo").read()
r = redis.Redis.from_url("{redis}", socket_timeout=1)
assert r.ping() and r.info("replication")
with psycopg.connect("{pg}", connect_timeout=2) as c:
    assert c.execute("SELECT 1").fetchone()[0] == 1
    c.execute("SELECT pg_is_in_recovery()").fetchone()
with sqlite3.connect("file:{db}?mode=ro", uri=True) as c:
    assert c.execute("PRAGMA quick_check").fetchone()[0] == "ok"
a = requests.get("{http}", timeout=1)
assert a.status_code == 200 and a.json()["status"] == "ok"
'''

SHELL = '''#!/bin/sh
# the runbooks' way: one command per check, in a row
set -e
df -P / >/dev/null
grep -q MemAvailable /proc/meminfo
redis-cli -h 127.0.0.1 -p {redis_port} ping | grep -q PONG
redis-cli -h 127.0.0.1 -p {redis_port} info replication >/dev/null
psql "{pg}" -tAc 'SELECT 1' | grep -q 1
psql "{pg}" -tAc 'SELECT pg_is_in_recovery()' >/dev/null
sqlite3 "file:{db}?mode=ro" 'PRAGMA quick_check' | grep -q ok
curl -sf -m 1 "{http}" >/dev/null
curl -sf -m 1 "{http}" | grep -q '"ok"'
'''


def nagios(redis_port: int, pg_port: int, http_port: int) -> list[list[str]] | None:
    plugins = ["check_disk", "check_tcp", "check_pgsql", "check_http"]
    if not all((NAGIOS / p).exists() for p in plugins):
        return None
    return [[str(NAGIOS / "check_disk"), "-w", "10%", "-c", "5%", "-p", "/"],
            [str(NAGIOS / "check_tcp"), "-H", "127.0.0.1", "-p", str(redis_port), "-t", "1",
             "-s", "PING\r\n", "-e", "+PONG"],
            [str(NAGIOS / "check_pgsql"), "-H", "127.0.0.1", "-P", str(pg_port), "-l",
             "postgres", "-d", "postgres", "-t", "2"],
            [str(NAGIOS / "check_http"), "-H", "127.0.0.1", "-p", str(http_port), "-u",
             "/health", "-t", "1", "-s", '"ok"']]


def in_a_row(commands: list[list[str]]) -> tuple[float, float, str]:
    start = time.perf_counter()
    outs = []
    peak = 0.0
    for cmd in commands:
        _, p, out = run(cmd, ok=(0, 1, 2))
        peak = max(peak, p)
        outs.append(out.strip().splitlines()[0] if out.strip() else "")
    return time.perf_counter() - start, peak, " | ".join(outs)


def critical(stack: contextlib.ExitStack, folder: Path, repeat: int) -> dict[str, Any]:
    redis_server = stack.enter_context(RedisServer(folder / "redis"))
    pg_dir = make_owned_tempdir("opscheck-bench-pg-")
    stack.callback(shutil.rmtree, pg_dir, ignore_errors=True)
    pg = stack.enter_context(PostgresServer(pg_dir))
    http = stack.enter_context(HTTPServer()).route("/health", json={"status": "ok"})
    db = folder / "state.db"
    with contextlib.closing(sqlite3.connect(db)) as conn:
        conn.execute("CREATE TABLE t (x)")
        conn.executemany("INSERT INTO t VALUES (?)", [(i,) for i in range(1000)])
        conn.commit()
    where = {"redis": f"redis://127.0.0.1:{redis_server.port}/0", "pg": pg.dsn, "db": db,
             "http": f"http://127.0.0.1:{http.port}/health", "redis_port": redis_server.port}
    inventory = folder / "stack.toml"
    inventory.write_text(
        '[system]\nname = "bench"\ntimeout = 1\n'
        '[[components]]\nname = "this-host"\nkind = "host"\nspec = "local://"\n'
        f'[[components]]\nname = "bus"\nkind = "redis"\nurl = "{where["redis"]}"\n'
        f'[[components]]\nname = "db"\nkind = "postgres"\ndsn = "{pg.dsn}"\n'
        f'[[components]]\nname = "state"\nkind = "sqlite"\npath = "{db}"\n'
        f'[[components]]\nname = "api"\nkind = "http"\nurl = "{where["http"]}"\n'
        '[[components.expect_json]]\npath = "status"\nequals = "ok"\n')
    (folder / "ti").mkdir()
    (folder / "ti" / "test_stack.py").write_text(TESTINFRA.format(**where))
    (folder / "bare.py").write_text(BARE.format(**where))
    (folder / "runbook.sh").write_text(SHELL.format(**where))
    off = {**env(), "PYTEST_DISABLE_PLUGIN_AUTOLOAD": "1"}
    results: dict[str, Any] = {}
    mine = median(repeat, lambda: run(opscheck(inventory, "-m", "critical")))
    results["opscheck"] = mine[0]
    results["opscheck_line"] = last_line(mine[2])
    peers: dict[str, Any] = {
        "testinfra used directly": lambda: run(
            [str(BIN / "pytest"), "-q", "-p", "no:cacheprovider", "-p", "testinfra.plugin",
             str(folder / "ti")], env=off),
        "bare Python": lambda: run([sys.executable, str(folder / "bare.py")]),
    }
    shell_tools = all(shutil.which(t) for t in ("redis-cli", "psql", "curl", "sqlite3"))
    if shell_tools:
        peers["shell script (runbook style)"] = lambda: run(["sh", str(folder / "runbook.sh")])
    plugins = nagios(redis_server.port, pg.port, http.port)
    if plugins:
        peers["Nagios plugins in a row"] = lambda: in_a_row(plugins)
    results["peers"] = {name: median(repeat, fn)[0] for name, fn in peers.items()}
    missing = [] if plugins else ["Nagios plugins (apt-get install monitoring-plugins-basic "
                                  "monitoring-plugins-standard)"]
    missing += [] if shell_tools else ["redis-cli, psql, curl or sqlite3 (shell peer)"]
    results["not installed"] = missing
    return results


# -- dead components -----------------------------------------------------------------------
PARALLEL = '''
import concurrent.futures, redis
from redis.backoff import NoBackoff
from redis.retry import Retry
def ping(port):
    try:
        redis.Redis(port=port, socket_timeout=1, socket_connect_timeout=1,
                    retry=Retry(NoBackoff(), 0)).ping()
    except Exception:
        pass
with concurrent.futures.ThreadPoolExecutor(32) as pool:
    list(pool.map(ping, {ports}))
'''


def dead(stack: contextlib.ExitStack, folder: Path, repeat: int, count: int = 20
         ) -> dict[str, Any]:
    live = stack.enter_context(RedisServer(folder / "redis-live"))
    silent = [stack.enter_context(SilentServer()) for _ in range(count)]

    def inventory(name: str, ports: list[int]) -> Path:
        path = folder / f"{name}.toml"
        path.write_text('[system]\nname = "bench"\ntimeout = 1\n' + "".join(
            f'[[components]]\nname = "r{i}"\nkind = "redis"\nurl = "redis://127.0.0.1:{p}/0"\n'
            for i, p in enumerate(ports)))
        return path

    healthy = inventory("healthy", [live.port] * count)
    hostile = inventory("dead", [s.port for s in silent])
    (folder / "parallel.py").write_text(PARALLEL.format(ports=[s.port for s in silent]))
    floor = median(repeat, lambda: run(opscheck(healthy, "-m", "critical")))[0]
    seq = median(repeat, lambda: run(opscheck(hostile, "-m", "critical")))
    n2 = median(repeat, lambda: run(opscheck(hostile, "-m", "critical", "-n", "2")))[0]
    bare = median(repeat, lambda: run([sys.executable, str(folder / "parallel.py")]))[0]
    return {"count": count, "floor": floor, "sequential": seq[0], "n2": n2, "bare": bare,
            "bound": floor + 1 + 0.3, "line": last_line(seq[2])}


# -- many checks -----------------------------------------------------------------------
LOOP = '''
import sqlite3, redis
r = redis.Redis.from_url("{redis}", socket_timeout=1)
c = sqlite3.connect("file:{db}?mode=ro", uri=True)
for i in range({n}):
    float(r.get(f"k{{i}}"))
    float(c.execute("SELECT count(*) FROM t").fetchone()[0])
'''


def many(stack: contextlib.ExitStack, folder: Path, repeat: int, n: int = 1000
         ) -> dict[str, Any]:
    import redis

    server = stack.enter_context(RedisServer(folder / "redis-many"))
    url = f"redis://127.0.0.1:{server.port}/0"
    client = redis.Redis.from_url(url)
    client.mset({f"k{i}": i for i in range(n)})
    client.close()
    db = folder / "many.db"
    with contextlib.closing(sqlite3.connect(db)) as conn:
        conn.execute("CREATE TABLE t (x)")
        conn.executemany("INSERT INTO t VALUES (?)", [(i,) for i in range(100)])
        conn.commit()
    inventory = folder / "many.toml"
    inventory.write_text(
        '[system]\nname = "bench"\ntimeout = 2\n'
        f'[[components]]\nname = "bus"\nkind = "redis"\nurl = "{url}"\n'
        f'[[components]]\nname = "state"\nkind = "sqlite"\npath = "{db}"\n' + "".join(
            f'[[probes]]\nname = "r{i}"\ncomponent = "bus"\nquery = "GET k{i}"\n'
            f'warning = {n + 1}\ncritical = {n + 2}\n'
            f'[[probes]]\nname = "s{i}"\ncomponent = "state"\nquery = "SELECT count(*) FROM t"\n'
            f'warning = 1000\ncritical = 2000\n' for i in range(n)))
    (folder / "loop.py").write_text(LOOP.format(redis=url, db=db, n=n))
    probes = str(REPO / "checks" / "probes")
    seq = median(repeat, lambda: run(opscheck(inventory, "-m", "critical or standard",
                                              probes)))
    n2 = median(repeat, lambda: run(opscheck(inventory, "-m", "critical or standard", "-n", "2",
                                             probes)))
    bare = median(repeat, lambda: run([sys.executable, str(folder / "loop.py")]))
    trivial = folder / "trivial"  # pytest's own floor: as many tests, each doing nothing
    trivial.mkdir(exist_ok=True)
    (trivial / "test_trivial.py").write_text(
        f"import pytest\n\n@pytest.mark.parametrize('i', range({2 * n}))\n"
        "def test_trivial(i):\n    assert i >= 0\n")
    same = {**env(), "PYTEST_DISABLE_PLUGIN_AUTOLOAD": "1"}  # the plugins opscheck loads
    floor = median(repeat, lambda: run([str(BIN / "pytest"), "-q", "-p", "no:cacheprovider",
                                        "-p", "pytest_timeout", "-p", "testinfra.plugin",
                                        "test_trivial.py"], cwd=trivial, env=same))
    return {"checks": 2 * n, "sequential": seq[0], "sequential_mib": seq[1], "n2": n2[0],
            "n2_mib": n2[1], "bare": bare[0], "bare_mib": bare[1], "pytest": floor[0],
            "line": last_line(seq[2])}


# -- sessions and memory ---------------------------------------------------------------
def sessions(stack: contextlib.ExitStack, folder: Path) -> dict[str, Any]:
    import psycopg

    pg_dir = make_owned_tempdir("opscheck-bench-pg20-")
    stack.callback(shutil.rmtree, pg_dir, ignore_errors=True)
    pg = stack.enter_context(PostgresServer(pg_dir, max_connections=20))
    inventory = folder / "pg25.toml"
    inventory.write_text('[system]\nname = "bench"\ntimeout = 5\n' + "".join(
        f'[[components]]\nname = "pg-{i}"\nkind = "postgres"\ndsn = "{pg.dsn}"\n'
        for i in range(25)))
    seen = [0]
    stop = threading.Event()

    def watch() -> None:
        with psycopg.connect(pg.dsn, autocommit=True, application_name="bench") as conn:
            while not stop.wait(0.01):
                seen.append(conn.execute("SELECT count(*) FROM pg_stat_activity WHERE "
                                         "application_name = 'opscheck'").fetchone()[0])

    watcher = threading.Thread(target=watch, daemon=True)
    watcher.start()
    try:
        wall, _, out = run(opscheck(inventory, "-m", "critical or standard",
                                    str(REPO / "checks" / "postgres"), "-rA"))
    finally:
        stop.set()
        watcher.join(5)
    refused = sum(1 for line in out.splitlines() if "too many clients" in line
                  and line.startswith(("FAILED", "ERROR")))
    unreachable = sum(1 for line in out.splitlines() if "unreachable" in line
                      and line.startswith("FAILED"))
    return {"components": 25, "max_connections": 20, "refused": refused,
            "unreachable": unreachable, "peak_sessions": max(seen), "wall": wall,
            "line": last_line(out)}


def sqlite_memory(folder: Path, count: int = 100, mib: float = 20.6) -> dict[str, Any]:
    db = folder / "big.db"
    with contextlib.closing(sqlite3.connect(db)) as conn:
        conn.execute("CREATE TABLE t (x BLOB)")
        rows = int(mib * 2**20 / 4096)
        conn.executemany("INSERT INTO t VALUES (?)", ((os.urandom(4000),) for _ in range(rows)))
        conn.commit()
    inventory = folder / "sqlite100.toml"
    inventory.write_text('[system]\nname = "bench"\ntimeout = 5\n' + "".join(
        f'[[components]]\nname = "db-{i}"\nkind = "sqlite"\npath = "{db}"\n'
        for i in range(count)))
    wall, peak, out = run(opscheck(inventory, "-m", "critical or standard"))
    return {"components": count, "file_mib": db.stat().st_size / 2**20, "peak_mib": peak,
            "wall": wall, "line": last_line(out)}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--quick", action="store_true", help="one run per case")
    opts = parser.parse_args()
    repeat = 1 if opts.quick else opts.repeat
    results: dict[str, Any] = {"cpus": os.cpu_count(), "repeat": repeat}
    folder = Path(tempfile.mkdtemp(prefix="opscheck-bench-peers-"))
    with contextlib.ExitStack() as stack:
        stack.callback(shutil.rmtree, folder, ignore_errors=True)
        results["critical"] = c = critical(stack, folder, repeat)
        print(f"critical sweep (host+redis+postgres+sqlite+http, timeout 1 s; {c['opscheck_line']})"
              f", median of {repeat}, {os.cpu_count()} CPUs")
        print(f"  {'opscheck -m critical':<34} {c['opscheck']:6.2f} s")
        for name, took in c["peers"].items():
            print(f"  {name:<34} {took:6.2f} s   opscheck/peer {c['opscheck'] / took:5.2f}x")
        for name in c["not installed"]:
            print(f"  not installed: {name}")
        results["dead"] = d = dead(stack, folder, repeat)
        print(f"{d['count']} components that accept and never answer (timeout 1 s; {d['line']})")
        print(f"  healthy floor {d['floor']:.2f} s; bound floor + 1 timeout + 0.3 s = "
              f"{d['bound']:.2f} s")
        for key, label in (("sequential", "sequential"), ("n2", "-n 2")):
            print(f"  opscheck {label:<11} {d[key]:6.2f} s   {d[key] / d['bound']:5.2f}x the "
                  f"bound; {d[key] / d['bare']:5.2f}x the parallel calls ({d['bare']:.2f} s)")
        results["many"] = m = many(stack, folder, repeat)
        print(f"{m['checks']} probe checks ({m['line']})")
        for key, label in (("sequential", "sequential"), ("n2", "-n 2")):
            print(f"  opscheck {label:<11} {m[key]:6.2f} s {m[key + '_mib']:6.0f} MiB   "
                  f"{m[key] / m['bare']:5.2f}x the bare loop ({m['bare']:.2f} s, "
                  f"{m['bare_mib']:.0f} MiB)")
        print(f"  pytest alone, {m['checks']} trivial tests, the same plugins: "
              f"{m['pytest']:.2f} s = {m['pytest'] / m['bare']:.2f}x the bare loop (opscheck "
              f"{m['sequential'] / m['pytest']:.2f}x it)")
        results["sessions"] = s = sessions(stack, folder)
        print(f"25 PostgreSQL components, max_connections 20: {s['refused']} refused (too many "
              f"clients), {s['unreachable']} unreachable, at most {s['peak_sessions']} "
              f"opscheck sessions at once ({s['line']})")
        results["sqlite"] = q = sqlite_memory(folder)
        print(f"100 SQLite components on a {q['file_mib']:.1f} MiB file: peak {q['peak_mib']:.0f} "
              f"MiB, {q['wall']:.2f} s ({q['line']})")
    OUT.mkdir(parents=True, exist_ok=True)
    (OUT / "peers.json").write_text(json.dumps(results, indent=1))


if __name__ == "__main__":
    main()
