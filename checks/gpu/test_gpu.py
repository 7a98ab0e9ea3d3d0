"""GPUs through NVML (Agentic Factory runbook: `nvidia-smi` shows the llama process, VRAM)."""

import pytest


@pytest.mark.critical
@pytest.mark.gpu
def test_nvml_answers(gpu_component):
    """NVML answers and sees at least the GPUs the inventory declares."""
    count, declared = gpu_component.count(), gpu_component.component.devices
    if declared is None and count == 0:
        pytest.skip(f"NVML {gpu_component.driver()} sees no GPU; none declared")
    assert count >= (declared or 1), (
        f"{gpu_component}: NVML (driver {gpu_component.driver()}) sees {count} GPU(s), the "
        f"inventory declares {declared}. Action: nvidia-smi; check the driver and the card")


@pytest.mark.critical
@pytest.mark.gpu
@pytest.mark.remediation("restart_service")
def test_expected_process_holds_gpu(gpu_component, gpu_process):
    """The expected process (e.g. llama) holds a GPU (AF: `nvidia-smi` must show llama)."""
    running = gpu_component.all_processes()
    names = ", ".join(str(p) for p in running) or "none"
    assert gpu_component.matching(running, gpu_process), (
        f"{gpu_component}: no GPU process matches {gpu_process!r} (on the GPU: {names}). "
        "Action: sudo systemctl restart llama-inference")


def _each_device(gpu_component, fact, what):
    """(label, value) per device; skipped when no device supports ``fact``."""
    values = [(gpu_component.label(i), fact(i)) for i in range(gpu_component.count())]
    values = [(label, v) for label, v in values if v is not None]
    if not values:
        pytest.skip(f"{gpu_component}: no GPU reports {what}")
    return values


@pytest.mark.standard
@pytest.mark.gpu
def test_gpu_memory_used(gpu_component, measure):
    """VRAM used per device (AF: sustained above 23 GB of 24 GB)."""
    for i in range(gpu_component.count()):
        used, total = gpu_component.memory_used_gib(i)
        measure(f"{gpu_component.label(i)} memory used", round(used, 2),
                gpu_component.thresholds.memory, detail=f"of {total:.1f} GiB")


@pytest.mark.standard
@pytest.mark.gpu
def test_gpu_temperature(gpu_component, measure):
    """Core temperature per device."""
    for label, value in _each_device(gpu_component, gpu_component.temperature, "temperature"):
        measure(f"{label} temperature", value, gpu_component.thresholds.temperature)


@pytest.mark.standard
@pytest.mark.gpu
def test_gpu_ecc_uncorrected(gpu_component, measure):
    """Uncorrected (volatile) ECC errors per device: any means corrupted GPU memory."""
    for label, value in _each_device(gpu_component, gpu_component.ecc_uncorrected,
                                     "ECC counts (ECC off or unsupported)"):
        measure(f"{label} uncorrected ECC errors", value,
                gpu_component.thresholds.ecc_uncorrected)


@pytest.mark.standard
@pytest.mark.gpu
def test_gpu_utilization(gpu_component, measure):
    """GPU busy % per device over NVML's last sample period."""
    for label, value in _each_device(gpu_component, gpu_component.utilization, "utilisation"):
        measure(f"{label} utilisation", value, gpu_component.thresholds.utilization)
