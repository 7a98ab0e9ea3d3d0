"""Components: the typed, validated entries of an inventory, one model per kind.

Each kind's model is ``opscheck/components/<kind>.py`` (registered in :mod:`opscheck.kinds`).
A model module imports pydantic only, never a client library, so loading an inventory
stays cheap.
A model may declare ``ITEMS``: argument names a check can ask for next to the component
(``mount`` -> the component's ``mounts``); the check is then parametrized per item.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from typing import Any, ClassVar, overload
from urllib.parse import urlsplit

from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    ValidationInfo,
    field_validator,
    model_validator,
)

from opscheck import secrets, text

NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]*$")


def identifier(value: str, what: str = "name") -> str:
    """``value`` if it can name an entry (it goes into check ids, metric names and file
    names); else a ValueError saying which characters it may use, ``what`` naming it."""
    if not NAME.match(value):
        raise ValueError(f"{what} {value!r} must start with a letter or digit and use only "
                         "letters, digits, '-', '_' and '.'")
    return value


@overload
def regex(value: str, key: str = "") -> str: ...


@overload
def regex(value: None, key: str = "") -> None: ...


def regex(value: str | None, key: str = "") -> str | None:
    """``value`` if it compiles as a Python regular expression (None passes), else a
    ValueError saying so, ``key`` naming it."""
    if value is not None:
        try:
            re.compile(value)
        except re.error as exc:
            named = f"{key} " if key else ""
            raise ValueError(f"{named}{value!r} is not a regular expression ({exc})") from None
    return value


def unset(info: ValidationInfo, var: str, field: str, problem: str | None = None) -> None:
    """Note that environment variable ``var``, used by ``field``, is not set (``problem``:
    the one-line error for it alone): the loader reports every unset variable of the
    inventory in one error. Without a loader (a model built directly) it is the error."""
    keyed = problem is not None  # the default problem names the field itself
    problem = problem or (f"environment variable {var} (named by {field}) is not set; "
                          f"export {var} before running, or remove {field}")
    found = (info.context or {}).get("unset")
    if found is None:
        raise ValueError(problem)
    found.append((var, field, problem, keyed))


def plain(value: str, key: str, what: str = "value") -> str:
    """``value`` if it holds no control character (it is shown in ids and messages)."""
    if text.unsafe(value) or "\t" in value or "\n" in value:
        raise ValueError(f"{key} {value!r} holds a control character; remove it from the {what}")
    return value


def check_url(value: str, schemes: Iterable[str], example: str, key: str = "url") -> str:
    """``value`` if it is a URL of one of ``schemes`` with a host and a valid port; else a
    ValueError naming ``key`` and showing ``example`` (``unix://`` needs a path, no host)."""
    schemes = tuple(schemes)
    wanted = " or ".join(f"{s}://" for s in schemes if s != "unix")
    article = "an" if wanted[0] in "aehio" else "a"
    if text.unsafe(value) or any(c.isspace() for c in value):
        raise ValueError(f"{key} {value!r} holds a space or control character; write it "
                         f"like \"{example}\"")
    try:
        parts = urlsplit(value)
    except ValueError:  # a broken [IPv6] host
        raise ValueError(f"{key} {value!r} has a host that cannot be read; write it like "
                         f"\"{example}\"") from None
    try:
        port = parts.port
    except ValueError:  # out of range or not a number
        raise ValueError(f"{key} {value!r} has a port that is not a number from 1 to 65535; "
                         f"write it like \"{example}\"") from None
    if parts.scheme == "unix" and "unix" in schemes:
        if not parts.path:
            raise ValueError(f"{key} {value!r} names no socket path; write it like "
                             "\"unix:///run/service.sock\"")
        return value
    if parts.scheme not in schemes or not parts.hostname:
        raise ValueError(f"{key} {value!r} is not {article} {wanted} URL with a host; write it "
                         f"like \"{example}\"")
    if port == 0:
        raise ValueError(f"{key} {value!r} has port 0; use the port the service listens on "
                         f"(1-65535), e.g. \"{example}\"")
    return value


class Component(BaseModel):
    """Fields every component has. Kinds subclass this and add their own."""

    model_config = ConfigDict(extra="forbid")

    ITEMS: ClassVar[dict[str, str]] = {}
    #: fields whose value names an environment variable holding a secret
    SECRET_VARS: ClassVar[tuple[str, ...]] = ()

    name: str = Field(description="unique name of the component, used in ids and reports")
    kind: str = Field(description="what it is: host, redis, postgres, …")
    description: str = ""
    timeout: float = Field(default=3.0, gt=0, le=600,
                           description="seconds each network operation (connect, request, "
                           "the whole answer) may take (default: [system] timeout)")

    @model_validator(mode="before")
    @classmethod
    def _system_timeout(cls, data: Any, info: ValidationInfo) -> Any:
        """An entry without its own timeout takes ``[system] timeout``."""
        system = (info.context or {}).get("system")
        if isinstance(data, dict) and "timeout" not in data and system is not None:
            return {**data, "timeout": system.timeout}
        return data

    @field_validator("name")
    @classmethod
    def _name_shape(cls, value: str) -> str:
        return identifier(value)

    @model_validator(mode="after")
    def _secret_vars_set(self, info: ValidationInfo) -> Component:
        for field in self.SECRET_VARS:
            var = getattr(self, field)
            if var and secrets.resolve(var) is None:
                unset(info, var, field)
        return self

    @model_validator(mode="after")
    def _plain_items(self) -> Component:
        """Items become parts of check ids: no control characters, none empty."""
        for field in self.ITEMS.values():
            for item in getattr(self, field):
                if isinstance(item, str):
                    if not item.strip():
                        raise ValueError(f"{field}: an empty entry names nothing; remove it")
                    plain(item, field, "entry")
        return self

    def secret(self, field: str) -> str | None:
        """The secret held by the variable that ``field`` names, or None."""
        var = getattr(self, field)
        return secrets.resolve(var) if var else None

    def link(self, components: dict[str, Component]) -> None:
        """Resolve references to other components, once all are loaded (kinds override)."""

    @property
    def address(self) -> str:
        """Where the component is, for messages (kinds override)."""
        return self.name

    def __str__(self) -> str:
        return self.name

    def items(self, argname: str) -> list[Any]:
        return list(getattr(self, self.ITEMS[argname]))
