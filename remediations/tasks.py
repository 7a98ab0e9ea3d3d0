"""Moving tasks of a file task queue without ever losing or duplicating one.

The queue's layout and reading are :mod:`opscheck.targets.queue`'s; this module only writes.
A requeue changes both the folder and the content (the JSON's attempt count goes up by
one), which no single rename can do, so it keeps a journal:

1. ``rename in-progress/T.json -> in-progress/.T.json.requeuing`` (atomic; the original
   content, invisible to agents, who read ``*.json``);
2. write the incremented JSON to ``ready/.T.json.requeue-tmp`` and fsync it;
3. ``rename`` it to ``ready/T.json`` (atomic: the task is back, incremented once);
4. delete the journal.

Killed anywhere, the next run's :func:`recover` finishes the job: a journal whose task
exists in any folder is stale and deleted; any other is completed from step 2. So each
task ends in ready/ exactly once, its attempt incremented exactly once.
"""

from __future__ import annotations

import json
import os
import stat
from collections.abc import Callable
from pathlib import Path

from opscheck.targets.queue import Layout, TaskQueue, read_json

JOURNAL = ".requeuing"
TMP = ".requeue-tmp"


class Conflict(Exception):
    """A task of that name already exists where it would go."""


def _write(path: Path, data: bytes) -> None:
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o644)
    try:
        os.write(fd, data)
        os.fsync(fd)
    finally:
        os.close(fd)


def _fsync_dir(path: Path) -> None:
    fd = os.open(path, os.O_RDONLY | os.O_DIRECTORY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def _folders(layout: Layout) -> list[str]:
    return list(dict.fromkeys([*layout.folders, layout.paused]))


def placed(layout: Layout, name: str) -> Path | None:
    """Where a task file of this name is, in any state folder (None: nowhere)."""
    return next((p for f in _folders(layout) if (p := layout.root / f / name).exists()), None)


def _complete(layout: Layout, journal: Path, name: str) -> str:
    """Steps 2-4 for one journal; returns 'requeued' or why it went back to in-progress."""
    data, error = read_json(journal)
    if error is not None or not isinstance(data, dict):
        os.rename(journal, journal.parent / name)  # unreadable: put it back untouched
        return f"left in {layout.in_progress}/ ({error or 'not a JSON object'})"
    try:
        attempt = int(data.get(layout.attempt_field) or 0)
    except (TypeError, ValueError):
        attempt = 0
    data[layout.attempt_field] = attempt + 1
    ready = layout.root / layout.ready
    tmp = ready / f".{name}{TMP}"
    _write(tmp, (json.dumps(data, indent=2) + "\n").encode())
    os.rename(tmp, ready / name)
    os.unlink(journal)
    return "requeued"


def recover(layout: Layout) -> int:
    """Finish requeues a killed run left half done; returns how many were finished."""
    folder = layout.root / layout.in_progress
    done = 0
    for journal in sorted(folder.glob(f".*{JOURNAL}")):
        name = journal.name[1:-len(JOURNAL)]
        if placed(layout, name) is not None:
            os.unlink(journal)  # step 3 happened: the journal is stale
        elif not _regular(journal):
            os.rename(journal, folder / name)  # a link: put back, never followed
        else:
            _complete(layout, journal, name)
            done += 1
    for tmp in (layout.root / layout.ready).glob(f".*{TMP}"):
        tmp.unlink(missing_ok=True)  # no journal left for it: an unfinished write, discarded
    return done


def requeue(layout: Layout, path: Path) -> str:
    """Move one in-progress task back to ready/, attempt + 1 (steps 1-4)."""
    name = path.name
    if (where := placed(layout, name)) is not None and where != path:
        raise Conflict(f"{where} exists too; resolve the duplicate by hand")
    journal = path.parent / f".{name}{JOURNAL}"
    os.rename(path, journal)
    if not _regular(journal):  # a link to a file elsewhere: its content is never copied
        os.rename(journal, path)
        return f"left in {layout.in_progress}/ (a symlink, never followed)"
    return _complete(layout, journal, name)


def _regular(path: Path) -> bool:
    """Whether ``path`` itself (not what a link leads to) is a regular file."""
    return stat.S_ISREG(os.lstat(path).st_mode)


def move_all(layout: Layout, source: str, target: str, check: Callable[[], None],
             plan: bool) -> tuple[list[str], list[str]]:
    """Move every task of folder ``source`` to ``target`` (atomic renames, no overwrite).

    Returns (moved or would-move names, conflicts). ``check`` is called before each move
    (it raises when the action's time is up).
    """
    queue = TaskQueue(layout)
    dest = layout.root / target
    names = [p.name for p in queue.paths(source)]
    if plan:
        return names, [n for n in names if (dest / n).exists()]
    dest.mkdir(exist_ok=True)
    moved, conflicts = [], []
    for name in names:
        check()
        if (dest / name).exists():
            conflicts.append(name)
            continue
        try:
            os.rename(layout.root / source / name, dest / name)
        except FileNotFoundError:
            continue  # an agent took it meanwhile
        moved.append(name)
    _fsync_dir(dest)
    return moved, conflicts
