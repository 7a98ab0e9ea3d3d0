"""File task queue actions: requeue stuck tasks; pause and resume (the runbooks' drain).

The Agentic Factory runbook's ``mv in-progress/<task>.json ready/`` for tasks older than
two hours, and ``mv ready/*.json paused/`` (and back). See :mod:`remediations.tasks` for
why a requeue never loses or duplicates a task, even when killed midway.
"""

from __future__ import annotations

import time
from dataclasses import replace
from pathlib import Path

from pydantic import Field, PrivateAttr, ValidationInfo, field_validator, model_validator

from opscheck.remediations import tasks
from opscheck.remediations.links import link_refused, symlink_on
from opscheck.remediations.registry import (
    ActionContext,
    ActionError,
    ActionResult,
    LocalPath,
    Params,
    action,
)
from opscheck.targets.queue import Layout, TaskQueue

#: parameters that override the queue component's layout when given
LAYOUT_PARAMS = {"queue": "root", "ready": "ready", "in_progress": "in_progress",
                 "paused": "paused", "attempt_field": "attempt_field"}


class QueueParams(Params):
    """Default: the layout of the queue component the action runs for (root, folders, glob)."""

    queue: LocalPath = Field(default="", description="the queue's root folder (holds ready/, "
                             "in-progress/, …; default: the queue component's root)")
    ready: str = Field(default="ready", description="folder of waiting tasks")
    in_progress: str = Field(default="in-progress", description="folder of claimed tasks")
    paused: str = Field(default="paused", description="where a paused queue's tasks wait")
    attempt_field: str = Field(default="attempt", description="task JSON key of the attempts")
    _layout: Layout | None = PrivateAttr(default=None)

    @field_validator("ready", "in_progress", "paused")
    @classmethod
    def _name(cls, value: str) -> str:
        if not value or "/" in value or value in (".", ".."):
            raise ValueError(f"{value!r} must be one folder name under queue, without '/'")
        return value

    @model_validator(mode="after")
    def _component_layout(self, info: ValidationInfo) -> QueueParams:
        component = self.component_of(info, "queue", "queue")
        base = component.layout() if component is not None else Layout(root=Path(self.queue))  # type: ignore[attr-defined]
        given = {LAYOUT_PARAMS[k]: getattr(self, k) for k in LAYOUT_PARAMS
                 if k in self.model_fields_set or component is None}
        given["root"] = Path(given.get("root", base.root))
        self._layout = replace(base, **given)
        for key, field in LAYOUT_PARAMS.items():
            setattr(self, key, str(getattr(self._layout, field)))
        return self

    def layout(self) -> Layout:
        assert self._layout is not None
        root = self._layout.root
        for name in (self._layout.ready, self._layout.in_progress, self._layout.paused):
            if link := symlink_on(str(root / name)):  # a move would land where it leads
                raise ActionError(link_refused(str(root / name), link))
        for name in (self._layout.ready, self._layout.in_progress):
            if not (root / name).is_dir():
                raise ActionError(f"{root / name} is not a folder; is queue = {root} right?")
        return self._layout


class RequeueParams(QueueParams):
    older_than: float = Field(default=120, ge=0,
                              description="minutes in in-progress/ after which a task is stuck")


def _names(names: list[str], limit: int = 5) -> str:
    more = f" and {len(names) - limit} more" if len(names) > limit else ""
    return ", ".join(names[:limit]) + more


@action(RequeueParams, summary="move stuck in-progress tasks back to ready/, attempt + 1")
def requeue_stuck_tasks(ctx: ActionContext, params: RequeueParams) -> ActionResult:
    """Requeue tasks stuck in in-progress/ (older than ``older_than`` minutes)."""
    layout = params.layout()
    now = time.time()
    stuck = [t for t in TaskQueue(layout).tasks(layout.in_progress, parse=False)
             if now - t.mtime >= params.older_than * 60]
    names = [t.path.name for t in stuck]
    if ctx.plan:
        return ActionResult(bool(names), f"would requeue {len(names)} task(s) older than "
                            f"{params.older_than:g} min: {_names(names) or 'none'}")
    recovered = tasks.recover(layout)
    done: list[str] = []
    problems: list[str] = []
    for task in stuck:
        ctx.check_time()
        try:
            result = tasks.requeue(layout, task.path)
        except FileNotFoundError:
            continue  # finished or moved by its agent meanwhile
        except tasks.Conflict as exc:
            problems.append(f"{task.path.name}: {exc}")
            continue
        (done if result == "requeued" else problems).append(
            task.path.name if result == "requeued" else f"{task.path.name}: {result}")
    summary = f"requeued {len(done)} task(s) to {layout.ready}/ (attempt + 1)"
    summary += f": {_names(done)}" if done else ""
    if recovered:
        summary += f"; finished {recovered} requeue(s) a killed run left half done"
    if problems:
        summary += f"; {len(problems)} not moved"
    return ActionResult(bool(done or recovered), summary, "\n".join(problems),
                        1 if problems and not done else 0)


def _move(ctx: ActionContext, params: QueueParams, source: str, target: str,
          verb: str) -> ActionResult:
    moved, conflicts = tasks.move_all(params.layout(), source, target, ctx.check_time, ctx.plan)
    head = f"would {verb}" if ctx.plan else f"{verb}d"
    summary = f"{head} {len(moved)} task(s) {source}/ -> {target}/"
    if conflicts:
        summary += f"; {len(conflicts)} left (same name in {target}/: {_names(conflicts)})"
    return ActionResult(bool(moved), summary, exit_status=1 if conflicts else 0)


@action(QueueParams, summary="pause a queue: move ready tasks to paused/ (drain)")
def pause_queue(ctx: ActionContext, params: QueueParams) -> ActionResult:
    """Move every ready task to paused/: agents find no work."""
    return _move(ctx, params, params.ready, params.paused, "pause")


@action(QueueParams, summary="resume a queue: move paused tasks back to ready/")
def resume_queue(ctx: ActionContext, params: QueueParams) -> ActionResult:
    """Move every paused task back to ready/."""
    if not (Path(params.queue) / params.paused).is_dir():
        return ActionResult(False, f"nothing to resume: no {params.paused}/ folder")
    return _move(ctx, params, params.paused, params.ready, "resume")
