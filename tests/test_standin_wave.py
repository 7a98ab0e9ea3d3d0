"""The WAVE profile on a stand-in of its stack: a loopback HTTP server imitating the
orchestrator's API (/health, /metrics with the runbook's series, /docs refusing without a
key, /api/checkpoints), Grafana's API (datasources, the four dashboards) and Dozzle, a real
Prometheus scraping the orchestrator, a real redis-server with a password, a real PostgreSQL
(role and database wave, table stories), the checkout's files and scripts, the project's
emergency-stop and checkpoint folder, and the weekly backups made by pg_dump and BGSAVE.
Healthy, every check passes without a warning; each row of the alert table (WV:163-171)
that the stand-in can drive fails, or warns, with the runbook's words.

Not run here: the docker component and `docker exec` (no docker engine on these machines;
podman creates but cannot start containers), and the CPU, memory and disk rows, which
measure this machine.
"""

from __future__ import annotations

import json
import shutil
import subprocess
import time
import urllib.parse
import urllib.request
from datetime import UTC, datetime
from pathlib import Path

import pytest
import standin_kit as kit
from backup_data import pg_dump, redis_rdb, set_age
from servers import RedisServer, Route

pytestmark = pytest.mark.skipif(shutil.which("prometheus") is None, reason="needs prometheus")

REDIS_PASSWORD = "standin-redis-secret"
DASHBOARDS = ["WAVE Overview", "Agent Performance", "Cost Tracking", "Error Rates"]


class Orchestrator:
    """The numbers the imitated orchestrator answers; the test turns them."""

    def __init__(self) -> None:
        self.cost, self.stories, self.errors = 14.0, 40, 0
        self.checkpoints = {"fe-dev": 600, "be-dev": 900, "qa-dev": 300}  # seconds ago
        self.dashboards = list(DASHBOARDS)

    def page(self) -> str:
        return (f"# TYPE wave_cost_total_usd counter\nwave_cost_total_usd {self.cost}\n"
                f"# TYPE wave_stories_completed_total counter\n"
                f"wave_stories_completed_total {self.stories}\n"
                f"# TYPE wave_errors_total counter\nwave_errors_total {self.errors}\n"
                f"# TYPE wave_agent_utilization_percent gauge\n"
                f"wave_agent_utilization_percent 42\n")

    def checkpoint_list(self) -> dict:
        now = time.time()
        return {"checkpoints": [
            {"agent": agent, "created_at": datetime.fromtimestamp(now - ago, UTC).isoformat()}
            for agent, ago in self.checkpoints.items()]}


def wait_for(prometheus_url: str, expr: str, want: float) -> None:
    """Until Prometheus has scraped the page the test just turned (a readiness wait)."""
    url = f"{prometheus_url}/api/v1/query?query={urllib.parse.quote(expr)}"
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        with urllib.request.urlopen(url, timeout=5) as answer:
            result = json.load(answer)["data"]["result"]
        if result and abs(float(result[0]["value"][1]) - want) < 1e-6:
            return
        time.sleep(0.2)
    raise TimeoutError(f"Prometheus never read {expr} = {want}")


def build_checkout(root: Path, project: Path) -> None:
    (root / "config").mkdir()
    (root / "orchestrator" / "config").mkdir(parents=True)
    (root / "scripts").mkdir()
    (root / "docker-compose.prod.yml").write_text("services:\n  orchestrator:\n    image: wave\n")
    (root / "config" / "prometheus.yml").write_text("scrape_configs: []\n")
    (root / "config" / "redis.conf").write_text("appendonly no\n")
    (root / "orchestrator" / "config" / "agents.yaml").write_text("agents: [fe-dev]\n")
    (root / ".env.production").write_text(
        f"ANTHROPIC_API_KEY=sk-standin\nPOSTGRES_PASSWORD=pg\nREDIS_PASSWORD={REDIS_PASSWORD}\n")
    for script in ("health-check.sh", "smoke-test.sh"):
        path = root / "scripts" / script
        path.write_text("#!/bin/sh\nexit \"$(cat scripts/.exit 2>/dev/null || echo 0)\"\n")
        path.chmod(0o755)
    subprocess.run(["git", "init", "-q"], cwd=root, check=True)
    subprocess.run(["git", "-c", "user.name=t", "-c", "user.email=t@t", "commit", "-q",
                    "--allow-empty", "-m", "wave"], cwd=root, check=True)
    checkpoints = project / ".claude" / "checkpoints"
    checkpoints.mkdir(parents=True)
    (checkpoints / "checkpoint-1.json").write_text("{}")


@pytest.mark.slow
def test_wave_stand_in_healthy_and_each_alert_row(suite, http_server, prometheus_server,
                                                  postgres_server, monkeypatch, tmp_path):
    state = Orchestrator()
    orchestrator = http_server()
    orchestrator.route("/health", json={"status": "healthy"})
    orchestrator.metrics(state.page)
    orchestrator.route("/docs", status=401, json={"detail": "API key required"})
    orchestrator.route("/api/checkpoints", handler=lambda _: kit_route(state.checkpoint_list()))
    grafana = http_server()
    grafana.route("/api/datasources", json=[{"name": "Prometheus", "type": "prometheus"}])
    grafana.route("/api/search", handler=lambda _: kit_route(
        [{"title": t, "type": "dash-db"} for t in state.dashboards]))
    dozzle = http_server()
    dozzle.route("/", body="<html>Dozzle</html>")
    prometheus = prometheus_server(scrape_targets=[f"127.0.0.1:{orchestrator.port}"])

    redis = RedisServer(tmp_path / "redis", password=REDIS_PASSWORD).start()
    try:
        run_stack(suite, monkeypatch, tmp_path, state, orchestrator, grafana, dozzle,
                  prometheus, redis, postgres_server)
    finally:
        redis.stop()


def kit_route(payload) -> Route:
    return Route(json=payload)


def run_stack(suite, monkeypatch, tmp_path, state, orchestrator, grafana, dozzle, prometheus,
              redis, postgres) -> None:
    root = suite.path
    project = tmp_path / "project"
    build_checkout(root, project)
    postgres.psql("CREATE ROLE wave LOGIN PASSWORD 'pg' CREATEDB")
    postgres.psql("CREATE DATABASE wave OWNER wave")
    postgres.psql("CREATE TABLE stories (id int PRIMARY KEY, title text);"
                  "INSERT INTO stories SELECT g, 'story ' || g FROM generate_series(1, 40) g;"
                  "ALTER TABLE stories OWNER TO wave", db="wave")
    backups = tmp_path / "backups"
    (backups / "postgres").mkdir(parents=True)
    (backups / "redis").mkdir()
    dump = pg_dump(postgres, "wave", backups / "postgres" / f"backup-{datetime.now():%Y%m%d}.sql",
                   "plain")
    redis_rdb(redis, backups / "redis" / "dump.rdb")
    for name, value in {"PROJECT_PATH": str(project), "REDIS_PASSWORD": REDIS_PASSWORD,
                        "POSTGRES_PASSWORD": "pg", "GRAFANA_PASSWORD": "admin-pw",
                        "WAVE_API_KEY": "standin-key"}.items():
        monkeypatch.setenv(name, value)
    data = kit.retarget(kit.profile("wave"), {
        "http://localhost:8000": orchestrator.url, "http://localhost:3000": grafana.url,
        "http://localhost:9080": dozzle.url, "http://localhost:9090": prometheus.url,
        "redis://localhost:6379/0": f"redis://127.0.0.1:{redis.port}/0",
        "postgresql://wave@localhost:5432/wave": f"postgresql://wave@127.0.0.1:{postgres.port}/wave",
        "tcp://8000": f"tcp://127.0.0.1:{orchestrator.port}", "tcp://3000": f"tcp://127.0.0.1:{grafana.port}",
        "tcp://9080": f"tcp://127.0.0.1:{dozzle.port}", "tcp://9090": f"tcp://127.0.0.1:{prometheus.port}",
        "tcp://6379": f"tcp://127.0.0.1:{redis.port}", "tcp://5432": f"tcp://127.0.0.1:{postgres.port}",
        "/backups/": f"{backups}/"})
    data = kit.drop(data, "wave-docker")
    host = kit.component(data, "wave-host")
    host["commands"] = [c for c in host["commands"] if c["name"] != "dozzle-docker-socket"]
    kit.write(suite, data)
    wait_for(prometheus.url, "wave_stories_completed_total", 40)

    # day one: no agent has made a checkpoint yet (an empty list, an empty folder just made)
    made, folder = dict(state.checkpoints), project / ".claude" / "checkpoints"
    state.checkpoints.clear()
    (folder / "checkpoint-1.json").rename(tmp_path / "checkpoint-1.json")
    seen = kit.assert_healthy(kit.run(suite, *kit.WARNINGS_FAIL,
                                      k="agent-progress or newest_checkpoint"))
    assert list(seen.values()) == ["PASSED", "PASSED"], seen
    state.checkpoints.update(made)
    (tmp_path / "checkpoint-1.json").rename(folder / "checkpoint-1.json")

    seen = kit.assert_healthy(kit.run(suite, *kit.WARNINGS_FAIL))
    for check in ("test_backup_restores[wave-postgres-backup]",
                  "test_http_metric[wave-orchestrator-metrics:error-rate]",
                  "test_promql_probe[wave-prometheus:cost-per-story]",
                  "test_http_json_value[wave-orchestrator-checkpoints:agent-progress]",
                  "test_redis_refuses_strangers[wave-redis]"):
        assert seen.get(check) == "PASSED", (check, seen.get(check))

    # warning levels: error rate 1-5 % (WV:169), cost per story $0.80-1.00 (WV:170), an agent
    # without progress for over an hour (WV:171)
    state.errors, state.cost = 1, 34.0            # 1 of 41 outcomes; $0.85 a story
    state.checkpoints["be-dev"] = 90 * 60
    wait_for(prometheus.url, "wave_cost_total_usd", 34.0)
    result = kit.run(suite, *kit.WARNINGS_FAIL, k="wave-orchestrator or wave-prometheus")
    kit.assert_reports(result, "test_http_metric[wave-orchestrator-metrics:error-rate]",
                       "Check logs, escalate (WV:169)", "warning 1%")
    kit.assert_reports(result, "test_promql_probe[wave-prometheus:cost-per-story]",
                       "Review token usage (WV:170)", "warning 0.8")
    kit.assert_reports(result, "test_http_json_value[wave-orchestrator-checkpoints:agent-progress]",
                       "Agent timeout (WV:171", "be-dev")

    # critical levels, and the stack's other failures
    state.errors, state.cost = 5, 48.0            # 5 of 45 outcomes (11 %); $1.20 a story
    state.checkpoints["qa-dev"] = 3 * 3600
    state.dashboards.remove("Cost Tracking")
    wait_for(prometheus.url, "wave_cost_total_usd", 48.0)
    (project / ".claude" / "EMERGENCY-STOP").write_text("STOP")
    (root / ".env.production").write_text("ANTHROPIC_API_KEY=\nPOSTGRES_PASSWORD=pg\n"
                                          f"REDIS_PASSWORD={REDIS_PASSWORD}\n")
    (root / "scripts" / ".exit").write_text("1")
    set_age(dump, 8 * 86400)
    redis.stop()
    result = kit.run(suite)
    kit.assert_reports(result, "test_http_metric[wave-orchestrator-metrics:error-rate]",
                       "critical 5%")
    kit.assert_reports(result, "test_promql_probe[wave-prometheus:cost-per-story]",
                       "critical 1 USD")
    kit.assert_reports(result, "test_http_json_value[wave-orchestrator-checkpoints:agent-progress]",
                       "qa-dev", "critical 2 h")
    kit.assert_reports(result, "test_http_json_value[wave-grafana-dashboards:cost-tracking]",
                       "Dashboard missing (WV:120)")
    kit.assert_reports(result, "test_emergency_stop_absent[wave-files]", "system halted")
    kit.assert_reports(result, "test_file_key[wave-files:.env.production:ANTHROPIC_API_KEY:"
                       "not-empty]", "Set ANTHROPIC_API_KEY in .env.production")
    kit.assert_reports(result, "test_command_answers[wave-host:health-check-script]",
                       "Recovery not complete (WV:440-455)")
    kit.assert_reports(result, "test_newest_backup_is_fresh[wave-postgres-backup]",
                       "wave-postgres-backup")
    kit.assert_reports(result, "test_redis_answers_ping[wave-redis]", "wave-redis")
