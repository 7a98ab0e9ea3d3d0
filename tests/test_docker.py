"""Docker checks against podman's Docker Engine API (real containers, run with runc).

Reachability, listing, running, created-not-started, health (probes run by
``podman healthcheck run``), restart counts (a real on-failure crash loop) and exited
containers are all exercised on a real podman service. Podman's compat API does not report
json-file log options, so the passing log-rotation path is tested on a documented
Engine API inspect payload (tests/data/), named so.
"""

from __future__ import annotations

import json
import socket
import time
from pathlib import Path

import docker  # imported here once, so pytester's in-process runs reuse its classes
import pytest

from opscheck.components.docker import DockerComponent
from opscheck.targets.docker import ContainerState, rotation_problems

DATA = Path(__file__).parent / "data"
HOUR_NS = 3600 * 10**9


def inventory(base_url: str, extra: str = "") -> str:
    return f"""\
[system]
timeout = 5

[[components]]
name = "wave-docker"
kind = "docker"
base_url = "{base_url}"
containers = ["wave-redis"]
compose_project = "wave"
{extra}
"""


@pytest.fixture
def engine(podman_service):
    """A podman service, a tiny offline image and a docker SDK client on it."""
    image = podman_service.import_tiny_image()
    client = docker.DockerClient(base_url=podman_service.base_url, timeout=30)
    yield podman_service, client, image
    client.close()


def create(engine, name="wave-redis", start=True, health=None, **kwargs):
    _, client, image = engine
    kwargs.setdefault("labels", {"com.docker.compose.project": "wave"})
    if health is not None:
        kwargs["healthcheck"] = {"test": ["CMD-SHELL", health], "interval": HOUR_NS,
                                 "retries": 1}
    container = client.containers.create(image, name=name, network_mode="none", **kwargs)
    if start:
        container.start()
    return container


def inspect_when(engine, name, settled, timeout=20.0):
    """Poll the container until `settled(attrs)`; podman answers 500 ("read /proc/N/cgroup: no
    such process") when a restarting container's process goes between its two reads: ask again."""
    deadline = time.monotonic() + timeout
    while True:
        try:
            attrs = engine[1].api.inspect_container(name)
        except docker.errors.APIError as error:
            if error.status_code != 500:
                raise
        else:
            if settled(attrs):
                return attrs
        assert time.monotonic() < deadline, f"{name} did not settle within {timeout} s"
        time.sleep(0.05)


def wait_exited(engine, name, timeout=10.0):
    inspect_when(engine, name, lambda attrs: attrs["State"]["Status"] == "exited", timeout)


def run(suite, *args):
    return suite.run("-m", "critical or standard", *args, checks=("docker",))


def test_running_healthy_container_passes_on_podman(suite, engine):
    create(engine, health="exit 0")
    engine[0].podman("healthcheck", "run", "wave-redis")
    suite.inventory(inventory(engine[0].base_url))
    result = run(suite, "-k", "not log_rotation")
    result.assert_outcomes(passed=7)  # with its CPU and memory (tests/test_container_stats.py)


def test_engine_down_fails_once_then_could_not_run(suite, tmp_path):
    suite.inventory(inventory(f"unix://{tmp_path}/nothing-listens.sock"))
    result = run(suite)
    result.assert_outcomes(failed=1, errors=7)
    result.stdout.fnmatch_lines([
        "*wave-docker unreachable at unix://*/nothing-listens.sock: ConnectionError: "
        "No such file or directory"])


def test_engine_that_never_answers_fails_within_its_timeout(suite, tmp_path):
    path = tmp_path / "silent.sock"
    with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as silent:
        silent.bind(str(path))
        silent.listen(8)  # accepts into the backlog, never answers
        suite.inventory(inventory(f"unix://{path}").replace("timeout = 5", "timeout = 0.5"))
        result = run(suite, "-m", "critical")
    result.assert_outcomes(failed=1, errors=2)
    result.stdout.fnmatch_lines(["*wave-docker unreachable at unix://*silent.sock: "
                                 "TimeoutError: no complete answer within the timeout of 0.5 s"])


def test_created_not_started_container_fails_running(suite, engine):
    create(engine, start=False, health="exit 0")
    suite.inventory(inventory(engine[0].base_url))
    result = run(suite, "-m", "critical")
    result.assert_outcomes(passed=1, failed=1, skipped=1)
    result.stdout.fnmatch_lines([
        "*wave-docker: container wave-redis is created (never started), expected running.*"])


def test_missing_container_fails_running(suite, engine):
    suite.inventory(inventory(engine[0].base_url))
    result = run(suite, "-m", "critical")
    result.assert_outcomes(passed=1, failed=1, skipped=1)
    result.stdout.fnmatch_lines(["*container wave-redis does not exist*"])


def test_unhealthy_container_fails_health_with_the_probe_output(suite, engine):
    create(engine, health="echo redis says no; exit 1")
    engine[0].podman("healthcheck", "run", "wave-redis", check=False)
    suite.inventory(inventory(engine[0].base_url))
    result = run(suite, "-k", "healthy")
    result.assert_outcomes(failed=1)
    result.stdout.fnmatch_lines([
        "*container wave-redis health is unhealthy (1 failed probes in a row; last probe said "
        "'redis says no'), expected healthy*"])


def test_crash_loop_fails_restart_count_and_exited_stack(suite, engine):
    service = engine[0]
    create(engine, command=["/bin/sh", "-c", "exit 3"],
           restart_policy={"Name": "on-failure", "MaximumRetryCount": 5})
    inspect_when(engine, "wave-redis",  # podman restarts it at once, five times, then gives up
                 lambda attrs: attrs["RestartCount"] >= 5 and attrs["State"]["Status"] == "exited")
    suite.inventory(inventory(service.base_url))
    result = run(suite, "-k", "restart_count or exited or running")
    result.assert_outcomes(failed=3)
    result.stdout.fnmatch_lines([
        "*container wave-redis is exited (exit code 3, finished *), expected running*",
        "*wave-docker container wave-redis restarts 5 restarts ≥ critical 5 restarts "
        "(warning 1 restarts). Action: Crash loop*",
        "*1 container(s) of wave exited: wave-redis (Exited (3) *)*"])


def test_exited_check_ignores_other_projects(suite, engine):
    create(engine, name="other", command=["/bin/sh", "-c", "exit 1"], labels={})
    create(engine, name="wave-redis")
    wait_exited(engine, "other")
    suite.inventory(inventory(engine[0].base_url))
    run(suite, "-k", "exited").assert_outcomes(passed=1)


def test_log_rotation_unset_on_podman_fails(suite, engine):
    create(engine)
    suite.inventory(inventory(engine[0].base_url))
    result = run(suite, "-k", "log_rotation")
    result.assert_outcomes(failed=1)
    result.stdout.fnmatch_lines(["*container wave-redis log rotation not as the runbook sets it:"
                                 " max-size unset (expected 10m); max-file unset (expected 3)*"])


def documented(name: str) -> ContainerState:
    return ContainerState.from_inspect(json.loads((DATA / name).read_text()))


def test_log_rotation_on_documented_inspect_payload():
    component = DockerComponent(name="wave-docker")
    state = documented("docker-inspect-running-healthy.json")
    assert (state.name, state.running, state.health, state.restart_count) == (
        "wave-redis", True, "healthy", 0)
    assert rotation_problems(state, component) == []
    bigger = DockerComponent(name="d", log_max_size="1m", log_max_file=2, log_driver="local")
    assert rotation_problems(state, bigger) == [
        "driver json-file (expected local)", "max-size 10m (expected at most 1m)",
        "max-file 3 (expected at most 2)"]


def test_exited_unhealthy_documented_inspect_payload_is_read_as_such():
    state = documented("docker-inspect-exited-unhealthy.json")
    assert (state.status, state.running, state.exit_code, state.restart_count) == (
        "exited", False, 137, 12)
    assert (state.health, state.failing_streak) == ("unhealthy", 3)
    assert state.health_output == "Could not connect to redis at 127.0.0.1:6379"
    assert state.describe().startswith("exited (exit code 137, finished 2026-")


@pytest.mark.parametrize(("extra", "message"), [
    ('base_url = "/var/run/docker.sock"', "base_url '/var/run/docker.sock' must start with"),
    ('log_max_size = "ten"', "log_max_size 'ten' is not a docker size"),
])
def test_bad_docker_inventory_is_a_usage_error(suite, extra, message):
    text = inventory("unix:///x.sock").replace('base_url = "unix:///x.sock"\n', "")
    suite.inventory(text + extra + "\n")
    result = run(suite)
    assert result.ret == 4
    assert message in result.stderr.str()


def test_exited_check_without_project_covers_the_listed_containers(suite, engine):
    create(engine, name="wave-redis", command=["/bin/sh", "-c", "exit 2"], labels={})
    create(engine, name="unrelated", command=["/bin/sh", "-c", "exit 1"], labels={})
    suite.inventory(inventory(engine[0].base_url).replace('compose_project = "wave"\n', ""))
    wait_exited(engine, "wave-redis")
    result = run(suite, "-k", "exited")
    result.assert_outcomes(failed=1)
    result.stdout.fnmatch_lines(["*1 container(s) of the listed containers exited: "
                                 "wave-redis (Exited (2) *)*"])


def test_empty_log_max_size_leaves_max_size_unchecked_on_documented_inspect_payload():
    state = documented("docker-inspect-running-healthy.json")
    unchecked = DockerComponent(name="d", log_max_size="", log_max_file=2)
    assert unchecked.log_max_size is None
    assert rotation_problems(state, unchecked) == ["max-file 3 (expected at most 2)"]


def test_log_rotation_false_leaves_the_rotation_check_out(suite, tmp_path):
    """A stack whose runbook sets no log rotation (the Agentic Factory's) says so with
    ``log_rotation = false``: the check skips with that reason, before any engine is asked
    (the engine here does not exist); without it the check runs (and cannot, here)."""
    missing = f"unix://{tmp_path}/no-engine.sock"
    suite.inventory(inventory(missing, "log_rotation = false"))
    result = suite.run("-rs", "-k", "log_rotation", checks=("docker",))
    result.assert_outcomes(skipped=1)
    result.stdout.fnmatch_lines(["*wave-docker sets log_rotation = false*"])
    suite.inventory(inventory(missing))
    result = suite.run("-k", "log_rotation", checks=("docker",))
    assert result.parseoutcomes().get("skipped", 0) == 0, result.stdout.str()
