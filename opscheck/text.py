"""Safe text: what opscheck prints or writes is printable, valid Unicode and of bounded size.

Names, keys, file names and answers come from outside (an inventory edited in a hurry, a
folder of odd files, a peer that misbehaves). Before any of it reaches a terminal or a
report it goes through here:

- :func:`printable` escapes control characters (an ``ESC [31m`` colour code, a carriage
  return that would overwrite a line), Unicode line and direction overrides, and the lone
  surrogates a file name that is not UTF-8 decodes to (``bad-\\xff.json``), so every
  writer can encode the text and no name can forge an ``ERROR:`` line;
- :func:`one_line` does that to newlines too and caps the line at :data:`LIMIT`
  characters, ending it with ``… (N more characters)``.

:func:`opscheck.inventory.InventoryError` and the verdict pipeline's last step
(:func:`opscheck.verdict.sanitize`) apply them to every message; report writers apply
:func:`clean` to the documents they write.
"""

from __future__ import annotations

import math
import re
from typing import Any

#: characters of one message line at most
LIMIT = 2000

#: C0 controls but tab and newline, DEL and C1 controls, lone surrogates, Unicode line
#: separators and bidirectional overrides
_UNSAFE = re.compile("[\x00-\x08\x0b-\x1f\x7f-\x9f\u2028\u2029\u202a-\u202e\u2066-\u2069"
                     "\ud800-\udfff]")
_UNSAFE_LINE = re.compile("[\t\n]|" + _UNSAFE.pattern)
_NAMED = {"\t": "\\t", "\n": "\\n", "\r": "\\r"}


def _escape(match: re.Match[str]) -> str:
    char = match.group()
    if char in _NAMED:
        return _NAMED[char]
    code = ord(char)
    if 0xDC80 <= code <= 0xDCFF:  # a byte that was not UTF-8 (surrogateescape): show the byte
        return f"\\x{code - 0xDC00:02x}"
    return f"\\x{code:02x}" if code <= 0xFF else f"\\u{code:04x}"


def unsafe(text: str) -> bool:
    """Does ``text`` hold a character :func:`printable` would escape?"""
    return _UNSAFE.search(text) is not None


def printable(text: str) -> str:
    """``text`` with unsafe characters escaped (``\\x1b``, ``\\r``, ``\\xff``); tabs and
    newlines kept."""
    return _UNSAFE.sub(_escape, text)


def cap(text: str, limit: int = LIMIT) -> str:
    """``text``, cut at ``limit`` characters with ``… (N more characters)`` when longer."""
    if len(text) <= limit:
        return text
    return f"{text[:limit]}… ({len(text) - limit} more characters)"


def one_line(text: str, limit: int = LIMIT) -> str:
    """``text`` as one printable line of at most ``limit`` characters (plus the count)."""
    return cap(_UNSAFE_LINE.sub(_escape, text), limit)


def lines(text: str, limit: int = LIMIT) -> str:
    """``text`` printable, each of its lines capped (a traceback stays a traceback)."""
    text = printable(text)
    if len(text) <= limit:
        return text
    return "\n".join(cap(line, limit) for line in text.split("\n"))


def clean(obj: Any, finite: bool = True) -> Any:
    """A copy of ``obj`` (dicts, lists, tuples) with every string printable and, with
    ``finite``, non-finite numbers (NaN, infinities) as None: what strict JSON accepts."""
    if isinstance(obj, str):
        return printable(obj)
    if isinstance(obj, float):
        return obj if not finite or math.isfinite(obj) else None
    if isinstance(obj, dict):
        return {clean(k, finite) if isinstance(k, str) else k: clean(v, finite)
                for k, v in obj.items()}
    if isinstance(obj, list | tuple):
        return type(obj)(clean(v, finite) for v in obj)
    return obj
