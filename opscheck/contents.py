"""What a configuration file holds: JSON, YAML, TOML or dotenv, read as one document.

A dotenv file (``KEY=value`` lines, ``export`` prefixes, quotes, comments) is read with
python-dotenv's parser, strictly: a line it cannot parse makes the file invalid, naming
the line, never its value. Values are never expanded (``${VAR}`` stays as written).
"""

from __future__ import annotations

import io
import json
import tomllib
from pathlib import Path
from typing import Any


class ContentError(ValueError):
    """The file is missing, unreadable or not valid in its format (the message says which)."""


def read_text(path: str | Path) -> str:
    try:
        return Path(path).read_text(encoding="utf-8")
    except FileNotFoundError:
        raise ContentError("is missing") from None
    except IsADirectoryError:
        raise ContentError("is a folder, not a file") from None
    except (OSError, UnicodeDecodeError) as exc:
        raise ContentError(f"cannot be read ({exc})") from None


def parse(text: str, fmt: str) -> Any:
    """``text`` as a document of format ``fmt``; ContentError saying why it is not one."""
    if not text.strip():
        raise ContentError(f"is empty (expected {fmt.upper()})")
    try:
        if fmt == "json":
            return json.loads(text)
        if fmt == "toml":
            return tomllib.loads(text)
        if fmt == "dotenv":
            return dotenv(text)
        import yaml  # lazily: only inventories that list YAML files pay for it

        return yaml.safe_load(text)
    except ContentError:
        raise
    except Exception as exc:  # every parser error is the answer
        raise ContentError(f"is not valid {fmt.upper()}: {' '.join(str(exc).split())}") from None


def dotenv(text: str) -> dict[str, str | None]:
    """The variables of a dotenv file (a name without ``=`` has the value None)."""
    from dotenv.parser import parse_stream

    values: dict[str, str | None] = {}
    for binding in parse_stream(io.StringIO(text)):
        if binding.error:
            line = binding.original.line
            raise ContentError(f"is not valid DOTENV: line {line} is not NAME=value")
        if binding.key is not None:
            values[binding.key] = binding.value
    return values


def load(path: str | Path, fmt: str) -> Any:
    return parse(read_text(path), fmt)
