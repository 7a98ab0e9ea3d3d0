"""The Agentic Factory profile on a stand-in of its host: a real redis-server (the spend
counters), PostgreSQL as TimescaleDB (role factory, factory_analytics), the orchestrator's
SQLite database, nats-server with monitoring, loopback HTTP servers imitating LiteLLM
(/health, /metrics counters that grow, /spend/logs), llama.cpp, Ollama, Qdrant (collections,
team_memory, its snapshots), Neo4j, Grafana (health, the four dashboards) and the outbound
LLM APIs, the file task queue, agent memory files, an agent worktree (real git), the
health-check cron's log, the openclaw/ssh/logrotate/gitleaks commands answering as the
runbook shows, and 30 nightly backup folders made by the real tools (sqlite3 backup API,
pg_dump | gzip, BGSAVE's dump.rdb, cp -r). Healthy, every check passes without a warning;
each row of the Key Metrics table (AF:322-334) the stand-in can drive fails with the
runbook's words.

Not run here: the GPU (VRAM row), the docker engine, systemd units and the journal (the
model-swap row and the other journal signals), and the disk row (this machine's). The
LiteLLM error rate is sampled over 2 s instead of the profile's 15 s, to keep the run short.
"""

from __future__ import annotations

import gzip
import json
import os
import shutil
import subprocess
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
import standin_kit as kit
from backup_data import pg_dump, redis_rdb, set_age, sqlite_backup, sqlite_source
from servers import NatsServer, RedisServer, Route

pytestmark = pytest.mark.skipif(shutil.which("nats-server") is None, reason="needs nats-server")

DASHBOARDS = ["Factory Overview", "LLM Costs", "Agent Performance", "Infrastructure"]
STUBS = {
    "openclaw": 'echo "Gateway: $(cat {state}/gateway 2>/dev/null || echo running)"\n'
                'echo "Agents: kev (online), forge (online)"',
    "ssh": "echo \"Hi adam! You've successfully authenticated, but GitHub does not provide "
           "shell access.\" >&2; exit 1",
    "logrotate": "echo 'reading config file /etc/logrotate.conf' >&2; exit 0",
    "gitleaks": "echo 'no leaks found' >&2; exit 0",
}


class LiteLLM:
    """Counters that grow with time, as a busy proxy's do; the test sets the failure share."""

    def __init__(self) -> None:
        self.start, self.share = time.time(), 0.01
        self.spend = [("claude-sonnet-4", 6.0), ("gemini-flash", 2.0), ("llama-8b", 0.0)]

    def page(self) -> str:
        t = time.time() - self.start
        total = 100 + 50 * t
        return ("# TYPE litellm_proxy_total_requests_metric_total counter\n"
                f"litellm_proxy_total_requests_metric_total {total}\n"
                "# TYPE litellm_proxy_failed_requests_metric_total counter\n"
                f"litellm_proxy_failed_requests_metric_total {self.share * total}\n")

    def logs(self) -> list[dict]:
        now = (datetime.now(UTC) - timedelta(seconds=1)).strftime("%Y-%m-%dT%H:%M:%S")
        return [{"startTime": now, "model": model, "spend": spend} for model, spend in self.spend]


def answer(payload) -> Route:
    return Route(json=payload)


def build_queue(queue: Path) -> None:
    for folder in ("backlog", "ready", "in-progress", "review", "done", "failed", "paused"):
        (queue / folder).mkdir(parents=True, exist_ok=True)
    (queue / "ready" / "task-1.json").write_text(json.dumps({"id": 1, "attempt": 1}))
    (queue / "in-progress" / "task-2.json").write_text(json.dumps({"id": 2, "attempt": 1}))
    (queue / "done" / "task-0.json").write_text(json.dumps({"id": 0, "attempt": 1}))


def build_home(home: Path, redis: RedisServer, postgres) -> None:
    """/home/adam: queue, agent memory, the orchestrator DB, logs, the nightly backups."""
    build_queue(home / "agents" / "shared" / "queue")
    sqlite_source(home / "agents" / "shared" / "orchestrator.db", rows=20)
    for agent in ("kev", "forge"):
        memory = home / ".openclaw" / f"workspace-{agent}" / "memory"
        memory.mkdir(parents=True)
        (memory / f"{datetime.now():%Y-%m-%d}.md").write_text("# today\n")
    (home / "factory" / "logs").mkdir(parents=True)
    (home / "factory" / "logs" / "health.log").write_text("all healthy\n")
    night = home / "backups" / "factory" / f"{datetime.now():%Y-%m-%d}"
    night.mkdir(parents=True)
    sqlite_backup(home / "agents" / "shared" / "orchestrator.db", night / "orchestrator.db")
    dump = pg_dump(postgres, "factory_analytics", night / "timescaledb.sql", "plain")
    with open(dump, "rb") as src, gzip.open(night / "timescaledb.sql.gz", "wb") as dst:
        shutil.copyfileobj(src, dst)
    dump.unlink()
    redis_rdb(redis, night / "redis-dump.rdb", keys=20)
    shutil.copytree(home / ".openclaw" / "workspace-kev" / "memory", night / "agent-memory")
    shutil.copytree(home / "agents" / "shared" / "queue", night / "queue")
    for days in range(1, 30):  # the 29 nights before: the script keeps 30 (AF:589-590)
        earlier = night.parent / f"{datetime.now() - timedelta(days=days):%Y-%m-%d}"
        shutil.copytree(night, earlier)
        for path in [earlier, *earlier.rglob("*")]:
            set_age(path, days * 86400)


def worktree(root: Path) -> Path:
    tree = root / "agent-1"
    tree.mkdir(parents=True)
    subprocess.run(["git", "init", "-q", "-b", "agent-1"], cwd=tree, check=True)
    subprocess.run(["git", "-c", "user.name=t", "-c", "user.email=t@t", "commit", "-q",
                    "--allow-empty", "-m", "work"], cwd=tree, check=True)
    return tree


@pytest.mark.slow
def test_factory_stand_in_healthy_and_each_key_metric(suite, http_server, postgres_server,
                                                      monkeypatch, tmp_path):
    home, state = tmp_path / "home-adam", tmp_path / "state"
    state.mkdir()
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    for name, body in STUBS.items():
        (bin_dir / name).write_text("#!/bin/sh\n" + body.format(state=state) + "\n")
        (bin_dir / name).chmod(0o755)
    monkeypatch.setenv("PATH", f"{bin_dir}{os.pathsep}{os.environ['PATH']}")
    monkeypatch.setenv("FACTORY_GRAFANA_PASSWORD", "admin-pw")

    litellm, servers = LiteLLM(), {}
    for port in ("4000", "8080", "8081", "11434", "6333", "7474", "3001", "3000", "api"):
        servers[port] = http_server()
    servers["4000"].route("/health", json={"healthy_count": 3})
    servers["4000"].metrics(litellm.page)
    servers["4000"].route("/spend/logs", handler=lambda _: answer(litellm.logs()))
    servers["8080"].route("/health", json={"status": "ok"})
    servers["8081"].route("/health", json={"status": "ok"})
    servers["11434"].route("/api/tags", json={"models": [{"name": "llama3:8b"}]})
    snapshots = [{"name": f"team_memory-{n}.snapshot", "creation_time": (
        datetime.now(UTC) - timedelta(days=n, hours=1)).strftime("%Y-%m-%dT%H:%M:%S")}
        for n in range(4)]
    servers["6333"].route("/collections", json={"result": {"collections": [
        {"name": "team_memory"}]}})
    servers["6333"].route("/collections/team_memory", json={"result": {"status": "green"}})
    servers["6333"].route("/collections/team_memory/snapshots",
                          handler=lambda _: answer({"result": snapshots}))
    servers["7474"].route("/", json={"neo4j_version": "5"})
    dashboards = [{"title": t, "type": "dash-db"} for t in DASHBOARDS]
    servers["3001"].route("/api/health", json={"database": "ok"})
    servers["3001"].route("/api/search", handler=lambda _: answer(dashboards))
    servers["3000"].route("/", body="OpenClaw gateway")
    servers["api"].route("/anthropic/", status=404, json={"error": "not found"})
    servers["api"].route("/openai/", status=421, json={"error": "misdirected"})

    redis = RedisServer(tmp_path / "redis").start()
    nats = NatsServer(tmp_path / "nats").start()
    try:
        postgres_server.psql("CREATE ROLE factory LOGIN CREATEDB")
        postgres_server.psql("CREATE DATABASE factory_analytics OWNER factory")
        postgres_server.psql("CREATE TABLE metrics (t timestamptz, v float);"
                             "INSERT INTO metrics VALUES (now(), 1);"
                             "ALTER TABLE metrics OWNER TO factory", db="factory_analytics")
        build_home(home, redis, postgres_server)
        litellm_config = tmp_path / "litellm" / "config.yaml"
        litellm_config.parent.mkdir()
        litellm_config.write_text("model_list: []\n")
        trees = tmp_path / "worktrees"
        worktree(trees)
        client = redis.client()
        client.set("dash:spend:daily:total", "12.5")
        client.set("dash:spend:daily:kev", "4.2")
        client.set("dash:spend:daily:forge", "3.1")
        run_factory(suite, servers, redis, nats, postgres_server, home, litellm_config, trees,
                    state, litellm, client, dashboards, snapshots)
    finally:
        nats.stop()
        redis.stop()


def run_factory(suite, servers, redis, nats, postgres, home, litellm_config, trees, state,
                litellm, client, dashboards, snapshots) -> None:
    urls = {f"http://localhost:{port}": servers[port].url for port in servers if port != "api"}
    data = kit.retarget(kit.profile("agentic-factory"), {
        **urls,
        "https://api.anthropic.com/": f"{servers['api'].url}/anthropic/",
        "https://api.openai.com/": f"{servers['api'].url}/openai/",
        "tcp://3000": f"tcp://127.0.0.1:{servers['3000'].port}",
        "redis://localhost:6379/0": f"redis://127.0.0.1:{redis.port}/0",
        "nats://localhost:4222": nats.url, "http://localhost:8222": nats.monitor_url,
        "postgresql://factory@localhost:5432/factory_analytics":
            f"postgresql://factory@127.0.0.1:{postgres.port}/factory_analytics",
        "/home/adam": str(home), "/etc/litellm/config.yaml": str(litellm_config),
        "/tmp/worktrees": str(trees)})
    data = kit.drop(data, "factory-gpu", "factory-docker")
    host = kit.component(data, "factory-host")
    del host["units"], host["logs"]  # no systemd, no journal here
    kit.component(data, "litellm-metrics")["metrics"][0]["interval"] = 2
    kit.write(suite, data)

    seen = kit.assert_healthy(kit.run(suite, *kit.WARNINGS_FAIL))
    for check in ("test_backup_member_restores[factory-backup:timescaledb.sql.gz]",
                  "test_backup_member_restores[factory-backup:orchestrator.db]",
                  "test_http_metric[litellm-metrics:error-rate]",
                  "test_redis_key_scan[factory-redis:spend-per-agent]",
                  "test_git_on_branch[factory-files:" + str(trees) + "/*]",
                  "test_enough_backups_kept[factory-backup]"):
        assert seen.get(check) == "PASSED", (check, seen.get(check))

    # Daily LLM spend: target < $30 (AF:326, 637): above it warns
    client.set("dash:spend:daily:total", "35")
    snapshots.pop(0)                                # "4 snapshots" kept (AF:544): fewer warns
    result = kit.run(suite, *kit.WARNINGS_FAIL, k="spend-daily-total or snapshots-kept")
    kit.assert_reports(result, "test_probe[factory-redis:spend-daily-total]",
                       "Spend too high (AF:659-690)", "warning 30 USD")
    kit.assert_reports(result, "test_http_json_value[qdrant-snapshots:snapshots-kept]",
                       "Keep 4 Qdrant snapshots")

    queue = home / "agents" / "shared" / "queue"
    client.set("dash:spend:daily:total", "120")     # > $50/day (AF:326), runaway > $100 (AF:783)
    client.set("dash:spend:daily:scout", "12")      # any single agent > $10/day (AF:663)
    litellm.spend.append(("claude-opus-4", 60.0))
    for n in range(51):                             # > 50 tasks waiting (AF:328)
        (queue / "ready" / f"wait-{n}.json").write_text(json.dumps({"id": n, "attempt": 1}))
    for n in range(11):                             # failed (24h) > 10, dead letter (AF:329-330)
        (queue / "failed" / f"dead-{n}.json").write_text(json.dumps({"id": n, "attempt": 1}))
    set_age(queue / "in-progress" / "task-2.json", 3 * 3600)   # stuck > 2 h (AF:314-315)
    (queue / "in-progress" / "task-3.json").write_text(json.dumps({"id": 3, "attempt": 4}))
    litellm.share = 0.10                            # LiteLLM error rate > 5 % (AF:333)
    (state / "gateway").write_text("stopped")
    set_age(home / "factory" / "logs" / "health.log", 3600)
    dashboards.pop()
    for snapshot in snapshots:                      # none taken in the last night (AF:579)
        snapshot["creation_time"] = (datetime.now(UTC) - timedelta(hours=30)).strftime(
            "%Y-%m-%dT%H:%M:%S")
    (home / "backups" / "factory" / f"{datetime.now():%Y-%m-%d}" / "redis-dump.rdb").unlink()
    result = kit.run(suite)
    for check, words in {
        "test_probe[factory-redis:spend-daily-total]": "Spend too high (AF:659-690)",
        "test_probe[factory-redis:spend-runaway]": "IMMEDIATELY pause all agent work",
        "test_redis_key_scan[factory-redis:spend-per-agent]": "Runaway agent (AF:663)",
        "test_http_json_value[litellm-spend:spend-today]": "critical 50 USD",
        "test_http_json_value[litellm-spend:frontier-spend-today]": "Frontier spend high",
        "test_ready_depth[task-queue]": "Queue backing up (AF:328)",
        "test_failed_last_24h[task-queue]": "Many failures (AF:329)",
        "test_dead_letter_empty[task-queue]": "Dead-lettered tasks need a human",
        "test_no_stuck_in_progress[task-queue]": "Stuck tasks",
        "test_no_retry_loops[task-queue]": "Retry loop (AF:668-671",
        "test_http_metric[litellm-metrics:error-rate]": "LLM API errors (AF:389-404)",
        "test_command_answers[factory-host:gateway-running]": "Factory down (AF:406-424)",
        "test_file_limit[factory-files:health.log:age]": "Health-check cron stopped",
        "test_http_json_value[grafana-dashboards:infrastructure]": "Dashboard missing (AF:344)",
        "test_http_json_value[qdrant-snapshots:newest-snapshot-age]": "No fresh Qdrant snapshot",
        "test_backup_member_present[factory-backup:redis-dump.rdb]": "redis-dump.rdb",
    }.items():
        kit.assert_reports(result, check, words)
