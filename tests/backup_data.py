"""Backups made by the real tools for the backup self-tests (and the benchmark).

pg_dump (custom and plain) against a real PostgreSQL, the sqlite3 backup API, the dump.rdb
a real redis-server writes on BGSAVE, tar.gz of a folder, sha256sum manifests; and the
faults the checks must catch: mtime set back, truncation, a flipped byte, a corrupt page.
"""

from __future__ import annotations

import os
import secrets
import shutil
import sqlite3
import subprocess
import tarfile
import time
from pathlib import Path
from typing import Any

from opscheck.targets.backup.tools import find_tool

HOUR = 3600
DAY = 86400


def set_age(path: Path, seconds: float) -> Path:
    """Set ``path``'s mtime (and atime) ``seconds`` into the past."""
    when = time.time() - seconds
    os.utime(path, (when, when))
    return path


def truncate(path: Path, keep: float = 0.5) -> Path:
    """Cut ``path`` to ``keep`` of its size (a dump killed midway)."""
    size = path.stat().st_size
    with path.open("r+b") as handle:
        handle.truncate(int(size * keep))
    return path


def flip_byte(path: Path, offset: int | None = None) -> Path:
    """Invert one byte (the middle one by default)."""
    with path.open("r+b") as handle:
        where = path.stat().st_size // 2 if offset is None else offset
        handle.seek(where)
        byte = handle.read(1)
        handle.seek(where)
        handle.write(bytes([byte[0] ^ 0xFF]))
    return path


def sha256sums(folder: Path, names: list[str], manifest: str = "SHA256SUMS") -> Path:
    """Write ``manifest`` in ``folder`` with the real sha256sum tool."""
    out = subprocess.run(["sha256sum", "--", *names], cwd=folder, check=True, timeout=60,
                         capture_output=True, text=True).stdout
    (folder / manifest).write_text(out)
    return folder / manifest


# -- PostgreSQL ----------------------------------------------------------------------------
def pg_source(server: Any, rows: int = 100, pad: int = 0) -> str:
    """A new database on ``server`` with tables stories (``rows``) and events (2 × rows)."""
    name = f"src_{secrets.token_hex(4)}"
    server.psql(f"CREATE DATABASE {name}")
    filler = (f", (SELECT string_agg(md5((g * 64 + i)::text), '') FROM generate_series(1, "
              f"{max(1, pad // 32)}) i)") if pad else ", ''"
    server.psql(
        "CREATE TABLE stories (id int PRIMARY KEY, title text, body text);"
        "CREATE TABLE events (id bigserial PRIMARY KEY, story int REFERENCES stories(id));"
        f"INSERT INTO stories SELECT g, 'story ' || g {filler} FROM generate_series(1, {rows}) g;"
        f"INSERT INTO events (story) SELECT 1 + g % {rows} FROM generate_series(1, {2 * rows}) g;",
        db=name)
    return name


def pg_dump(server: Any, db: str, path: Path, fmt: str = "custom") -> Path:
    """``pg_dump --format=custom|plain`` of ``db`` into ``path``."""
    args = [find_tool("pg_dump"), f"--format={fmt}", f"--file={path}", server.dsn_for(db)]
    env = {k: v for k, v in os.environ.items() if not k.startswith("PG")}
    subprocess.run(args, check=True, timeout=300, env=env, capture_output=True)
    return path


# -- SQLite --------------------------------------------------------------------------------
def sqlite_source(path: Path, rows: int = 100, pad: int = 0) -> Path:
    """A live SQLite database (WAL, like the coordination DB) with ``rows`` tests."""
    conn = sqlite3.connect(path)
    with conn:
        conn.execute("PRAGMA journal_mode=wal")
        conn.execute("CREATE TABLE IF NOT EXISTS tests (id INTEGER PRIMARY KEY, status TEXT, "
                     "body TEXT)")
        conn.executemany("INSERT INTO tests (status, body) VALUES ('pending', ?)",
                         (("x" * pad,) for _ in range(rows)))
    conn.close()
    return path


def sqlite_backup(source: Path, target: Path) -> Path:
    """The sqlite3 online backup API (what ``sqlite3 db ".backup file"`` uses)."""
    src, dst = sqlite3.connect(source), sqlite3.connect(target)
    with dst:
        src.backup(dst)
    src.close()
    dst.close()
    return target


def corrupt_sqlite(path: Path) -> Path:
    """Overwrite the table's root page with garbage (a bad sector, a torn write)."""
    page = sqlite3.connect(f"file:{path}?mode=ro", uri=True).execute(
        "SELECT rootpage FROM sqlite_master WHERE name='tests'").fetchone()[0]
    size = 4096
    with path.open("r+b") as handle:
        handle.seek((page - 1) * size)
        handle.write(b"\xa5" * size)
    return path


# -- Redis, tar ----------------------------------------------------------------------------
def redis_rdb(server: Any, target: Path, keys: int = 200) -> Path:
    """Fill a real redis-server, BGSAVE, wait for it, copy its dump.rdb to ``target``."""
    client = server.client()
    client.mset({f"story:{i}": "x" * 40 for i in range(keys)})
    client.bgsave()
    deadline = time.monotonic() + 15
    while True:
        info = client.info("persistence")
        if not info["rdb_bgsave_in_progress"] and info["rdb_changes_since_last_save"] == 0:
            break
        if time.monotonic() > deadline:
            raise TimeoutError("BGSAVE did not finish in 15 s")
        time.sleep(0.05)
    shutil.copyfile(server.rdb_path, target)
    return target


def config_tree(root: Path) -> Path:
    """config/ .env .orchestrator-state.json, as the orchestrator runbook backs up."""
    (root / "config").mkdir(parents=True, exist_ok=True)
    (root / "config" / "orchestrator-config.yaml").write_text("safety:\n  auto_approve: false\n")
    (root / "config" / "limits.toml").write_text("[cost]\ndaily = 50\n")
    (root / ".env").write_text("MODE=production\n")
    (root / ".orchestrator-state.json").write_text('{"state": "running", "tasks": []}')
    return root


def tarball(source: Path, target: Path) -> Path:
    """``tar -czf target -C source .`` through tarfile."""
    with tarfile.open(target, "w:gz") as tar:
        for entry in sorted(source.iterdir()):
            tar.add(entry, arcname=entry.name)
    return target
