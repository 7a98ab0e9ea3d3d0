"""Docker engine and the stack's containers (WAVE: `docker compose ps`; Factory: `docker ps`)."""

import pytest


@pytest.mark.critical
@pytest.mark.docker
def test_engine_answers(docker_component):
    """The engine answers /_ping (a dead engine fails here, in one line, once)."""
    assert docker_component.ping(), f"{docker_component} did not answer /_ping"


@pytest.mark.critical
@pytest.mark.docker
def test_container_running(docker_component, container):
    """Every container the inventory names exists and is running."""
    state = docker_component.container(container)
    assert state is not None, (
        f"{docker_component}: container {container} does not exist. "
        "Action: docker compose up -d")
    assert state.running, (
        f"{docker_component}: container {container} is {state.describe()}, expected running. "
        f"Action: docker logs {container}; docker compose up -d")


@pytest.mark.critical
@pytest.mark.docker
def test_container_healthy(docker_component, container):
    """A container with a healthcheck reports healthy (compose ps: "Up (healthy)")."""
    state = docker_component.container(container)
    if state is None or not state.running:
        pytest.skip(f"{container} is not running (test_container_running reports it)")
    if state.health is None:
        pytest.skip(f"{container} has no healthcheck")
    last = f"; last probe said {state.health_output!r}" if state.health_output else ""
    assert state.health == "healthy", (
        f"{docker_component}: container {container} health is {state.health} "
        f"({state.failing_streak} failed probes in a row{last}), expected healthy. "
        f"Action: docker inspect {container} --format '{{{{json .State.Health}}}}'")


@pytest.mark.standard
@pytest.mark.docker
def test_restart_count(docker_component, container, measure):
    """Restarts since the container was created: a crash loop climbs here."""
    state = docker_component.container(container)
    if state is None:
        pytest.skip(f"{container} does not exist (test_container_running reports it)")
    measure(f"container {container} restarts", state.restart_count,
            docker_component.thresholds.restarts)


@pytest.mark.standard
@pytest.mark.docker
@pytest.mark.applies(lambda c: c.log_rotation, "sets log_rotation = false")
def test_log_rotation(docker_component, container):
    """Logs rotate as the WAVE runbook sets them: json-file, max-size 10m, max-file 3."""
    state = docker_component.container(container)
    if state is None:
        pytest.skip(f"{container} does not exist (test_container_running reports it)")
    problems = docker_component.rotation_problems(state)
    assert not problems, (
        f"{docker_component}: container {container} log rotation not as the runbook sets it: "
        f"{'; '.join(problems)}. Action: set logging options in the compose file and recreate")


@pytest.mark.standard
@pytest.mark.docker
@pytest.mark.applies(lambda c: c.compose_project or c.containers,
                     "lists no compose_project or containers")
def test_stack_has_no_exited_containers(docker_component):
    """No container of the compose project (or of the inventory's list) has exited."""
    component = docker_component.component
    stack = component.compose_project or "the listed containers"
    exited = [c for c in docker_component.listed() if c.state in ("exited", "dead")]
    assert not exited, (
        f"{docker_component}: {len(exited)} container(s) of {stack} exited: "
        + ", ".join(f"{c.name} ({c.status})" for c in exited)
        + ". Action: docker logs <name>; docker compose up -d")
