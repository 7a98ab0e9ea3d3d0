"""Secrets: named in the inventory by environment variable, resolved at load, redacted everywhere.

The inventory never holds a secret, only the name of the variable that does
(``password_env = "REDIS_PASSWORD"``). Every resolved value is remembered here, and
:func:`redact` replaces it with ``***`` in any text that leaves the process: failure
lines, captured output, report properties, audit records.
"""

from __future__ import annotations

import os
import re
from collections.abc import Iterable
from typing import Any
from urllib.parse import urlsplit

MASK = "***"

#: keys that would hold a secret inline; their ``*_env`` twins hold a variable name instead
#: (AWS's ``aws_secret_access_key``, ``aws_access_key_id`` and ``aws_session_token`` too)
SECRET_KEY = re.compile(r"(^|_)(password|passwd|passphrase|secret|token|api_?key|credentials?|"
                        r"secret_access_key|access_key(_id)?)$", re.IGNORECASE)

_values: set[str] = set()


def remember(value: str) -> None:
    """Register a secret value so that :func:`redact` hides it (values under 4 chars too)."""
    if value:
        _values.add(value)


def redact(text: str) -> str:
    """``text`` with every remembered secret replaced by ``***`` (longest first)."""
    if not _values or not text:
        return text
    for value in sorted(_values, key=len, reverse=True):
        text = text.replace(value, MASK)
    return text


def redact_any(obj: Any) -> Any:
    """Redact strings inside lists, tuples and dicts; other objects pass unchanged."""
    if isinstance(obj, str):
        return redact(obj)
    if isinstance(obj, dict):
        return {k: redact_any(v) for k, v in obj.items()}
    if isinstance(obj, list | tuple):
        return type(obj)(redact_any(v) for v in obj)
    return obj


def contains_secret(text: str) -> bool:
    return any(value in text for value in _values)


def resolve(var: str) -> str | None:
    """The value of environment variable ``var``, remembered for redaction; None if unset."""
    value = os.environ.get(var)
    if value is not None:
        remember(value)
    return value


def inline_secrets(data: Any, path: str = "") -> Iterable[str]:
    """Dotted paths in raw inventory data where a secret is written inline.

    A key like ``password`` or ``api_key`` with a value, or a URL with a password in it
    (``redis://:hunter2@host``), is inline; ``password_env`` is the allowed form.
    """
    if isinstance(data, dict):
        for key, value in data.items():
            here = f"{path}.{key}" if path else str(key)
            if SECRET_KEY.search(str(key)) and not isinstance(value, dict | list):
                yield here
            else:
                yield from inline_secrets(value, here)
    elif isinstance(data, list):
        for i, value in enumerate(data):
            yield from inline_secrets(value, f"{path}[{i}]")
    elif isinstance(data, str) and "://" in data:
        try:
            if urlsplit(data).password:
                yield path
        except ValueError:
            return
