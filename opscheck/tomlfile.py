"""Reading a TOML file an operator wrote (the inventory, the waivers): whatever is there.

The file must be a regular file (a FIFO, a device or a folder is refused at once, never
waited on) of at most :data:`MAX_BYTES`, UTF-8 (a byte-order mark allowed), and nest its
tables and arrays at most :data:`MAX_DEPTH` deep. Every problem is an
:class:`InventoryError`: one printable line naming the file, the key and the fix.
"""

from __future__ import annotations

import os
import stat
import tomllib
from pathlib import Path
from typing import Any

from opscheck import text

#: an inventory (or waivers file) larger than this is refused: it is no inventory
MAX_BYTES = 1 << 20
#: tables and arrays nested deeper than this are refused (a real inventory needs about 5)
MAX_DEPTH = 16


class InventoryError(Exception):
    """A bad inventory: ``str()`` is the one-line message (file, key, fix), printable
    (control characters and bytes that are not UTF-8 escaped) and capped in length."""

    def __init__(self, path: Path | str, key: str, problem: str) -> None:
        self.path, self.key, self.problem = (text.one_line(str(path)), text.one_line(key),
                                             text.one_line(problem))
        where = f"{self.path}: {self.key}: " if key else f"{self.path}: "
        super().__init__(text.one_line(where + self.problem))


def read_text(path: Path, what: str, fix: str) -> str:
    """The text of ``path``: a regular file of at most :data:`MAX_BYTES`, UTF-8 (a
    byte-order mark allowed). A FIFO, a device or a folder is refused without waiting on
    it. Raises :class:`InventoryError`; ``fix`` says where the path came from."""
    try:  # non-blocking: opening a FIFO must not wait for a writer
        fd = os.open(path, os.O_RDONLY | os.O_NONBLOCK | os.O_CLOEXEC)
    except FileNotFoundError:
        raise InventoryError(path, "", f"{what} file not found; {fix}") from None
    except OSError as exc:
        raise InventoryError(path, "", f"cannot read the {what} ({exc.strerror or exc}); "
                             "check the path and its permissions") from None
    try:
        mode = os.fstat(fd).st_mode
        if not stat.S_ISREG(mode):
            shape = ("a folder" if stat.S_ISDIR(mode) else "a FIFO" if stat.S_ISFIFO(mode)
                     else "a socket" if stat.S_ISSOCK(mode) else "a device")
            raise InventoryError(path, "", f"the {what} file is {shape}, not a regular file; {fix}")
        chunks, size = [], 0
        while size <= MAX_BYTES and (chunk := os.read(fd, 1 << 16)):
            chunks.append(chunk)
            size += len(chunk)
    except OSError as exc:
        raise InventoryError(path, "", f"cannot read the {what} ({exc.strerror or exc}); "
                             "check the path and its permissions") from None
    finally:
        os.close(fd)
    data = b"".join(chunks)
    if len(data) > MAX_BYTES:
        raise InventoryError(path, "", f"the {what} file is larger than {MAX_BYTES >> 20} MiB; "
                             "it cannot be one: check the path")
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise InventoryError(path, "", f"the {what} file is not UTF-8 text (byte {exc.start + 1} "
                             f"is 0x{data[exc.start]:02x}); save it as UTF-8") from None


def parse_toml(source: str, path: Path,
               syntax: str = "TOML syntax error: {}; fix the syntax there") -> dict[str, Any]:
    """``source`` parsed as TOML, nested at most :data:`MAX_DEPTH` deep; ``syntax``: the
    message of a syntax error, ``{}`` its place and reason."""
    try:
        raw = tomllib.loads(source)
    except tomllib.TOMLDecodeError as exc:
        raise InventoryError(path, "", syntax.format(exc)) from None
    except RecursionError:  # the parser recurses per level: far deeper than MAX_DEPTH
        raise InventoryError(path, "", f"tables or arrays nested more than {MAX_DEPTH} levels "
                             "deep; flatten them") from None
    deep = too_deep(raw)
    if deep is not None:
        raise InventoryError(path, deep, f"nested more than {MAX_DEPTH} levels deep; flatten "
                             "it") from None
    return raw


def too_deep(data: Any, limit: int = MAX_DEPTH) -> str | None:
    """The dotted key where ``data`` nests deeper than ``limit``, or None (no recursion)."""
    stack: list[tuple[Any, str, int]] = [(data, "", 0)]
    while stack:
        value, where, depth = stack.pop()
        if depth > limit:
            return where
        if isinstance(value, dict):
            stack += [(v, f"{where}.{k}" if where else str(k), depth + 1)
                      for k, v in value.items()]
        elif isinstance(value, list):
            stack += [(v, f"{where}[{i}]", depth + 1) for i, v in enumerate(value)]
    return None
