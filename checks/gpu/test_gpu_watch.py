"""GPUs watched beyond one reading (Agentic Factory runbook §5.1, §6.1): only the allowed
processes hold a GPU, and VRAM held high over a window ("Sustained > 23GB (of 24GB)"),
sampled from NVML itself, without a Prometheus."""

import pytest

from opscheck.targets.gpu import held, unexpected


@pytest.mark.standard
@pytest.mark.gpu
@pytest.mark.applies(lambda c: c.allowed_processes, "sets no allowed_processes")
def test_gpu_processes_allowed(gpu_component):
    """Every process holding a GPU is on the allow-list (AF: a non-llama process is killed);
    the others are listed with their pid and memory."""
    allowed = gpu_component.component.allowed_processes
    strangers = unexpected(gpu_component.all_processes(), allowed)
    assert not strangers, (
        f"{gpu_component}: {len(strangers)} process(es) on the GPU not in allowed_processes "
        f"({', '.join(allowed)}): {', '.join(str(p) for p in strangers)}. Action: check what "
        "it is (nvidia-smi); stop it by hand if it is not the inference server")


@pytest.mark.standard
@pytest.mark.gpu
@pytest.mark.applies(lambda c: c.memory_window, "sets no memory_window")
def test_gpu_memory_sustained(gpu_component, measure):
    """VRAM used per device over memory_window seconds: the least of memory_samples readings
    (a level held the whole window), against thresholds.memory_sustained."""
    c = gpu_component.component
    for i in range(gpu_component.count()):
        label = gpu_component.label(i)
        samples = gpu_component.memory_window(i, c.memory_window, c.memory_samples)
        value = round(held(samples, gpu_component.thresholds.memory_sustained.direction), 2)
        readings = ", ".join(f"{s:.2f}" for s in samples)
        measure(f"{label} memory held", value, gpu_component.thresholds.memory_sustained,
                detail=f"over {c.memory_window:g} s: {readings} GiB")
