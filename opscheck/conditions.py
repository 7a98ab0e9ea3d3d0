"""Conditions on a JSON document (``path`` equals a value, is present, absent or not
empty): an HTTP answer's ``expect_json``, a command's JSON output, a state file's keys.
Pydantic only: a host's command probes do not load the http kind's model."""

from __future__ import annotations

import json
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from opscheck import secrets
from opscheck.components import plain

MISSING: Any = object()


def lookup(doc: Any, path: str) -> tuple[bool, Any, str]:
    """``(found, value, reached)`` for the dotted ``path`` (list indices allowed) in ``doc``;
    ``reached`` is the path up to the first key that is missing."""
    value: Any = doc
    keys = path.split(".")
    for i, key in enumerate(keys):
        here = ".".join(keys[:i + 1])
        if isinstance(value, dict) and key in value:
            value = value[key]
        elif isinstance(value, list) and key.lstrip("-").isdigit() and \
                -len(value) <= int(key) < len(value):
            value = value[int(key)]
        else:
            return False, None, here
    return True, value, path


class JsonCondition(BaseModel):
    """One condition on a JSON document: ``path`` equals a value, is present, is absent,
    or is not empty.

    ``path`` is dotted with list indices: ``result.collections``, ``models.0.name``.
    """

    model_config = ConfigDict(extra="forbid")

    path: str = Field(min_length=1, description="dotted path into the JSON document")

    @field_validator("path")
    @classmethod
    def _path(cls, value: str) -> str:
        return plain(value, "path")
    equals: Any = Field(default=MISSING, description="the value it must equal")
    present: bool | None = Field(default=None, description="it must exist (the default test)")
    absent: bool | None = Field(default=None, description="it must not exist")
    not_empty: bool | None = Field(default=None, description="a list, object or string with "
                                   "at least one element")

    @model_validator(mode="after")
    def _one_test(self) -> JsonCondition:
        given = [k for k in ("equals", "present", "absent", "not_empty")
                 if getattr(self, k) not in (MISSING, None)]
        if len(given) > 1:
            raise ValueError(f"condition on {self.path!r} sets {' and '.join(given)}; give one "
                             "of equals, present, absent, not_empty per condition")
        if False in (self.present, self.absent, self.not_empty):
            raise ValueError(f"condition on {self.path!r}: present/absent/not_empty can only "
                             "be true; remove the key to drop the condition")
        return self

    @property
    def test(self) -> Literal["equals", "present", "absent", "not_empty"]:
        if self.equals is not MISSING:
            return "equals"
        if self.absent:
            return "absent"
        return "not_empty" if self.not_empty else "present"

    def problem(self, doc: Any, what: str | None = None, show: Any = None) -> str | None:
        """Why ``doc`` fails this condition (observed vs expected), or None when it holds.

        ``what`` names the document in the message (default: the HTTP body); ``show(value)``
        writes an observed value (default: JSON, shortened; for a secret, one that hides it).
        """
        show = show or _short
        whole, part = (what, what) if what else ("JSON body", "JSON")
        found, value, here = lookup(doc, self.path)
        if self.test == "absent":
            return (f"{whole} has {self.path!r} ({show(value)}); expected it absent"
                    if found else None)
        if not found:
            return f"{whole} has no {here!r}; expected {self.path!r} {self._wanted()}"
        if self.test == "equals" and value != self.equals:
            return f"{part} {self.path!r} is {show(value)}, expected {_short(self.equals)}"
        if self.test == "not_empty" and (not isinstance(value, list | dict | str) or not value):
            return f"{part} {self.path!r} is {show(value)}, expected a non-empty list"
        return None

    def _wanted(self) -> str:
        if self.test == "equals":
            return f"== {_short(self.equals)}"
        return self.test.replace("_", " ")

    @property
    def name(self) -> str:
        """The parametrize id: ``status==ok``, ``models:not-empty``, ``version:present``."""
        if self.test == "equals":
            return f"{self.path}=={self.equals}"
        return f"{self.path}:{self.test.replace('_', '-')}"


def _short(value: Any, limit: int = 60) -> str:
    """``value`` for a message: redacted before it is cut, so no part of a secret shows."""
    text = secrets.redact(json.dumps(value) if not isinstance(value, str) else repr(value))
    return text if len(text) <= limit else secrets.excerpt(text, limit - 1) + "…"
