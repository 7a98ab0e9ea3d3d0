"""The kind registry: every kind declared once, by name (testinfra style, lazily imported).

A kind is three things, all found from its entry here:

- its **model** (``opscheck/components/<kind>.py``): the pydantic model of its inventory
  entries; it imports pydantic only, so loading an inventory stays cheap;
- its **target** (``opscheck/targets/<kind>.py``): the facts about one component, plain
  Python (no pytest), opened with ``Target.open(component, inventory)``;
- its **checks** (``checks/<kind>/test_*.py``): pytest tests marked with the kind's marker
  and asking for the ``<kind>_component`` fixture.

Everything else reads this dict: the inventory loader (``kind = "…"``), the markers, the
``<kind>_component`` fixtures (:mod:`opscheck.fixtures.components`), the not-configured
header, the docs site's reference. Adding a kind is its model, its target, its checks and
one line here.
"""

from __future__ import annotations

import importlib
from dataclasses import dataclass
from functools import cache
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from opscheck.components import Component


@dataclass(frozen=True)
class Kind:
    """One kind: its name (the inventory's ``kind = …`` and the marker) and where it lives.

    ``model`` and ``target`` are ``"module:Class"``; by default the suite's own places
    (``opscheck.components.redis:RedisComponent``, ``opscheck.targets.redis:RedisTarget``),
    so a built-in kind is one line: its name and help. ``checks`` is its checks folder
    (relative to the suite's root, or absolute for a kind of one's own).
    """

    name: str
    help: str  # what a component of this kind is, for --markers and the docs
    model: str = ""
    target: str = ""
    checks: str = ""

    def __post_init__(self) -> None:
        title = self.name.capitalize()
        defaults = {"model": f"opscheck.components.{self.name}:{title}Component",
                    "target": f"opscheck.targets.{self.name}:{title}Target",
                    "checks": f"checks/{self.name}"}
        for key, value in defaults.items():
            if not getattr(self, key):
                object.__setattr__(self, key, value)


def _kinds(*entries: tuple[str, str]) -> dict[str, Kind]:
    return {name: Kind(name, text) for name, text in entries}


KINDS: dict[str, Kind] = _kinds(
    ("host", "a machine reached through testinfra: local, ssh, docker, ansible"),
    ("redis", "a Redis server (redis-py)"),
    ("postgres", "a PostgreSQL server (psycopg)"),
    ("sqlite", "an SQLite database file, opened read-only"),
    ("http", "an HTTP(S) endpoint: status, JSON, latency, certificate"),
    ("prometheus", "a Prometheus server: health, targets, PromQL queries"),
    ("docker", "a Docker (or podman) engine and the stack's containers"),
    ("gpu", "the NVIDIA GPUs of the local machine (NVML)"),
    ("nats", "a NATS server, its monitoring port and JetStream"),
    ("queue", "a file task queue: one folder per state, one JSON file per task"),
    ("files", "state and control files, checkpoints, git checkouts"),
    ("backup", "a set of backups on disk or in S3: fresh, whole, readable, restorable"),
    ("tcp", "a TCP port that must accept connections"),
    ("aws", "an AWS account and region (boto3): CloudWatch alarms and metrics, cost, "
            "Lambda, ECS"),
)


def register(kind: Kind) -> None:
    """Add a kind at run time (a site's own kind, from its conftest or plugin), before the
    inventory loads. A built-in kind cannot be replaced."""
    if kind.name in KINDS and KINDS[kind.name] != kind:
        raise ValueError(f"kind {kind.name!r} is registered already; pick another name")
    KINDS[kind.name] = kind
    model_for.cache_clear()
    target_for.cache_clear()


def load(spec: str) -> Any:
    """The object named by ``"module:attribute"``, importing the module."""
    module, _, attr = spec.partition(":")
    return getattr(importlib.import_module(module), attr)


@cache
def model_for(kind: str) -> type[Component]:
    """The model class of ``kind``, imported on first use. KeyError if the kind is unknown."""
    return load(KINDS[kind].model)


@cache
def target_for(kind: str) -> Any:
    """The target class of ``kind``, imported on first use (it may import the kind's client
    library, but never pytest)."""
    return load(KINDS[kind].target)
