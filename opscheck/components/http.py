"""HTTP services: any endpoint that answers a GET (health routes, APIs, dashboards).

``HttpClientSettings`` holds what every HTTP-speaking kind needs (a URL, credentials named by
environment variable and sent as headers, TLS verification); the ``prometheus`` kind reuses it.
``HttpComponent`` adds what one endpoint must answer: a status, conditions on its JSON body,
a refusal without credentials, and thresholds on its response time and TLS certificate;
numbers taken from its JSON body (``values``, :mod:`opscheck.readings.jsonvalue`) or from
its Prometheus text (``metrics``, :mod:`opscheck.readings.scrape`), each against levels.
"""

from __future__ import annotations

import base64
import re
from pathlib import Path
from typing import Any, ClassVar, Literal
from urllib.parse import urlsplit

from pydantic import Field, ValidationInfo, field_validator, model_validator

from opscheck import secrets
from opscheck.components import Component, check_url, plain
from opscheck.conditions import MISSING, JsonCondition, lookup  # noqa: F401 - here too
from opscheck.items import unique
from opscheck.readings.jsonvalue import JsonValue
from opscheck.readings.scrape import ScrapeQuery
from opscheck.thresholds import Threshold, Thresholds, level

#: an HTTP header name (RFC 9110 token)
TOKEN = re.compile(r"^[!#$%&'*+.^_`|~0-9A-Za-z-]+$")


class HttpClientSettings(Component):
    """Where an HTTP service is and how to reach it. Secrets only through ``*_env`` fields."""

    SECRET_VARS: ClassVar[tuple[str, ...]] = ("api_key_env", "password_env")

    url: str = Field(description="http:// or https:// URL")
    api_key_env: str | None = Field(default=None, description="variable holding an API key")
    api_key_header: str = Field(default="X-API-Key", description="header the API key is sent in")
    api_key_prefix: str = Field(default="", description='text before the key, e.g. "Bearer "')
    username: str | None = Field(default=None, description="HTTP basic auth user")
    password_env: str | None = Field(default=None,
                                     description="variable holding the basic auth password")
    verify_tls: bool = Field(default=True, description="verify the server's certificate")
    ca_file: str | None = Field(default=None, description="CA bundle (PEM) to verify against, "
                                "relative to the inventory")

    @field_validator("url")
    @classmethod
    def _http_url(cls, value: str) -> str:
        return check_url(value, ("http", "https"), "http://localhost:8000/health")

    @field_validator("api_key_header")
    @classmethod
    def _header_name(cls, value: str) -> str:
        if not TOKEN.match(value):
            raise ValueError(f"api_key_header {value!r} is not an HTTP header name; use "
                             "letters, digits and '-', e.g. \"X-API-Key\" or \"Authorization\"")
        return value

    @field_validator("api_key_prefix")
    @classmethod
    def _header_text(cls, value: str) -> str:
        return plain(value, "api_key_prefix", "header text")

    @field_validator("username")
    @classmethod
    def _user(cls, value: str | None) -> str | None:
        if value is not None and (":" in value or not value.strip()):
            raise ValueError(f"username {value!r} cannot be a basic auth user (empty, or "
                             "holds ':'); fix it")
        return value if value is None else plain(value, "username")

    @field_validator("ca_file")
    @classmethod
    def _ca_file_exists(cls, value: str | None, info: ValidationInfo) -> str | None:
        if value is None:
            return value
        base = (info.context or {}).get("base") or Path.cwd()
        path = Path(value).expanduser()
        path = path if path.is_absolute() else Path(base) / path
        if not path.is_file():
            raise ValueError(f"ca_file {str(path)!r} does not exist; point it at a PEM CA bundle")
        return str(path)

    @model_validator(mode="after")
    def _basic_auth_pair(self) -> HttpClientSettings:
        if bool(self.username) != bool(self.password_env):
            raise ValueError("basic auth needs both username and password_env; set both or "
                             "neither")
        return self

    @property
    def address(self) -> str:
        return self.url

    @property
    def tls(self) -> bool:
        return urlsplit(self.url).scheme == "https"

    def auth_headers(self) -> dict[str, str]:
        """The credential headers (values from the environment; never logged)."""
        headers: dict[str, str] = {}
        key = self.secret("api_key_env")
        if key:
            headers[self.api_key_header] = self.api_key_prefix + key
        password = self.secret("password_env")
        if self.username and password:
            token = base64.b64encode(f"{self.username}:{password}".encode()).decode()
            secrets.remember(token)  # the pair's encoding is as secret as the password
            headers["Authorization"] = "Basic " + token
        return headers

    @property
    def has_credentials(self) -> bool:
        return bool(self.api_key_env or self.username)


class HttpThresholds(Thresholds):
    """Response time and TLS certificate lifetime (days left, lower is worse)."""

    response_time: Threshold = level(1.0, 2.5, "s", action="Check the service's load and logs")
    cert_days: Threshold = level(30, 7, "days", direction="below",
                                 action="Renew the TLS certificate")


class HttpComponent(HttpClientSettings):
    kind: Literal["http"] = "http"
    ITEMS: ClassVar[dict[str, str]] = {"condition": "expect_json", "json_value": "values",
                                       "scrape": "metrics"}

    method: Literal["GET", "HEAD"] = Field(default="GET", description="request method")
    expect_status: list[int] = Field(default_factory=lambda: [200],
                                     description="status code(s) a healthy endpoint answers")
    expect_json: list[JsonCondition] = Field(
        default_factory=list,
        description="conditions on the JSON body ([[components.expect_json]])")
    refuses_anonymous: bool = Field(default=False, description="a request without credentials "
                                    "must be refused (an API that requires a key)")
    refused_status: list[int] = Field(default_factory=lambda: [401, 403],
                                      description="statuses that count as a refusal")
    values: list[JsonValue] = Field(
        default_factory=list, description="numbers from the JSON body (JMESPath), each held "
        "against levels at its own tier ([[components.values]])")
    metrics: list[ScrapeQuery] = Field(
        default_factory=list, description="numbers from the body as a Prometheus /metrics "
        "page, each held against levels at its own tier ([[components.metrics]])")
    max_body: int = Field(default=1_048_576, gt=0, description="bytes of body read at most")
    thresholds: HttpThresholds = Field(default_factory=HttpThresholds)

    @field_validator("expect_status", "refused_status", mode="before")
    @classmethod
    def _status_list(cls, value: Any) -> Any:
        values = value if isinstance(value, list) else [value]
        for v in values:
            if not isinstance(v, int) or not 100 <= v <= 599:
                raise ValueError(f"status {v!r} is not an HTTP status code; use integers "
                                 "100-599, e.g. 200 or [200, 204]")
        return values

    @field_validator("values", "metrics")
    @classmethod
    def _unique_names(cls, items: list[Any]) -> list[Any]:
        return unique(items)

    @model_validator(mode="after")
    def _body_needed(self) -> HttpComponent:
        for key in ("expect_json", "values", "metrics"):
            if getattr(self, key) and self.method == "HEAD":
                raise ValueError(f"{key} needs a body but method is HEAD; use method = \"GET\"")
        return self
