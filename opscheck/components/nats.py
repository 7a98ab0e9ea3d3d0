"""NATS: a server reached by nats-py, its monitoring endpoint, and JetStream where used.

The Agentic Factory runs NATS with its client port 4222 and monitoring on 8222
(``curl -sf http://localhost:8222/healthz``)::

    [[components]]
    name = "factory-nats"
    kind = "nats"
    url = "nats://localhost:4222"
    monitor_url = "http://localhost:8222"
    jetstream = true
"""

from __future__ import annotations

from typing import ClassVar, Literal

from pydantic import Field, field_validator, model_validator

from opscheck.components import Component, check_url


class NatsComponent(Component):
    kind: Literal["nats"] = "nats"
    SECRET_VARS: ClassVar[tuple[str, ...]] = ("password_env", "token_env")

    url: str = Field(description="client URL: nats://host:4222 (tls://host:4222 for TLS)")
    monitor_url: str | None = Field(default=None, description="monitoring base URL, e.g. "
                                    "http://localhost:8222 (enables the /healthz check)")
    jetstream: bool = Field(default=False, description="JetStream must be enabled and healthy")
    user: str | None = Field(default=None, description="user for user/password auth")
    password_env: str | None = Field(default=None, description="variable holding the password")
    token_env: str | None = Field(default=None, description="variable holding an auth token")

    @field_validator("url")
    @classmethod
    def _nats_url(cls, value: str) -> str:
        return check_url(value, ("nats", "tls"), "nats://localhost:4222")

    @field_validator("monitor_url")
    @classmethod
    def _monitor_url(cls, value: str | None) -> str | None:
        if value is None:
            return value
        return check_url(value, ("http", "https"), "http://localhost:8222", key="monitor_url")

    @model_validator(mode="after")
    def _auth(self) -> NatsComponent:
        if bool(self.user) != bool(self.password_env):
            raise ValueError("user/password auth needs both user and password_env; set both "
                             "or neither")
        if self.token_env and self.user:
            raise ValueError("set either token_env or user/password_env, not both")
        return self

    @property
    def address(self) -> str:
        return self.url
