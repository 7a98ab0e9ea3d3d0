"""A Redis server: the runbooks' event bus (WAVE, agentic factory, orchestrator)."""

from __future__ import annotations

import shlex
from typing import ClassVar, Literal
from urllib.parse import urlsplit

from pydantic import Field, field_validator, model_validator

from opscheck.components import Component, check_url
from opscheck.items import unique
from opscheck.readings.keyscan import KeyScan
from opscheck.readonly.redis import known_writer
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


#: the commands a probe may name, each answering one value (checked at load); whether the
#: command only reads is the server's word, asked at run time (:mod:`opscheck.readonly.redis`)
PROBE_COMMANDS = ("GET", "HGET", "HLEN", "LLEN", "LINDEX", "SCARD", "SISMEMBER", "ZCARD",
                  "ZSCORE", "ZCOUNT", "XLEN", "STRLEN", "EXISTS", "TTL", "PTTL", "DBSIZE")


def probe_command(query: str) -> list[str]:
    """``query`` split into a read-only command and its arguments; ValueError saying why not."""
    try:
        args = shlex.split(query)
    except ValueError as exc:
        raise ValueError(f"cannot split command {query!r}: {exc}") from None
    name = args[0].upper() if args else ""
    refused = known_writer(name)
    if refused:
        raise ValueError(refused)
    if name not in PROBE_COMMANDS:
        raise ValueError(f"command {name or '(empty)'} is not allowed: probes are read-only "
                         f"and answer one value; use one of {', '.join(PROBE_COMMANDS)}")
    return args


class RedisComponent(Component):
    kind: Literal["redis"] = "redis"
    ITEMS: ClassVar[dict[str, str]] = {"scan": "scans"}
    SECRET_VARS: ClassVar[tuple[str, ...]] = ("password_env", "username_env")
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
        default=None, gt=0, description="bytes to hold used memory against when maxmemory is 0 "
        "(unset: the machine's memory, INFO's total_system_memory)")
    persistence: bool | None = Field(
        default=None, description="RDB/AOF persistence expected (default: ask CONFIG GET)")
    scans: list[KeyScan] = Field(default_factory=list, description=(
        "key patterns scanned (SCAN MATCH, bounded), their keys counted or values aggregated, "
        "each held against levels at its own tier ([[components.scans]])"))
    thresholds: RedisThresholds = Field(default_factory=RedisThresholds)

    @field_validator("scans")
    @classmethod
    def _unique_scans(cls, items: list[KeyScan]) -> list[KeyScan]:
        unique(list(items))
        return items

    @model_validator(mode="after")
    def _url_shape(self) -> RedisComponent:
        check_url(self.url, ("redis", "rediss", "unix"), "redis://127.0.0.1:6379/0")
        if self.require_password is None:
            self.require_password = bool(self.password_env)
        return self

    def query_problem(self, query: str) -> str | None:
        """Why ``query`` may not run as a probe here (a write or unknown command), or None."""
        try:
            probe_command(query)
        except ValueError as exc:
            return str(exc)
        return None

    @property
    def address(self) -> str:
        parts = urlsplit(self.url)
        return parts.path if parts.scheme == "unix" else (parts.netloc or self.url)
