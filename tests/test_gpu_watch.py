"""The GPU allow-list and sustained VRAM. No GPU here: tests named "recorded" replay values
recorded from nvidia-smi on the Agentic Factory's 24 GB card (``nvidia-smi
--query-gpu=memory.used --format=csv,noheader,nounits``, MiB, once a second, and
``--query-compute-apps=pid,process_name,used_memory``), through the real target code; the
checks themselves run on NVML where a GPU is lent (tests/test_gpu.py)."""

from __future__ import annotations

import time
from types import SimpleNamespace

import pytest

from opscheck.components.gpu import GpuComponent, GpuThresholds
from opscheck.targets.gpu import GIB, GpuProcess, GpuTarget, held, unexpected

#: nvidia-smi memory.used (MiB), one a second: a model swap's spike, then a card held full
SPIKE = [19840, 23912, 20102, 19990, 19876]
FULL = [23688, 23790, 23702, 23851, 23694]
#: nvidia-smi --query-compute-apps on the Factory host, with a stray notebook kernel
APPS = [GpuProcess(1811, "llama-server", 20.5), GpuProcess(1812, "llama-embed", 1.1),
        GpuProcess(2990, "python3", 3.2)]


class RecordedNvml:
    """nvmlDeviceGetMemoryInfo replaying recorded MiB readings, one per call (a stand-in
    for the NVIDIA driver, which this machine does not have)."""

    def __init__(self, mib: list[int]) -> None:
        self.readings = iter(mib)
        self.calls: list[float] = []

    def nvmlDeviceGetHandleByIndex(self, index: int) -> int:
        return index

    def nvmlDeviceGetMemoryInfo(self, handle: int) -> SimpleNamespace:
        self.calls.append(time.monotonic())
        return SimpleNamespace(used=next(self.readings) * 1024**2, total=24564 * 1024**2)


def target(mib: list[int]) -> GpuTarget:
    component = GpuComponent(name="factory-gpu", kind="gpu", memory_window=0.4,
                             memory_samples=len(mib))
    return GpuTarget(component, RecordedNvml(mib))


def test_recorded_spike_is_not_sustained_a_full_card_is():
    sustained = GpuThresholds().memory_sustained
    spike = target(SPIKE)
    samples = spike.memory_window(0, 0.4, len(SPIKE))
    assert round(max(samples), 2) == round(23912 / 1024, 2)  # one reading over 23 GiB ...
    assert sustained.state(held(samples)) == "ok"  # ... is not "sustained"
    full = target(FULL)
    state, line = sustained.describe("factory-gpu GPU0 memory held",
                                     round(held(full.memory_window(0, 0.4, len(FULL))), 2))
    assert state == "critical"
    assert line.startswith("factory-gpu GPU0 memory held 23.13 GiB ≥ critical 23 GiB. Action: "
                           "VRAM held high for the whole window")


def test_recorded_samples_are_spread_over_the_window():
    spread = target(FULL)
    spread.memory_window(0, 0.4, len(FULL))
    calls = spread.nvml.calls
    assert len(calls) == 5
    assert calls[-1] - calls[0] >= 0.35  # spread over the window, not all at once
    assert GIB == 1024**3  # MiB from nvidia-smi / 1024 = the GiB the levels use


def test_allow_list_on_the_recorded_process_list():
    strangers = unexpected(APPS, ["llama"])
    assert [str(p) for p in strangers] == ["python3 (pid 2990, 3.2 GiB)"]
    assert unexpected(APPS, ["LLAMA", "python"]) == []


@pytest.mark.parametrize(("extra", "message"), [
    ('allowed_processes = [""]', "an empty process name matches everything; remove it"),
    ("memory_window = 600", "memory_window: input should be less than or equal to 120"),
    ("memory_samples = 1", "memory_samples: input should be greater than or equal to 2"),
])
def test_bad_watch_settings_are_usage_errors(suite, extra, message):
    suite.inventory(f'[[components]]\nname = "gpu0"\nkind = "gpu"\n{extra}\n')
    result = suite.run("-m", "standard", checks=("gpu",))
    assert result.ret == 4
    assert message in result.stderr.str(), result.stderr.str()
