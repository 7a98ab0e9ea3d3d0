"""A Docker engine (or podman's Docker-compatible API) and the containers it must run."""

from __future__ import annotations

import re
from typing import ClassVar, Literal

from pydantic import Field, field_validator

from opscheck.components import Component
from opscheck.logs import LogSignal
from opscheck.thresholds import Threshold, Thresholds, level

SCHEMES = ("unix://", "tcp://", "http://", "https://")
SIZE = re.compile(r"^\d+(\.\d+)?[kmg]?$", re.IGNORECASE)


class DockerThresholds(Thresholds):
    """Restarts since the container was created: a climbing count is a crash loop. CPU and
    memory per container (``docker stats``): the runbooks' generic 70/85 % and 75/90 %."""

    restarts: Threshold = level(1, 5, "restarts", action=(
        "Crash loop: read `docker logs <container>` for the cause, fix it, then "
        "`docker compose restart <service>`"))
    cpu: Threshold = level(70, 85, "%", action=(
        "Container busy: docker stats --no-stream; docker logs <container> for a runaway "
        "loop; give it more CPUs or scale it"))
    memory: Threshold = level(75, 90, "%", action=(
        "Container near its memory limit (the kernel kills it there): docker stats "
        "--no-stream; check for a leak; raise mem_limit"))


class DockerComponent(Component):
    kind: Literal["docker"] = "docker"
    ITEMS: ClassVar[dict[str, str]] = {"container": "containers", "container_log": "logs"}

    base_url: str = Field(default="unix:///var/run/docker.sock", description=(
        "the engine API: unix:///var/run/docker.sock, unix:///run/podman/podman.sock, "
        "tcp://127.0.0.1:2375"))
    containers: list[str] = Field(default_factory=list, description=(
        "container names that must be running (and healthy where they have a healthcheck)"))
    compose_project: str | None = Field(default=None, description=(
        "compose project whose containers must not have exited (label "
        "com.docker.compose.project); default: the containers listed"))
    log_rotation: bool = Field(default=True, description=(
        "check each listed container's log rotation (driver, max-size, max-file); false "
        "where the runbook sets none (the engine's default json-file never rotates)"))
    log_driver: str = Field(default="json-file", description="expected logging driver")
    log_max_size: str | None = Field(default="10m", description=(
        "expected json-file max-size (WAVE runbook: 10m); \"\" skips the rotation check"))
    log_max_file: int | None = Field(default=3, ge=1, description=(
        "expected json-file max-file (WAVE runbook: 3)"))
    logs: list[LogSignal] = Field(default_factory=list, description=(
        "log signals over containers' logs ([[components.logs]] with container = NAME), "
        "read through the Engine API with the engine's own timestamps"))
    stats_interval: float = Field(default=1.0, ge=0.2, le=10, description=(
        "seconds between the two stats samples CPU % is taken over (once per run, for every "
        "listed container together)"))
    thresholds: DockerThresholds = Field(default_factory=DockerThresholds)

    @field_validator("logs")
    @classmethod
    def _container_logs(cls, value: list[LogSignal]) -> list[LogSignal]:
        names = [s.name for s in value]
        for signal in value:
            if not signal.container:
                raise ValueError(f"log signal {signal.name!r}: a docker component reads "
                                 "container logs; set container = \"NAME\" (files and units "
                                 "belong to a host component)")
            if names.count(signal.name) > 1:
                raise ValueError(f"two logs entries are named {signal.name!r}; give each a "
                                 "unique name")
        return value

    @field_validator("base_url")
    @classmethod
    def _scheme(cls, value: str) -> str:
        if not value.startswith(SCHEMES):
            raise ValueError(f"base_url {value!r} must start with one of {', '.join(SCHEMES)} "
                             "(e.g. unix:///var/run/docker.sock)")
        return value

    @field_validator("log_max_size")
    @classmethod
    def _size(cls, value: str | None) -> str | None:
        if value == "":  # TOML has no null: an empty size switches the rotation check off
            return None
        if value is not None and not SIZE.match(value):
            raise ValueError(f"log_max_size {value!r} is not a docker size; write e.g. '10m'")
        return value

    @property
    def address(self) -> str:
        return self.base_url
