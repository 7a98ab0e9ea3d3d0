"""Container CPU and memory (``docker stats``) on real podman containers under load.

Podman's compatible API (4.3 here) does not fill ``precpu_stats`` (the two samples are taken
by opscheck either way) and gives no page-cache breakdown in ``memory_stats`` (usage is
podman's figure, cache included, and the failure line says so). The cache-subtracting path
that Docker's answer takes is tested on a recorded Engine API payload (tests/data/), named so.
"""

from __future__ import annotations

import copy
import json
from pathlib import Path

import docker  # imported here once, so pytester's in-process runs reuse its classes
import pytest

from opscheck.readings.containers import usage

DATA = Path(__file__).parent / "data"
LOAD = """\
[system]
timeout = 5

[[components]]
name = "wave-docker"
kind = "docker"
base_url = "{base_url}"
containers = ["wave-be-dev", "wave-fe-dev", "wave-redis"]
stats_interval = 1.0
[components.thresholds.memory]
warning = 40
critical = 55
"""


@pytest.fixture
def engine(podman_service):
    image = podman_service.import_tiny_image(binaries=("/bin/sh", "/bin/sleep", "/usr/bin/head"))
    client = docker.DockerClient(base_url=podman_service.base_url, timeout=30)
    yield podman_service, client, image
    client.close()


def start(engine, name: str, command: str, **kwargs) -> None:
    _, client, image = engine
    client.containers.create(image, name=name, network_mode="none",
                             command=["/bin/sh", "-c", command], **kwargs).start()


def run(suite, engine):
    suite.inventory(LOAD.format(base_url=engine[0].base_url))
    return suite.run("-m", "standard", "-k", "container_cpu or container_memory", "-rA",
                     checks=("docker",))


def test_busy_and_full_containers_fail_the_idle_one_passes(suite, engine):
    # a spinning shell allowed a tenth of a CPU (whatever the machine's load, it uses more
    # than 85 % of that); 40 MB written to tmpfs under a 64 MiB limit (about 62 %)
    start(engine, "wave-be-dev", "while :; do :; done", nano_cpus=100_000_000)
    start(engine, "wave-redis", "head -c 40000000 /dev/zero > /dev/shm/fill; sleep 3600",
          mem_limit="64m")
    start(engine, "wave-fe-dev", "sleep 3600")
    result = run(suite, engine)
    result.assert_outcomes(passed=4, failed=2)
    result.stdout.fnmatch_lines_random([
        "wave-docker container wave-be-dev CPU used (* of 0.1 CPUs (--cpus)) *% ≥ critical 85% "
        "(warning 70%). Action: Container busy: *",
        "wave-docker container wave-redis memory used (* MiB of its 64 MiB limit; the engine "
        "gives no page-cache figure (podman), so cache is counted as used) *% ≥ critical 55% "
        "(warning 40%). Action: Container near its memory limit *",
        "PASSED *test_container_cpu[[]wave-docker:wave-fe-dev[]]",
        "PASSED *test_container_memory[[]wave-docker:wave-fe-dev[]]",
    ])


def test_a_stopped_container_is_not_sampled(suite, engine):
    start(engine, "wave-fe-dev", "sleep 3600")
    start(engine, "wave-be-dev", "exit 0")
    result = run(suite, engine)
    result.assert_outcomes(passed=2, skipped=4)
    result.stdout.fnmatch_lines(["SKIPPED * wave-be-dev is not running (test_container_running "
                                 "reports it)"])


def test_recorded_docker_answer_subtracts_the_page_cache():
    """Recorded: Docker's one-shot stats (cgroup v2) of a container with --memory 512m and
    --cpus 2, and the same one second later, 1.5 CPU-seconds on."""
    first = json.loads((DATA / "docker-stats-one-shot.json").read_text())
    second = copy.deepcopy(first)
    second["cpu_stats"]["cpu_usage"]["total_usage"] += 1_500_000_000
    inspect = {"HostConfig": {"NanoCpus": 2_000_000_000, "Memory": 536870912}}
    used = usage(first, second, inspect, seconds=1.0)
    assert (used.cpus, used.allowance, used.cpu_pct) == (1.5, 2.0, 75.0)
    assert used.mem_used == 503316480 - 125829120  # less inactive_file, as docker stats
    assert round(used.mem_pct, 1) == 70.3
    assert used.memory_text() == "360 MiB of its 512 MiB limit"
    no_limit = usage(first, second, {"HostConfig": {"CpuQuota": 50000, "CpuPeriod": 100000}},
                     seconds=1.0)
    assert (no_limit.allowance, no_limit.allowance_source, no_limit.cpu_pct) == \
        (0.5, "CPU quota", 300.0)
    assert no_limit.memory_text() == "360 MiB of the host's 512 MiB (no memory limit set)"
