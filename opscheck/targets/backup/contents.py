"""What a restored tarball or snapshot folder must hold: expected files, present and parseable.

``expected_files`` are globs relative to the archive's (or folder's) root. Each match
that is a file is parsed by its suffix: JSON, TOML, YAML, SQLite (``quick_check``), gzip
(read to the end), Redis RDB (``redis-check-rdb``), a plain pg_dump (completion marker);
any other file must be readable. A matched folder must hold at least one file.
"""

from __future__ import annotations

import json
import tomllib
from collections.abc import Callable
from pathlib import Path

from opscheck.targets.backup.archives import READERS, drain, open_maybe_compressed, sqlite_check
from opscheck.targets.backup.sets import Backup
from opscheck.targets.backup.tools import BackupProblem, Deadline, OverBudget


def _json(path: Path, deadline: Deadline) -> None:
    json.loads(path.read_bytes())


def _toml(path: Path, deadline: Deadline) -> None:
    tomllib.loads(path.read_text(encoding="utf-8"))


def _yaml(path: Path, deadline: Deadline) -> None:
    import yaml  # lazily: only tarball contents need it

    list(yaml.safe_load_all(path.read_text(encoding="utf-8")))


def _sqlite(path: Path, deadline: Deadline) -> None:
    sqlite_check(path, "quick_check", deadline)


def _compressed(path: Path, deadline: Deadline) -> None:
    with open_maybe_compressed(path) as stream:
        drain(stream, deadline)


def _via(fmt: str) -> Callable[[Path, Deadline], None]:
    def parse(path: Path, deadline: Deadline) -> None:
        st = path.stat()
        READERS[fmt](Backup(path, st.st_mtime, st.st_size, 1), deadline, None)
    return parse


def _readable(path: Path, deadline: Deadline) -> None:
    with path.open("rb") as handle:
        drain(handle, deadline)


PARSERS: dict[str, Callable[[Path, Deadline], None]] = {
    ".json": _json, ".toml": _toml, ".yaml": _yaml, ".yml": _yaml,
    ".db": _sqlite, ".sqlite": _sqlite, ".sqlite3": _sqlite,
    ".gz": _compressed, ".bz2": _compressed, ".xz": _compressed,
    ".rdb": _via("redis_rdb"), ".sql": _via("pg_plain"),
}


def check_expected(root: Path, expected: list[str], deadline: Deadline) -> tuple[int, list[str]]:
    """(files parsed, problems): each expected glob must match, each match must parse."""
    problems: list[str] = []
    parsed = 0
    for pattern in expected:
        matches = sorted(root.glob(pattern.strip("/")))
        if not matches:
            problems.append(f"{pattern} is missing")
            continue
        for path in matches:
            deadline.left()
            rel = path.relative_to(root)
            if path.is_dir():
                if not any(p.is_file() for p in path.rglob("*")):
                    problems.append(f"{rel}/ holds no files")
                continue
            parser = PARSERS.get(path.suffix.lower(), _readable)
            try:
                parser(path, deadline)
                parsed += 1
            except OverBudget:
                raise
            except BackupProblem as exc:
                problems.append(f"{rel}: {exc}")
            except (ValueError, OSError, EOFError) as exc:
                problems.append(f"{rel} does not parse: {type(exc).__name__}: "
                                f"{str(exc).splitlines()[0] if str(exc) else ''}")
            except Exception as exc:  # yaml's errors and the like
                problems.append(f"{rel} does not parse: {type(exc).__name__}")
    return parsed, problems
