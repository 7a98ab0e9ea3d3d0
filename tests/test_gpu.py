"""GPU checks. NVML is absent on this machine: the absent paths run for real here.

On a machine with an NVIDIA driver the absent-path tests skip and
``test_checks_pass_on_this_machines_real_gpu`` runs the checks on the real GPUs instead
(or run ``pytest checks/gpu --inventory tests/data/gpu.toml`` from the repository root).
Tests named "recorded" hold thresholds and name matching against recorded nvidia-smi
numbers, not against NVML.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from opscheck.components.gpu import GpuThresholds
from opscheck.targets.gpu import GpuProcess, matching

REPO = Path(__file__).resolve().parents[1]
INVENTORY = """\
[[components]]
name = "gpu0"
kind = "gpu"
processes = ["llama"]
"""
CHECKS = 8  # nvml, process (one per listed process), memory, temperature, ECC, utilisation,
# processes allowed, memory sustained (checks/gpu/test_gpu_watch.py)


def nvml_error() -> str | None:
    """Why NVML cannot start here, or None when it can (a GPU machine)."""
    import pynvml

    try:
        pynvml.nvmlInit()
    except pynvml.NVMLError as exc:
        return str(exc)
    pynvml.nvmlShutdown()
    return None


@pytest.fixture
def no_nvml() -> str:
    reason = nvml_error()
    if reason is None:
        pytest.skip("NVML is present on this machine: the NVML-absent path cannot be shown")
    return reason


def run(suite, *args):
    return suite.run("-m", "critical or standard", *args, checks=("gpu",))


def test_nvml_absent_and_no_gpu_declared_skips_every_check(suite, no_nvml):
    suite.inventory(INVENTORY)
    result = run(suite)
    result.assert_outcomes(skipped=CHECKS)
    result.stdout.fnmatch_lines([f"SKIPPED*NVML not available ({no_nvml}); no GPU declared*"])


def test_nvml_absent_with_gpu_declared_fails_then_could_not_run(suite, no_nvml):
    suite.inventory(INVENTORY + "devices = 1\n")
    result = run(suite)
    # the allow-list and the sustained window are not configured here: they do not apply
    result.assert_outcomes(failed=1, errors=CHECKS - 3, skipped=2)
    result.stdout.fnmatch_lines([  # errors are reported before failures
        "*could not run: gpu0 unreachable (NvmlUnavailable: *",
        f"*gpu0 unreachable at NVML (local driver): NvmlUnavailable: NVML not available "
        f"({no_nvml}) but the inventory declares 1 GPU(s)*"])


def test_checks_pass_on_this_machines_real_gpu(suite):
    if nvml_error() is not None:
        pytest.skip("NVML not available on this machine (no NVIDIA driver): no real GPU here")
    suite.inventory((REPO / "tests" / "data" / "gpu.toml").read_text())
    result = run(suite)
    outcomes = result.parseoutcomes()
    assert outcomes.get("failed", 0) == 0 and outcomes.get("errors", 0) == 0, result.stdout.str()
    assert outcomes.get("passed", 0) >= 2


def test_memory_threshold_on_recorded_nvidia_smi_numbers():
    """Recorded: nvidia-smi memory.used MiB on a 24 GB card, held to the Factory runbook."""
    memory = GpuThresholds().memory
    assert memory.state(20480 / 1024) == "ok"
    state, line = memory.describe("gpu0 GPU0 memory used", 23800 / 1024)
    assert state == "critical"
    assert line.startswith("gpu0 GPU0 memory used 23.242 GiB ≥ critical 23 GiB. Action: VRAM")


def test_process_matching_on_recorded_process_list():
    """Recorded: the processes nvidia-smi listed on the Factory host."""
    procs = [GpuProcess(1811, "llama-server", 20.5), GpuProcess(2990, "python3", None)]
    assert [p.pid for p in matching(procs, "LLAMA")] == [1811]
    assert matching(procs, "ollama") == []
    assert str(procs[0]) == "llama-server (pid 1811, 20.5 GiB)"


@pytest.mark.parametrize(("extra", "message"), [
    ("devices = 0", "components[0] (gpu0).devices: input should be greater than or equal to 1"),
    ('processes = [" "]', "an empty process name matches everything; remove it"),
])
def test_bad_gpu_inventory_is_a_usage_error(suite, extra, message):
    suite.inventory(INVENTORY.replace('processes = ["llama"]\n', "") + extra + "\n")
    result = run(suite)
    assert result.ret == 4
    assert message in result.stderr.str()


def test_client_libraries_load_only_when_a_check_needs_them():
    code = ("import sys, opscheck.targets.gpu, opscheck.targets.docker, opscheck.targets.queue, "
            "opscheck.targets.files; "
            "print(sorted({'pynvml', 'docker', 'yaml'} & set(sys.modules)))")
    out = subprocess.run([sys.executable, "-c", code], cwd=REPO, capture_output=True,
                         text=True, timeout=60, check=True).stdout
    assert out.strip() == "[]"
