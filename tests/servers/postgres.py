"""A throwaway PostgreSQL cluster on loopback."""

from __future__ import annotations

import atexit
import os
import shutil
import signal
import subprocess
import time
import urllib.parse
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from .base import ServerError, _ServerProcess, log_tail, make_owned_tempdir, require_binary

PG_VERSION = "15"

_PG_TEMPLATES: dict[tuple[str, str | None], Path] = {}


@atexit.register
def _remove_pg_templates() -> None:
    for data_dir in _PG_TEMPLATES.values():
        shutil.rmtree(data_dir.parent, ignore_errors=True)


def _pg_bindir() -> Path:
    override = os.environ.get("OPSCHECK_PG_BINDIR")
    if override:
        return Path(override)
    preferred = Path(f"/usr/lib/postgresql/{PG_VERSION}/bin")
    if preferred.is_dir():
        return preferred
    found = sorted(Path("/usr/lib/postgresql").glob("*/bin"))
    return found[-1] if found else preferred


class PostgresServer(_ServerProcess):
    """A throwaway PostgreSQL cluster run as the ``postgres`` user (it refuses root).

    ``dir`` is chowned to postgres and must be reachable by that user (its parents need
    o+x: pytest's tmp_path is not, use ``make_owned_tempdir()``). With ``template`` the
    cluster is copied from one initdb per process instead of running initdb each time.
    """

    name = "postgres"
    stop_signal = signal.SIGINT  # what `pg_ctl stop -m fast` sends
    os_user = "postgres"

    def __init__(
        self,
        dir: str | Path,
        port: int | None = None,
        max_connections: int = 30,
        password: str | None = None,
        settings: Mapping[str, str | int] | None = None,
        template: bool = True,
    ) -> None:
        bindir = _pg_bindir()
        package = f"postgresql-{PG_VERSION}"
        self.postgres_bin = require_binary("postgres", package, bindir / "postgres")
        self.initdb_bin = require_binary("initdb", package, bindir / "initdb")
        self.pg_isready_bin = require_binary("pg_isready", package, bindir / "pg_isready")
        self.psql_bin = require_binary("psql", "postgresql-client-15", bindir / "psql")
        super().__init__(dir, port)
        self.max_connections = max_connections
        self.password = password
        self.settings = dict(settings or {})
        self.template = template
        self.data_dir = self.dir / "data"
        self.socket_dir = self.dir / "sock"
        self.initdb_seconds: float | None = None
        self._check_owner_dir()

    # -- helpers -----------------------------------------------------------------------
    def _as_postgres(self) -> dict[str, Any]:
        env = {k: v for k, v in os.environ.items() if not k.startswith(("PG", "LC_", "LANG"))}
        env.update(HOME=str(self.dir), LC_ALL="C.UTF-8", LANG="C.UTF-8")
        return {
            "user": self.os_user,
            "group": self.os_user,
            "extra_groups": [],
            "cwd": str(self.dir),
            "env": env,
        }

    def _check_owner_dir(self) -> None:
        try:
            shutil.chown(self.dir, self.os_user, self.os_user)
        except (LookupError, PermissionError) as exc:
            raise ServerError(f"cannot chown {self.dir} to {self.os_user}: {exc}") from exc
        probe = subprocess.run(
            ["test", "-w", str(self.dir), "-a", "-x", str(self.dir)],
            timeout=10,
            check=False,
            **{**self._as_postgres(), "cwd": "/"},
        )
        if probe.returncode != 0:
            raise ServerError(
                f"user {self.os_user} cannot write {self.dir}: a parent directory is not "
                "traversable (e.g. pytest's 0700 tmp dirs); use tempfile.mkdtemp()"
            )

    def _run_initdb(self, data_dir: Path) -> None:
        args = [
            self.initdb_bin,
            "-D",
            str(data_dir),
            "-U",
            "postgres",
            "--encoding=UTF8",
            "--locale=C.UTF-8",
            "--no-sync",
            "--auth=trust",
        ]
        pwfile = data_dir.parent / "pwfile"
        if self.password:
            pwfile.write_text(self.password + "\n")
            shutil.chown(pwfile, self.os_user, self.os_user)
            args += ["--auth-host=scram-sha-256", "--auth-local=trust", f"--pwfile={pwfile}"]
        with self.log_path.open("ab") as log:
            try:
                result = subprocess.run(
                    args,
                    stdout=log,
                    stderr=subprocess.STDOUT,
                    timeout=120,
                    check=False,
                    **self._as_postgres(),
                )
            finally:
                pwfile.unlink(missing_ok=True)
        if result.returncode != 0:
            raise ServerError(
                f"initdb failed with code {result.returncode}; last log lines "
                f"({self.log_path}):\n{log_tail(self.log_path)}"
            )

    def _initdb(self) -> None:
        """initdb once per process and password, then copy the cluster (saves ~0.6 s)."""
        if (self.data_dir / "PG_VERSION").exists():
            return
        t0 = time.monotonic()
        if not self.template:
            self._run_initdb(self.data_dir)
        else:
            key = (self.initdb_bin, self.password)
            tpl = _PG_TEMPLATES.get(key)
            if tpl is None or not (tpl / "PG_VERSION").exists():
                tpl = make_owned_tempdir("opscheck-pgtpl-", self.os_user) / "data"
                self._run_initdb(tpl)
                _PG_TEMPLATES[key] = tpl
            copied = subprocess.run(
                ["cp", "-a", str(tpl), str(self.data_dir)],
                capture_output=True,
                text=True,
                timeout=120,
                check=False,
            )
            if copied.returncode != 0:
                raise ServerError(f"copying the initdb template failed: {copied.stderr.strip()}")
        self.initdb_seconds = time.monotonic() - t0

    # -- lifecycle hooks ---------------------------------------------------------------
    def _prepare(self) -> None:
        self.socket_dir.mkdir(exist_ok=True)
        shutil.chown(self.socket_dir, self.os_user, self.os_user)
        self.log_path.touch()
        self._initdb()

    def _command(self) -> list[str]:
        conf: dict[str, str | int] = {
            "listen_addresses": self.host,
            "port": self.port,
            "unix_socket_directories": str(self.socket_dir),
            "max_connections": self.max_connections,
            "fsync": "off",
            "synchronous_commit": "off",
            "full_page_writes": "off",
            "shared_buffers": "32MB",
            "logging_collector": "off",
        }
        conf.update(self.settings)
        args = [self.postgres_bin, "-D", str(self.data_dir)]
        for key, value in conf.items():
            args += ["-c", f"{key}={value}"]
        return args

    def _popen_kwargs(self) -> dict[str, Any]:
        return self._as_postgres()

    def _ready(self) -> bool:
        result = subprocess.run(
            [self.pg_isready_bin, "-h", self.host, "-p", str(self.port), "-t", "1", "-q"],
            timeout=5,
            check=False,
            env=self._client_env(),
        )
        return result.returncode == 0

    # -- public API --------------------------------------------------------------------
    def dsn_for(self, dbname: str, user: str = "postgres") -> str:
        """libpq URI for ``dbname`` as ``user`` (password included for postgres)."""
        auth = urllib.parse.quote(user, safe="")
        if self.password and user == "postgres":
            auth += ":" + urllib.parse.quote(self.password, safe="")
        return f"postgresql://{auth}@{self.host}:{self.port}/{urllib.parse.quote(dbname)}"

    @property
    def dsn(self) -> str:
        return self.dsn_for("postgres")

    def _client_env(self) -> dict[str, str]:
        env = {k: v for k, v in os.environ.items() if not k.startswith("PG")}
        env["PGCONNECT_TIMEOUT"] = "5"
        if self.password:
            env["PGPASSWORD"] = self.password
        return env

    def psql(self, sql: str, db: str = "postgres", user: str = "postgres") -> str:
        """Run SQL with the psql CLI over TCP; return unaligned, tuples-only output."""
        result = subprocess.run(
            [
                self.psql_bin,
                "-X",
                "-q",
                "-A",
                "-t",
                "-v",
                "ON_ERROR_STOP=1",
                "-h",
                self.host,
                "-p",
                str(self.port),
                "-U",
                user,
                "-d",
                db,
                "-c",
                sql,
            ],
            capture_output=True,
            text=True,
            timeout=60,
            check=False,
            env=self._client_env(),
        )
        if result.returncode != 0:
            raise ServerError(f"psql failed ({result.returncode}): {result.stderr.strip()}")
        return result.stdout.rstrip("\n")

    def query(self, sql: str, params: Sequence[Any] | None = None, db: str = "postgres") -> list:
        """Run SQL with psycopg 3 (autocommit); return fetched rows (or [])."""
        try:
            import psycopg
        except ImportError as exc:
            raise ServerError(
                "psycopg 3 is not installed: pip install 'psycopg[binary]' "
                "(Debian: python3-psycopg)"
            ) from exc
        with psycopg.connect(self.dsn_for(db), autocommit=True, connect_timeout=5) as conn:
            cur = conn.execute(sql, params)
            return cur.fetchall() if cur.description else []

    def createdb(self, name: str) -> str:
        """CREATE DATABASE ``name``; return its DSN."""
        ident = '"' + name.replace('"', '""') + '"'
        self.psql(f"CREATE DATABASE {ident}")
        return self.dsn_for(name)
