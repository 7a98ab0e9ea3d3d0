"""File task queues: the folder layout and the facts read from task files.

A file task queue (the Agentic Factory runbook's ``queue/``) is one root folder with one
sub-folder per state, ``backlog/ ready/ in-progress/ review/ done/ failed/`` (plus ``paused/``
while paused); a task is one ``<task-id>.json`` file that moves between them (``mv`` is the
state change). This module is the one place that knows that layout. Checks read it; the
remediations (requeue stuck tasks, pause/resume the queue) move tasks with :func:`move`.

Pure standard library, no pytest: importable from checks, remediations and scripts::

    queue = TaskQueue(Layout(root=Path("/home/adam/agents/shared/queue")))
    stuck = [t for t in queue.tasks(queue.layout.in_progress) if t.age > 2 * 3600]
    for task in stuck:
        move(task, queue.folder(queue.layout.ready))      # requeue

Ages come from each file's mtime, as the runbook's ``find -mmin +120`` measures them.
"""

from __future__ import annotations

import errno
import json
import os
import shutil
import time
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from opscheck.components.queue import STATES, Layout

if TYPE_CHECKING:
    from opscheck.components.queue import QueueComponent

__all__ = ["STATES", "Layout", "QueueTarget", "Task", "TaskQueue", "listing", "move", "read_json"]

LISTED = 10  # task names shown in one failure line


@dataclass(frozen=True)
class Task:
    """One task file and what could be read from it."""

    path: Path
    folder: str
    mtime: float
    data: Any = None  # the parsed JSON, None when unreadable
    error: str | None = None  # why the JSON could not be read, None when it parsed
    attempt_field: str = "attempt"
    read_at: float = field(default_factory=time.time)

    @property
    def id(self) -> str:
        """The task id: the file name without its suffix."""
        return self.path.stem

    @property
    def name(self) -> str:
        """``folder/file.json``, for messages."""
        return f"{self.folder}/{self.path.name}"

    @property
    def age(self) -> float:
        """Seconds since the file was last modified."""
        return max(0.0, self.read_at - self.mtime)

    @property
    def valid(self) -> bool:
        return self.error is None

    @property
    def attempt(self) -> int | None:
        """The task's attempt count from its JSON (``"attempt": 2``), None if absent."""
        if not isinstance(self.data, dict):
            return None
        value = self.data.get(self.attempt_field)
        if isinstance(value, bool) or not isinstance(value, int | float | str):
            return None
        try:
            return int(value)
        except (ValueError, OverflowError):  # "two", a float too large for an int
            return None


class TaskQueue:
    """Read-only facts about one queue folder tree."""

    def __init__(self, layout: Layout) -> None:
        self.layout = layout

    def folder(self, name: str) -> Path:
        return self.layout.root / name

    def folder_problem(self, name: str) -> str | None:
        """Why ``name`` cannot be used as a queue folder, or None when it can be listed."""
        path = self.folder(name)
        if not path.exists():
            return f"{path} is missing"
        if not path.is_dir():
            return f"{path} is not a folder"
        try:
            with os.scandir(path):
                pass
        except OSError as exc:
            return f"{path} cannot be read ({exc.strerror or exc})"
        if not os.access(path, os.R_OK | os.X_OK):
            return f"{path} cannot be read (permission denied)"
        return None

    def paths(self, name: str) -> list[Path]:
        """The task files in folder ``name`` (sorted; an absent folder has none)."""
        path = self.folder(name)
        if not path.is_dir():
            return []
        return sorted(p for p in path.glob(self.layout.pattern) if p.is_file())

    def depth(self, name: str) -> int:
        """How many task files folder ``name`` holds."""
        return len(self.paths(name))

    def tasks(self, name: str, parse: bool = True) -> list[Task]:
        """The tasks of folder ``name``, oldest first; JSON parsed unless ``parse`` is False."""
        now = time.time()
        found = []
        for path in self.paths(name):
            try:
                mtime = path.stat().st_mtime
            except FileNotFoundError:
                continue  # moved on while we looked
            data, error = read_json(path) if parse else (None, None)
            found.append(Task(path, name, mtime, data, error, self.layout.attempt_field, now))
        return sorted(found, key=lambda t: t.mtime)

    def all_tasks(self) -> Iterator[Task]:
        """Every task in every state folder (and the paused folder, if present)."""
        names = list(self.layout.folders)
        if self.layout.paused not in names:
            names.append(self.layout.paused)
        for name in names:
            yield from self.tasks(name)

    def counts(self) -> dict[str, int]:
        """Depth of every state folder: the runbook's ``for dir in …; ls | wc -l``."""
        return {name: self.depth(name) for name in self.layout.folders}


#: a task file larger than this is not read (a task is a small JSON document)
MAX_TASK_BYTES = 16 << 20


def _no_constant(name: str) -> Any:
    raise ValueError(f"{name} is not JSON")


def read_json(path: Path, limit: int = MAX_TASK_BYTES) -> tuple[Any, str | None]:
    """``(data, None)`` for a valid JSON file, ``(None, reason)`` otherwise: whatever the
    file holds (too large, nested too deep, ``NaN``, not UTF-8), the reason is one line."""
    try:
        with path.open("rb") as file:
            raw = file.read(limit + 1)
    except FileNotFoundError:
        return None, "vanished while being read"
    except OSError as exc:
        return None, f"unreadable ({exc.strerror or type(exc).__name__})"
    if len(raw) > limit:
        return None, f"larger than {limit >> 20} MiB"
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        return None, f"not UTF-8 (byte {exc.start + 1})"
    if not text.strip():
        return None, "empty file"
    try:
        return json.loads(text, parse_constant=_no_constant), None
    except json.JSONDecodeError as exc:
        return None, f"invalid JSON at line {exc.lineno} column {exc.colno}: {exc.msg}"
    except ValueError as exc:  # NaN, Infinity; an integer of too many digits
        return None, f"invalid JSON: {str(exc).splitlines()[0][:120]}"
    except RecursionError:
        return None, "invalid JSON: nested too deeply to read"


def move(task: Task | Path, folder: Path) -> Path:
    """Move a task file into ``folder`` (atomic rename, never overwriting). For remediations.

    Raises FileExistsError if a task of that name is already there, FileNotFoundError if
    the task moved away meanwhile. The file's mtime is kept, as ``mv`` keeps it.
    """
    source = task.path if isinstance(task, Task) else task
    target = folder / source.name
    if target.exists():
        raise FileExistsError(f"{target} already exists; not overwriting it")
    try:
        os.link(source, target)  # fails if the target appeared meanwhile: no silent overwrite
    except OSError as exc:
        if exc.errno != errno.EXDEV:
            raise
        return Path(shutil.move(source, target))  # another filesystem: copy, then remove
    os.unlink(source)
    return target


class QueueTarget(TaskQueue):
    """One queue folder tree, with the component's roles and thresholds at hand."""

    def __init__(self, component: QueueComponent) -> None:
        super().__init__(component.layout())
        self.component = component
        self.thresholds = component.thresholds

    @classmethod
    def open(cls, component: QueueComponent) -> QueueTarget:
        target = cls(component)
        root = target.layout.root
        if not root.is_dir():
            raise FileNotFoundError(f"queue root {root} is missing or not a folder")
        return target

    def __str__(self) -> str:
        return self.component.name

    def failed_since(self, hours: float) -> list[Task]:
        """Tasks whose file in the failed folder changed in the last ``hours``."""
        since = time.time() - hours * 3600
        return [t for t in self.tasks(self.layout.failed, parse=False) if t.mtime >= since]

    def retrying(self) -> list[Task]:
        """Ready and in-progress tasks whose attempt count is above 1 (AF: retry loops)."""
        tasks = [*self.tasks(self.layout.ready), *self.tasks(self.layout.in_progress)]
        return [t for t in tasks if (t.attempt or 0) > 1]

    def invalid(self) -> list[Task]:
        """Task files anywhere in the queue that are not valid JSON."""
        return [t for t in self.all_tasks() if not t.valid]

    @staticmethod
    def listing(tasks: Iterable[Task], detail: str = "") -> str:
        return listing(tasks, detail)


def listing(tasks: Iterable[Task], detail: str = "") -> str:
    """``ready/a.json (72 min), ready/b.json (65 min)`` … at most LISTED names, then a count.

    ``detail``: "age" (minutes), "attempt", "error", or "" for names only.
    """
    tasks = list(tasks)
    parts = []
    for task in tasks[:LISTED]:
        if detail == "age":
            parts.append(f"{task.name} ({task.age / 60:.0f} min)")
        elif detail == "attempt":
            parts.append(f"{task.name} (attempt {task.attempt})")
        elif detail == "error":
            parts.append(f"{task.name} ({task.error})")
        else:
            parts.append(task.name)
    more = len(tasks) - LISTED
    return ", ".join(parts) + (f" and {more} more" if more > 0 else "")
