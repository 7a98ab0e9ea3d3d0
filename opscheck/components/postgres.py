"""A PostgreSQL (or TimescaleDB) server: the runbooks' state stores.

Give opscheck a role of its own, without write rights: a member of ``pg_monitor`` (it reads
every session's ``pg_stat_activity`` row, the replication views and ``pg_ls_waldir()``),
with ``CONNECT`` on the database, ``USAGE`` on the schemas and ``SELECT`` on the tables its
probes read, and nothing else: not a superuser, no ``INSERT``/``UPDATE``/``DELETE``, no
``pg_signal_backend``, no ``pg_write_server_files``::

    CREATE ROLE opscheck LOGIN PASSWORD '…' IN ROLE pg_monitor;
    ALTER ROLE opscheck SET default_transaction_read_only = on;
    GRANT CONNECT ON DATABASE app TO opscheck;
    GRANT USAGE ON SCHEMA public TO opscheck;
    GRANT SELECT ON public.stories, public.heartbeats TO opscheck;

opscheck itself runs every query read-only and refuses probes that are not one SELECT, or
that call a function acting beyond the transaction (:mod:`opscheck.readonly.postgres`); the
role is the guard for what it cannot see (the body of a view or function). The standard
check ``test_postgres_role_not_superuser`` warns when the role is a superuser.
"""

from __future__ import annotations

from typing import ClassVar, Literal
from urllib.parse import urlsplit

from pydantic import Field, field_validator

from opscheck.components import Component
from opscheck.thresholds import Threshold, Thresholds, level


class PostgresThresholds(Thresholds):
    """Connections at 75/90 % of max_connections ("connection pool exhausted", WAVE); a
    superuser role warns (``superuser``: 1 when it is one)."""

    connections: Threshold = level(75, 90, "%", action="Find the client holding connections "
                                   "(pg_stat_activity); kill idle ones or raise max_connections")
    database_size: Threshold = level(None, None, "MB", action="Archive or prune old data")
    long_queries: Threshold = level(None, 1, action="Kill long-running queries if needed "
                                    "(pg_cancel_backend)")
    idle_in_transaction: Threshold = level(None, 1, action="Terminate the session "
                                           "(pg_terminate_backend) and fix the client")
    wraparound: Threshold = level(50, 75, "%", action="VACUUM FREEZE the oldest database now")
    replication_lag: Threshold = level(30, 300, "s", action="Check the replica's disk, network "
                                       "and pg_stat_wal_receiver")
    superuser: Threshold = level(1, None, action="Connect as a role without write rights "
                                 "(pg_monitor and SELECT grants; see docs/probes.md), not a "
                                 "superuser")


class PostgresComponent(Component):
    kind: Literal["postgres"] = "postgres"
    SECRET_VARS: ClassVar[tuple[str, ...]] = ("password_env",)
    PROBES: ClassVar[tuple[str, ...]] = ("value", "rows")

    dsn: str = Field(default="postgresql://postgres@127.0.0.1:5432/postgres",
                     description="libpq URI or key=value string, without a password")
    password_env: str | None = Field(default=None,
                                      description="environment variable holding the password")
    long_query_minutes: float = Field(default=5, gt=0,
                                      description="a query running longer than this is listed")
    idle_in_transaction_minutes: float = Field(
        default=5, gt=0, description="a session idle in transaction longer than this is listed")
    thresholds: PostgresThresholds = Field(default_factory=PostgresThresholds)

    @field_validator("dsn")
    @classmethod
    def _no_password(cls, value: str) -> str:
        if "password=" in value.replace(" ", "").lower():
            raise ValueError("dsn holds a password; remove it and name the variable that "
                             "holds it with password_env")
        return value

    def query_problem(self, query: str) -> str | None:
        """Why ``query`` may not run as a probe here (not one read-only SELECT), or None."""
        from opscheck.readonly.postgres import functions_of  # pglast: only where needed

        try:
            functions_of(query)
        except ValueError as exc:
            return str(exc)
        return None

    @property
    def address(self) -> str:
        if "://" in self.dsn:
            parts = urlsplit(self.dsn)
            return f"{parts.hostname or 'localhost'}:{parts.port or 5432}{parts.path}"
        return self.dsn
