"""PostgreSQL: a probe is one SELECT that calls no function acting beyond its transaction.

Four layers, each PostgreSQL's own machinery:

1. **The statement**, parsed by PostgreSQL's own parser (pglast wraps libpg_query), at load
   and again before each run (:func:`functions_of`): exactly one statement, a ``SELECT``
   (``VALUES``, ``TABLE`` and ``WITH … SELECT`` are SELECTs), without ``INTO`` (creates a
   table), ``FOR UPDATE``/``FOR SHARE`` (locks rows, takes a transaction ID) or a
   data-modifying ``WITH`` (``INSERT``, ``UPDATE``, ``DELETE``, ``MERGE``). So
   ``SET TRANSACTION READ WRITE; DELETE …; COMMIT; SELECT 1``, ``COPY … TO PROGRAM`` and
   ``COPY … TO 'file'`` never reach the server.
2. **The functions it calls**, judged by the server's catalog (``pg_proc``) before the
   probe first runs (:func:`function_problem`). A read-only transaction already stops
   every write to a table; what it cannot stop is a function acting outside it. PostgreSQL
   marks those itself, and a function is refused when it is

   - ``PARALLEL UNSAFE``: PostgreSQL's marking for functions that write, use sequences,
     change the transaction state or make lasting changes to settings, and the default of
     every function created without ``PARALLEL SAFE``: ``set_config``, ``nextval``,
     ``setval``, ``lo_import``/``lo_export`` (server files), replication slots,
     ``query_to_xml`` (runs SQL text), ``txid_current`` (takes a transaction ID), and
     every user function not declared otherwise;
   - ``VOLATILE`` and ``PARALLEL RESTRICTED``: session state a parallel worker cannot
     share: advisory locks, ``pg_notify``, backup control, ``dblink``'s connections to
     elsewhere, ``setseed``;
   - ``VOLATILE`` and not executable by ``PUBLIC`` nor by a read-only predefined role
     (:data:`READ_ROLES`): the administration functions PostgreSQL keeps to superusers
     (``pg_reload_conf``, ``pg_switch_wal``, ``pg_promote``, ``pg_stat_reset*``,
     ``pg_read_file``), while the readers it grants to ``pg_monitor`` (``pg_ls_waldir``)
     stay allowed.

   The flags miss three, refused by name at load (:data:`ACTS_ANYWAY`):
   ``pg_cancel_backend`` and ``pg_terminate_backend`` are volatile, parallel safe and
   executable by everyone, yet end other sessions' queries and sessions;
   ``pg_rotate_logfile_old`` is executable by everyone and checks for a superuser inside.
   The rule was reviewed against every volatile function of PostgreSQL 15's catalog:
   ``tests/test_readonly_postgres.py`` holds the ones it allows, each read as harmless, and
   fails on any new one.
3. **The protocol**: every query is sent with the extended query protocol, which refuses a
   string of several statements (``cannot insert multiple commands into a prepared
   statement``).
4. **The session**: ``default_transaction_read_only=on``, ``statement_timeout``, and each
   query in its own transaction that is rolled back.

Not inspected: the bodies of views and of functions the rule allows. There the read-only
transaction and the role are the guard: connect as a role without write rights
(``pg_monitor`` and ``SELECT`` grants; a standard check warns on a superuser).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from pglast import ast, parse_sql, visitors
from pglast.parser import ParseError

#: functions PostgreSQL's flags call harmless that act: refused by name
ACTS_ANYWAY = {"pg_cancel_backend": "cancels other sessions' queries",
               "pg_terminate_backend": "ends other sessions",
               "pg_rotate_logfile_old": "rotates the server's log"}
#: PostgreSQL's predefined roles that only read; a function granted to one is a reader
READ_ROLES = ("pg_monitor", "pg_read_all_settings", "pg_read_all_stats", "pg_stat_scan_tables",
              "pg_read_all_data")
MODIFYING = {"InsertStmt": "INSERT", "UpdateStmt": "UPDATE", "DeleteStmt": "DELETE",
             "MergeStmt": "MERGE"}

Function = tuple[str | None, str]  # (schema or None, name)

CATALOG = """
SELECT p.provolatile AS volatility, p.proparallel AS parallel,
       (p.proacl IS NULL OR EXISTS (
            SELECT 1 FROM aclexplode(p.proacl) AS a
            WHERE a.privilege_type = 'EXECUTE'
              AND (a.grantee = 0 OR a.grantee IN (SELECT oid FROM pg_roles
                                                  WHERE rolname = ANY(%(readers)s))))) AS open
FROM pg_proc AS p JOIN pg_namespace AS n ON n.oid = p.pronamespace
WHERE p.proname = %(name)s
  AND n.nspname = ANY(CASE WHEN %(schema)s::text IS NULL THEN current_schemas(true)
                           ELSE ARRAY[%(schema)s::name] END)
"""


def functions_of(query: str) -> tuple[Function, ...]:
    """The functions ``query`` calls; ValueError (one line) when it cannot be a probe."""
    try:
        statements = parse_sql(query)
    except ParseError as exc:
        where = f" at character {exc.args[1] + 1}" if len(exc.args) > 1 else ""
        raise ValueError(f"is not valid SQL: {exc.args[0]}{where}") from None
    if len(statements) != 1:
        raise ValueError(f"holds {len(statements)} statements: a probe is exactly one "
                         "SELECT (probes are read-only)")
    raw = statements[0]
    if not isinstance(raw.stmt, ast.SelectStmt):
        word = query[raw.stmt_location or 0:].split(maxsplit=1)[0].upper()
        raise ValueError(f"{word} is not a SELECT: a probe is one SELECT (probes are "
                         "read-only)")
    problems: list[str] = []
    found: list[Function] = []

    class Walk(visitors.Visitor):
        def visit(self, ancestors: Any, node: Any) -> None:
            name = type(node).__name__
            if name in MODIFYING:
                problems.append(f"has a data-modifying WITH ({MODIFYING[name]})")
            elif isinstance(node, ast.SelectStmt) and node.intoClause is not None:
                problems.append("has SELECT INTO, which creates a table")
            elif isinstance(node, ast.SelectStmt) and node.lockingClause:
                problems.append("locks rows (FOR UPDATE/SHARE)")
            elif isinstance(node, ast.FuncCall):
                parts = [p.sval for p in node.funcname or ()]
                found.append((parts[-2] if len(parts) > 1 else None, parts[-1]))

    Walk()(raw.stmt)
    problems += [f"calls {name}(), which {ACTS_ANYWAY[name]}"
                 for name in dict.fromkeys(name for _, name in found) if name in ACTS_ANYWAY]
    if problems:
        raise ValueError(f"{problems[0]}: probes are read-only")
    return tuple(dict.fromkeys(found))


def function_problem(function: Function,
                     catalog: Callable[[str, dict[str, Any]], list[dict[str, Any]]]
                     ) -> str | None:
    """Why the server's catalog says ``function`` acts beyond the transaction, or None.

    ``catalog(sql, params)`` runs a query on the server (read-only) and returns its rows.
    Every function of that name in the schemas the probe can reach is judged: one acting
    overload refuses the name.
    """
    schema, name = function
    rows = catalog(CATALOG, {"name": name, "schema": schema, "readers": list(READ_ROLES)})
    shown = f"{schema}.{name}" if schema else name
    for row in rows:
        if row["parallel"] == "u":
            why = ("PostgreSQL marks it PARALLEL UNSAFE (it may write, use a sequence, or "
                   "change transaction or session state)")
        elif row["volatility"] == "v" and row["parallel"] == "r":
            why = ("it is VOLATILE and PARALLEL RESTRICTED (it acts on session state: locks, "
                   "notifications, connections, backups)")
        elif row["volatility"] == "v" and not row["open"]:
            why = ("it is a VOLATILE administration function (EXECUTE granted neither to "
                   "PUBLIC nor to a monitoring role)")
        else:
            continue
        return f"calls {shown}(), refused: {why}; probes are read-only"
    return None
