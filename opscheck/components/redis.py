"""A Redis server: the runbooks' event bus (WAVE, agentic factory, orchestrator)."""

from __future__ import annotations

import os
from typing import ClassVar, Literal
from urllib.parse import urlsplit

from pydantic import Field, model_validator

from opscheck.components import Component
from opscheck.thresholds import Threshold, Thresholds, level


class RedisThresholds(Thresholds):
    """Memory and clients use the runbooks' generic 75/90 % levels; counters fail on any."""

    memory: Threshold = level(75, 90, "%", action="Check for leaks; raise maxmemory or evict")
    clients: Threshold = level(75, 90, "%", action="Find the client leaking connections "
                               "(INFO clients, CLIENT LIST); raise maxclients")
    rejected_connections: Threshold = level(None, 1, action="Clients were turned away at "
                                            "maxclients: find the leak, raise maxclients "
                                            "(counted since start; CONFIG RESETSTAT)")
    evicted_keys: Threshold = level(None, 1, action="Keys were evicted: raise maxmemory or "
                                    "trim data; events may be lost (counted since start)")
    last_save_age: Threshold = level(360, 1500, "min", action="Check the save errors in the "
                                     "Redis log and the disk; run BGSAVE")


class RedisComponent(Component):
    kind: Literal["redis"] = "redis"
    SECRET_VARS: ClassVar[tuple[str, ...]] = ("password_env",)
    #: probe types this kind answers (a Redis command returning one number)
    PROBES: ClassVar[tuple[str, ...]] = ("value",)

    url: str = Field(default="redis://127.0.0.1:6379/0",
                     description="redis:// or rediss:// URL without credentials")
    password_env: str | None = Field(default=None,
                                      description="environment variable holding the password")
    username_env: str | None = Field(default=None,
                                     description="environment variable holding the ACL user")
    require_password: bool | None = Field(
        default=None, description="a connection without AUTH must be refused "
        "(default: true when password_env is set)")
    memory_budget: int | None = Field(
        default=None, gt=0, description="bytes to hold used memory against when maxmemory is 0")
    persistence: bool | None = Field(
        default=None, description="RDB/AOF persistence expected (default: ask CONFIG GET)")
    thresholds: RedisThresholds = Field(default_factory=RedisThresholds)

    @model_validator(mode="after")
    def _url_shape(self) -> RedisComponent:
        parts = urlsplit(self.url)
        if parts.scheme not in ("redis", "rediss", "unix"):
            raise ValueError(f"url {self.url!r} must start with redis://, rediss:// or unix://")
        if self.username_env and self.username_env not in os.environ:
            raise ValueError(f"environment variable {self.username_env} (named by username_env) "
                             f"is not set; export {self.username_env} or remove username_env")
        if self.require_password is None:
            self.require_password = bool(self.password_env)
        return self

    @property
    def address(self) -> str:
        parts = urlsplit(self.url)
        return parts.path if parts.scheme == "unix" else (parts.netloc or self.url)
