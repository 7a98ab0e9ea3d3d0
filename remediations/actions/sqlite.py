"""SQLite: ``PRAGMA wal_checkpoint(TRUNCATE)``, the fix for a write-ahead log grown too big.

The checkpoint copies the WAL's frames into the database and truncates the ``-wal`` file to
zero bytes. It needs a moment without readers holding old snapshots; SQLite waits for
them up to the action's timeout (``busy_timeout``) and reports "busy" if they stay.
"""

from __future__ import annotations

import sqlite3
from pathlib import Path

from pydantic import Field, ValidationInfo, model_validator

from opscheck.remediations.registry import (
    ActionContext,
    ActionError,
    ActionResult,
    LocalPath,
    Params,
    action,
)


class CheckpointParams(Params):
    path: LocalPath = Field(default="", description="the SQLite database file (default: the "
                            "path of the sqlite component the action runs for)")

    @model_validator(mode="after")
    def _component_path(self, info: ValidationInfo) -> CheckpointParams:
        component = self.component_of(info, "sqlite", "path")
        if component is not None and "path" not in self.model_fields_set:
            self.path = str(component.path)  # type: ignore[attr-defined]
        return self


def _wal_size(db: Path) -> int | None:
    wal = db.with_name(db.name + "-wal")
    return wal.stat().st_size if wal.exists() else None


@action(CheckpointParams, summary="checkpoint and truncate a SQLite write-ahead log")
def checkpoint_wal(ctx: ActionContext, params: CheckpointParams) -> ActionResult:
    """``PRAGMA wal_checkpoint(TRUNCATE)`` on the database."""
    db = Path(params.path)
    if not db.is_file():
        raise ActionError(f"{db} is not a file")
    before = _wal_size(db)
    if ctx.plan:  # only a stat: opening the database could create its -shm file
        return ActionResult(bool(before), f"would checkpoint {db} (WAL "
                            f"{'absent' if before is None else f'{before} bytes'})")
    timeout = max(ctx.remaining(), 0.1)
    conn = sqlite3.connect(f"file:{db}?mode=rw", uri=True, timeout=timeout)
    try:
        conn.execute(f"PRAGMA busy_timeout = {int(timeout * 1000)}")
        busy, frames, done = conn.execute("PRAGMA wal_checkpoint(TRUNCATE)").fetchone()
    except sqlite3.Error as exc:
        raise ActionError(f"checkpoint of {db} failed: {exc}") from None
    finally:
        conn.close()
    after = _wal_size(db)
    summary = (f"checkpointed {db}: {done}/{frames} WAL frames copied; WAL {before} -> "
               f"{after} bytes")
    if busy:
        return ActionResult(bool(done), summary + "; busy: readers kept old frames, WAL not "
                            "truncated", exit_status=1)
    return ActionResult(bool(before), summary)
