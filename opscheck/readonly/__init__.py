"""Read-only guards: what a check or probe may run against what it checks.

Checks never write (see the README's promise). A probe's text comes from the inventory, so
"read-only" cannot rest on the text looking harmless: each database decides with its own
machinery, and opscheck adds a small, documented deny list only where that machinery is
known to be wrong.

- :mod:`~opscheck.readonly.postgres`: one statement, a SELECT, by PostgreSQL's own parser
  (pglast); no function that PostgreSQL's catalog marks as acting beyond the transaction;
  sent through the extended query protocol, which refuses several statements in one string;
  in a read-only transaction that is rolled back.
- :mod:`~opscheck.readonly.sqlite`: SQLite's authorizer on every connection a check opens:
  reads only, whatever the SQL (no ATTACH, no VACUUM INTO, no writing PRAGMA).
- :mod:`~opscheck.readonly.redis`: the server's own command flags (``COMMAND INFO``), plus
  the commands known to write although flagged read-only (``PFCOUNT``).
"""
