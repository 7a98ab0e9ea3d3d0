"""Secrets: named in the inventory by environment variable, resolved at load, redacted everywhere.

The inventory never holds a secret, only the name of the variable that does
(``password_env = "REDIS_PASSWORD"``). Every resolved value is remembered here, and
:func:`redact` replaces it with ``***`` in any text that leaves the process: failure
lines, captured output, report properties, audit records, log records.

A secret is masked in every form it takes on its way out (:func:`forms`): as is, JSON- or
repr-escaped (``B4ck\\\\slash``, ``'s3cr3t\\\\n'``), URL-encoded, HTML-escaped and
base64-encoded at any offset (so inside ``Basic base64(user:password)`` too). Overlapping
secrets are masked as the union of their matches, so one inside another (``s3cr3t`` and
``s3cr3t-prod``) leaks nothing.

Names are never masked: the names of the inventory and the suite (system, components,
kinds, thresholds, check ids) are data, not secrets. The reports keep them in their own
fields, which :func:`redact_any` leaves alone (:data:`NAME_KEYS`); in free text a name that
holds a secret (``wave-postgres`` with the password ``postgres``) is kept whole
(:func:`protect`), and the secret is masked everywhere else. A secret that is short, or
equal to or inside a name, is weak: :func:`weak` says so at load (the report header).
"""

from __future__ import annotations

import base64
import contextlib
import html
import json
import logging
import os
import re
from collections.abc import Iterable, Iterator
from functools import cache
from typing import Any
from urllib.parse import quote, quote_plus, unquote, urlsplit

MASK = "***"
#: a secret shorter than this is reported as weak when the inventory loads
MIN_LENGTH = 8
#: fields of report documents that hold names, never masked
NAME_KEYS = frozenset({"id", "check", "params", "tier", "kind", "component", "system",
                       "metric", "unit", "state", "direction"})

#: keys that would hold a secret inline; their ``*_env`` twins hold a variable name instead
#: (AWS's ``aws_secret_access_key``, ``aws_access_key_id`` and ``aws_session_token`` too)
SECRET_KEY = re.compile(r"(^|_)(password|passwd|passphrase|secret|token|api_?key|credentials?|"
                        r"secret_access_key|access_key(_id)?)$", re.IGNORECASE)
#: query parameters and libpq keywords that carry a secret
SECRET_PARAM = re.compile(r"(^|[_-]|ssl)(password|passwd|pass|pwd|passphrase|secret|token|"
                          r"access[_-]?token|auth|api[_-]?key|apikey|key|sig|signature)$",
                          re.IGNORECASE)
#: URL schemes whose user part alone is a token (``nats://TOKEN@host``)
TOKEN_USER_SCHEMES = ("nats", "tls")
URL = re.compile(r"[A-Za-z][A-Za-z0-9+.-]*://[^\s\"'<>]+")
#: a libpq key=value connection string (``host=db password = x``)
KEYWORDS = re.compile(r"^\s*(?:[A-Za-z_]\w*\s*=\s*(?:'(?:[^'\\]|\\.)*'|[^\s']*)\s*)+$")
KEYWORD = re.compile(r"([A-Za-z_]\w*)\s*=")


class WeakSecret(UserWarning):
    """A secret that is short, or equal to or inside a name (see :func:`weak`)."""


_values: set[str] = set()
_vars: dict[str, str] = {}
_names: set[str] = set()


def remember(value: str) -> None:
    """Register a secret value so that :func:`redact` hides it (in all its forms)."""
    if value and value not in _values:
        _values.add(value)
        _matcher.cache_clear()


def protect(names: Iterable[str]) -> None:
    """Register names (components, kinds, check ids): text that holds one is kept whole."""
    fresh = {n for n in names if n} - _names
    if fresh:
        _names.update(fresh)
        _matcher.cache_clear()


def forms(value: str) -> set[str]:
    """The forms ``value`` can take in text that leaves the process."""
    bases = {value, value.strip()} - {""}
    found = set(bases)
    for base in bases:
        once = {_json(base), _json(base, ascii_only=True), repr(base)[1:-1], _unicode(base),
                html.escape(base), html.escape(base, quote=False),
                repr(base.encode())[2:-1]}
        found |= once
        found |= {f(x) for x in once for f in (_json, lambda s: repr(s)[1:-1])}
        found |= {quote(base, safe=""), quote_plus(base), quote(base)}
        found |= {re.sub("%[0-9A-F]{2}", lambda m: m.group().lower(), f)
                  for f in (quote(base, safe=""), quote_plus(base))}
        found |= set(_base64(base.encode()))
    return {f for f in found if f == value or len(f) >= 4}


def _json(text: str, ascii_only: bool = False) -> str:
    return json.dumps(text, ensure_ascii=ascii_only)[1:-1]


def _unicode(text: str) -> str:
    return text.encode("unicode_escape").decode("ascii")


def _base64(data: bytes, shortest: int = 6) -> Iterator[str]:
    """The base64 characters that ``data`` alone decides, at each of the 3 offsets it can
    start at within a longer encoded text (``user:`` before a password), both alphabets."""
    for offset in range(3):
        encoded = base64.b64encode(bytes(offset) + data + bytes(3)).decode()
        first = -(-8 * offset // 6)  # the first character with no bits of the prefix
        last = (8 * (offset + len(data))) // 6  # the first with bits of what follows
        fragment = encoded[first:last]
        if len(fragment) >= shortest:
            yield fragment
            yield fragment.translate(str.maketrans("+/", "-_"))
    yield base64.b64encode(data).decode()


@cache
def _matcher() -> tuple[list[str], list[str]]:
    """(the secrets' forms, the names that hold one), longest first."""
    found = set().union(*(forms(v) for v in _values)) if _values else set()
    names = {n for n in _names if n not in found and any(f in n for f in found)}
    return sorted(found, key=len, reverse=True), sorted(names, key=len, reverse=True)


def _spans(text: str, needles: list[str]) -> list[tuple[int, int]]:
    """Every (start, end) where one of ``needles`` occurs, overlaps included, sorted."""
    spans = []
    for needle in needles:
        start = text.find(needle)
        while start >= 0:
            spans.append((start, start + len(needle)))
            start = text.find(needle, start + 1)
    return sorted(spans)


def _masked(text: str) -> list[tuple[int, int]]:
    """The merged spans of ``text`` to mask: secrets' forms outside the protected names."""
    secret_forms, names = _matcher()
    kept = _spans(text, names)
    merged: list[list[int]] = []
    for start, end in _spans(text, secret_forms):
        if any(a <= start and end <= b for a, b in kept):
            continue  # inside a name: the name is shown whole
        if merged and start <= merged[-1][1]:
            merged[-1][1] = max(merged[-1][1], end)
        else:
            merged.append([start, end])
    return [(a, b) for a, b in merged]


def redact(text: str) -> str:
    """``text`` with every remembered secret, in every form, replaced by ``***``."""
    if not _values or not text:
        return text
    spans = _masked(text)
    if not spans:
        return text
    out, at = [], 0
    for start, end in spans:
        out += [text[at:start], MASK]
        at = end
    out.append(text[at:])
    return "".join(out)


def excerpt(text: str, limit: int) -> str:
    """The start of ``text`` for a message, redacted before it is cut (cut first, the part
    of a secret left before the cut would not match and would show)."""
    return redact(text)[:limit]


def redact_any(obj: Any, keep: frozenset[str] = NAME_KEYS) -> Any:
    """Redact strings inside lists, tuples and dicts, except the values of the name keys
    ``keep``; other objects pass unchanged."""
    if isinstance(obj, str):
        return redact(obj)
    if isinstance(obj, dict):
        return {k: v if k in keep else redact_any(v, keep) for k, v in obj.items()}
    if isinstance(obj, list | tuple):
        return type(obj)(redact_any(v, keep) for v in obj)
    return obj


def contains_secret(text: str) -> bool:
    return bool(_values) and bool(text) and bool(_masked(text))


def resolve(var: str) -> str | None:
    """The value of environment variable ``var``, remembered for redaction; None if unset."""
    value = os.environ.get(var)
    if value is not None:
        remember(value)
        _vars[var] = value
    return value


def weak(names: Iterable[str]) -> dict[str, str]:
    """variable -> one line, for each resolved variable whose secret is short, or equal to
    or inside one of ``names``: it is still masked, but where that name is shown whole it
    shows too."""
    names = set(names)
    found = {}
    for var, value in sorted(_vars.items()):
        if not value:
            continue
        why = [f"is {len(value)} characters (fewer than {MIN_LENGTH})"] \
            if len(value) < MIN_LENGTH else []
        inside = sorted(n for n in names if value in n)
        if inside:
            shown = ", ".join(repr(n) for n in inside[:3])
            more = f" and {len(inside) - 3} more" if len(inside) > 3 else ""
            why.append(f"is equal to or inside the name{'s' if len(inside) > 1 else ''} "
                       f"{shown}{more}")
        if why:
            found[var] = (f"the secret in {var} {' and '.join(why)}: it is masked in messages "
                          "but names are shown whole; use a long random secret")
    return found


class _Redacting(logging.Filter):
    """Redacts a log record's message (its arguments merged in) before any handler."""

    def filter(self, record: logging.LogRecord) -> bool:
        if _values:
            try:
                message = record.getMessage()
            except Exception:  # arguments that do not fit the format: logging reports it
                return True
            if contains_secret(message):
                record.msg, record.args = redact(message), None
        return True


_factory = logging.getLogRecordFactory()


def _record(*args: Any, **kwargs: Any) -> logging.LogRecord:
    record = _factory(*args, **kwargs)
    _Redacting().filter(record)
    return record


def redact_logs() -> None:
    """Redact every log record as it is made (any logger, any handler: live logs, log
    files, captured logs)."""
    logging.setLogRecordFactory(_record)


def scrub_exception(exc: BaseException) -> None:
    """Mask secrets in ``exc`` and its causes in place, so that no report, log or debug
    trace made from the exception carries them (its type and traceback are kept)."""
    seen: set[int] = set()
    current: BaseException | None = exc
    while current is not None and id(current) not in seen and _values:
        seen.add(id(current))
        for attr in ("msg", "strerror", "filename", "filename2", "reason"):
            value = getattr(current, attr, None)
            if isinstance(value, str) and contains_secret(value):
                with contextlib.suppress(AttributeError, TypeError):
                    setattr(current, attr, redact(value))
        for attr, value in list(getattr(current, "__dict__", {}).items()):
            if isinstance(value, str | list | tuple | dict):  # state its own __str__ may read
                with contextlib.suppress(AttributeError, TypeError):
                    setattr(current, attr, redact_any(value, frozenset()))
        try:  # inside its objects too (a list, a dict), so that its own text stays its text
            current.args = tuple(redact_any(a, frozenset()) for a in current.args)
        except TypeError:
            current.args = tuple(redact(a) if isinstance(a, str) else a for a in current.args)
        if contains_secret(_shown(current)):  # built from other objects still: flatten it
            current.args = (redact(str(current)),)
        current = current.__cause__ or current.__context__


def _shown(exc: BaseException) -> str:
    """What a report would show of ``exc`` (empty when its own ``__str__`` fails)."""
    try:
        return f"{exc!s} {exc!r}"
    except Exception:
        return ""


def _names_only(value: Any) -> bool:
    """A table whose values are all environment variable names."""
    return isinstance(value, dict) and all(
        isinstance(v, str) and re.fullmatch(r"[A-Za-z_][A-Za-z0-9_]*", v) for v in value.values())


def inline_secrets(data: Any, path: str = "") -> Iterable[str]:
    """Dotted paths in raw inventory data where a secret is written inline.

    A key like ``password`` or ``api_key`` with a value; a URL with a password
    (``redis://:hunter2@host``), a secret query parameter (``?password=``, ``?token=``,
    ``?api_key=``, percent-encoded or not) or a token as its user (``nats://TOKEN@host``);
    a libpq connection string with a ``password`` keyword. ``password_env`` is the
    allowed form.
    """
    if isinstance(data, dict):
        for key, value in data.items():
            here = f"{path}.{key}" if path else str(key)
            if key == "env" and _names_only(value):
                continue  # a command's env: { TOKEN = "GITHUB_TOKEN" } names variables
            if SECRET_KEY.search(str(key)) and not isinstance(value, dict | list):
                yield here
            else:
                yield from inline_secrets(value, here)
    elif isinstance(data, list):
        for i, value in enumerate(data):
            yield from inline_secrets(value, f"{path}[{i}]")
    elif isinstance(data, str) and _holds_secret(data):
        yield path


def _holds_secret(text: str) -> bool:
    if KEYWORDS.match(text) and any(SECRET_PARAM.search(k) for k in KEYWORD.findall(text)):
        return True
    return any(_url_holds_secret(url) for url in URL.findall(text))


def _url_holds_secret(url: str) -> bool:
    try:
        parts = urlsplit(url)
        password, user = parts.password, parts.username
    except ValueError:
        return False
    if password or (user and parts.scheme.lower() in TOKEN_USER_SCHEMES and not password):
        return True
    for pair in re.split("[&;]", parts.query):
        name = unquote(pair.partition("=")[0]).strip()
        if name and SECRET_PARAM.search(name) and pair.partition("=")[2]:
            return True
    return False
