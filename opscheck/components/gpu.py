"""NVIDIA GPUs, read through NVML (nvidia-ml-py): memory, temperature, ECC, utilisation, processes.

``devices`` declares how many GPUs the machine has. Declared, a missing NVML fails the GPU
checks; undeclared, the checks run on whatever NVML finds and skip where NVML is absent.
"""

from __future__ import annotations

from typing import ClassVar, Literal

from pydantic import Field, field_validator, model_validator

from opscheck.components import Component
from opscheck.thresholds import Threshold, Thresholds, level


class GpuThresholds(Thresholds):
    """Per device. Memory: the Agentic Factory runbook's "sustained > 23 GB (of 24 GB)"."""

    memory: Threshold = level(None, 23, "GiB", action=(
        "VRAM nearly full: nvidia-smi for a second model or a non-llama process; "
        "sudo systemctl restart llama-inference (AF §6)"))
    temperature: Threshold = level(80, 90, "°C", action=(
        "GPU hot: check the fans and airflow; the card throttles near 90 °C"))
    ecc_uncorrected: Threshold = level(None, 1, "errors", action=(
        "Uncorrected ECC errors: drain the GPU, reset it (nvidia-smi -r) or replace it"))
    utilization: Threshold = level(90, 99, "%", action=(
        "GPU saturated: requests queue behind it; look for a runaway job (nvidia-smi)"))
    memory_sustained: Threshold = level(None, 23, "GiB", action=(
        "VRAM held high for the whole window: nvidia-smi for a second model or a non-llama "
        "process; sudo systemctl restart llama-inference; if chronic, the 8B model (AF §6.1)"))


class GpuComponent(Component):
    kind: Literal["gpu"] = "gpu"
    ITEMS: ClassVar[dict[str, str]] = {"gpu_process": "processes"}

    devices: int | None = Field(default=None, ge=1, le=64, description=(
        "how many GPUs this machine has; set it and a missing NVML or fewer GPUs fail"))
    processes: list[str] = Field(default_factory=list, description=(
        "process names that must hold a GPU (case-insensitive substring), e.g. ['llama']"))
    allowed_processes: list[str] = Field(default_factory=list, description=(
        "the only process names that may hold a GPU (case-insensitive substring); any other "
        "fails, listed with its pid and memory (AF §6.1: kill it if it is not llama)"))
    memory_window: float = Field(default=0, ge=0, le=120, description=(
        "seconds over which VRAM is sampled for the sustained check (the Factory's "
        "\"sustained > 23 GB\"); 0: that check does not apply"))
    memory_samples: int = Field(default=5, ge=2, le=120, description=(
        "readings over memory_window; the level held is the least of them"))
    thresholds: GpuThresholds = Field(default_factory=GpuThresholds)

    @model_validator(mode="after")
    def _sustained_numbers(self) -> GpuComponent:
        if not self.thresholds.memory_sustained.numeric:
            raise ValueError("thresholds.memory_sustained: a level held for a whole window is "
                             "held in one direction; give numbers, not a range")
        return self

    @field_validator("processes", "allowed_processes")
    @classmethod
    def _names(cls, value: list[str]) -> list[str]:
        if any(not name.strip() for name in value):
            raise ValueError("an empty process name matches everything; remove it")
        return value

    @property
    def address(self) -> str:
        return "NVML (local driver)"
