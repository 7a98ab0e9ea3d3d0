"""Redis: a probe's command is read-only when the server says so, less the known liars.

Before a probe's command first runs, the target asks the server ``COMMAND INFO NAME`` and
:func:`command_problem` refuses the command unless the server's own description says it
only reads:

- its flags include ``readonly`` and neither ``write`` nor ``may-replicate`` (a command that
  may send something to the replicas changes something);
- its ACL categories do not include ``@write``;
- none of its key specifications (Redis 7) says it changes a key: no ``RW``, ``OW``,
  ``RM``, ``insert``, ``update`` or ``delete`` flag.

Known exceptions (:data:`WRITES_ANYWAY`) are refused whatever the server says: ``PFCOUNT``
is flagged ``readonly``, yet stores the count it computed into the HyperLogLog (the key's
bytes change and ``INFO persistence`` ``rdb_changes_since_last_save`` grows). Redis 7 says
so in its key specs (``RW``); Redis 6 has none, so the list is what refuses it there.

The model's hand-kept list of commands that answer one value (``PROBE_COMMANDS`` in
:mod:`opscheck.components.redis`) is checked at load; it is a usability filter, and the
server's flags stay the judge (a command renamed onto an allowed name is judged as what it
is).
"""

from __future__ import annotations

from typing import Any

WRITES_ANYWAY = {
    "PFCOUNT": "flagged readonly, yet stores its computed count in the HyperLogLog (a write)",
}
WRITE_FLAGS = ("write", "may-replicate")
WRITE_KEY_FLAGS = frozenset({"RW", "OW", "RM", "INSERT", "UPDATE", "DELETE"})


def _text(value: Any) -> str:
    return value.decode(errors="replace") if isinstance(value, bytes) else str(value)


def _pairs(flat: Any) -> dict[str, Any]:
    """A RESP2 map (a flat list of keys and values) as a dict; a RESP3 map as is."""
    if isinstance(flat, dict):
        return {_text(k): v for k, v in flat.items()}
    items = list(flat or [])
    return {_text(items[i]): items[i + 1] for i in range(0, len(items) - 1, 2)}


def known_writer(name: str) -> str | None:
    """Why ``name`` is refused whatever the server says (:data:`WRITES_ANYWAY`), or None."""
    upper = name.upper()
    if upper in WRITES_ANYWAY:
        return f"command {upper} is refused: {WRITES_ANYWAY[upper]}; probes are read-only"
    return None


def command_problem(name: str, info: Any) -> str | None:
    """Why the server's ``COMMAND INFO`` entry ``info`` for ``name`` is not read-only, or None.

    ``info`` is the raw entry (``[name, arity, flags, first, last, step, categories, tips,
    key specs, subcommands]``), or None when the server knows no such command.
    """
    upper = name.upper()
    if known_writer(upper):
        return known_writer(upper)
    if not info:
        return (f"command {upper} is unknown to this server (renamed or disabled?): "
                "probes run commands the server flags readonly")
    flags = {_text(f).lower() for f in info[2]}
    categories = {_text(c).lower() for c in (info[6] if len(info) > 6 else [])}
    key_flags = {_text(f).upper() for spec in (info[8] if len(info) > 8 else [])
                 for f in _pairs(spec).get("flags", [])}
    said = []
    if "readonly" not in flags:
        said.append("not flagged readonly")
    said += [f"flagged {flag}" for flag in WRITE_FLAGS if flag in flags]
    if "@write" in categories:
        said.append("in ACL category @write")
    said += [f"its key spec says {flag}" for flag in sorted(key_flags & WRITE_KEY_FLAGS)]
    if not said:
        return None
    return (f"command {upper} writes by the server's own account ({'; '.join(said)}): "
            "probes are read-only")
