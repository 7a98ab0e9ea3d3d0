"""Container CPU and memory (WAVE: `docker stats --no-stream`, WV:371, 642): each listed
container's share of what it may use, against levels. Sampled once per run, all listed
containers together, over ``stats_interval`` seconds."""

import pytest


def _usage(docker_component, container):
    usage = docker_component.usage(container)
    if usage is None:
        pytest.skip(f"{container} is not running (test_container_running reports it)")
    return usage


@pytest.mark.standard
@pytest.mark.docker
def test_container_cpu(docker_component, container, measure):
    """CPU % of what the container may use (its --cpus or CPU quota, else every CPU)."""
    usage = _usage(docker_component, container)
    value = round(usage.cpu_pct, 1)
    measure(f"container {container} CPU used", value, docker_component.thresholds.cpu,
            detail=usage.cpu_text())


@pytest.mark.standard
@pytest.mark.docker
def test_container_memory(docker_component, container, measure):
    """Memory % of the container's limit (the host's memory when it has none), page cache
    excluded where the engine reports it."""
    usage = _usage(docker_component, container)
    value = round(usage.mem_pct, 1)
    measure(f"container {container} memory used", value, docker_component.thresholds.memory,
            detail=usage.memory_text())
