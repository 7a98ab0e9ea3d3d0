"""Actions: a lazy registry, name -> ``"module:function"``, and what an action declares.

An action is a plain function decorated with :func:`action`, which declares its parameters
(a pydantic model, validated when the inventory loads), whether it is risky (deletes data,
restarts a database: it then runs only with ``--approve NAME``) and a one-line summary.
It is called as ``func(ctx, params)`` and returns an :class:`ActionResult` with ``changed``
(Ansible's word). With ``ctx.plan`` it must write nothing and say what it would do.

Third parties add actions through the entry point group ``opscheck.remediations``
(``name = "package.module:function"``); a built-in name cannot be overridden.
"""

from __future__ import annotations

import importlib
import time
from collections.abc import Callable
from dataclasses import dataclass
from functools import cache
from importlib.metadata import entry_points
from typing import Annotated, Any, TypeVar

from pydantic import AfterValidator, BaseModel, ConfigDict, ValidationInfo

from opscheck.components import Component
from opscheck.paths import local_path

GROUP = "opscheck.remediations"

BUILTIN: dict[str, str] = {
    "run_command": "opscheck.remediations.actions.command:run_command_action",
    "restart_service": "opscheck.remediations.actions.command:restart_service",
    "restart_database": "opscheck.remediations.actions.command:restart_database",
    "requeue_stuck_tasks": "opscheck.remediations.actions.queue:requeue_stuck_tasks",
    "pause_queue": "opscheck.remediations.actions.queue:pause_queue",
    "resume_queue": "opscheck.remediations.actions.queue:resume_queue",
    "checkpoint_wal": "opscheck.remediations.actions.sqlite:checkpoint_wal",
    "redis_bgsave": "opscheck.remediations.actions.redis:redis_bgsave",
    "clean_old_files": "opscheck.remediations.actions.clean:clean_old_files",
}

F = TypeVar("F", bound=Callable[..., Any])


#: a path parameter, resolved as the files kind resolves its paths (one rule for both):
#: ``~`` and ``${VARS}`` expanded (an unset variable is a usage error naming it), relative
#: paths taken from the inventory's folder
LocalPath = Annotated[str, AfterValidator(local_path)]


class Params(BaseModel):
    """Base of every action's parameters: unknown keys are errors."""

    model_config = ConfigDict(extra="forbid")

    def component_of(self, info: ValidationInfo, kind: str, param: str) -> Component | None:
        """The inventory component the allow entry is for, when it is of ``kind``.

        None when it is not (or is not in the inventory) and ``param`` was given; without
        ``param`` that is a ValueError: the action would have no target.
        """
        context = info.context or {}
        name, component = context.get("component_name"), context.get("component")
        if component is not None and component.kind == kind:
            return component
        if param in self.model_fields_set:
            return None
        what = (f"a {component.kind} component" if component is not None
                else "not a component of the inventory")
        raise ValueError(f"{name} is {what}, so {param} has no default; give params.{param} "
                         f"or allow the action for a {kind} component")


class ActionError(Exception):
    """The action refused or failed; ``str()`` is one line for the report and the audit."""


@dataclass
class ActionContext:
    """What an action gets besides its parameters."""

    component: str
    plan: bool
    timeout: float
    started: float = 0.0

    def __post_init__(self) -> None:
        self.started = self.started or time.monotonic()

    def remaining(self) -> float:
        return self.timeout - (time.monotonic() - self.started)

    def check_time(self) -> None:
        """Raise :class:`ActionTimeout` once the action's timeout has passed."""
        if self.remaining() <= 0:
            raise ActionTimeout(f"timed out after {self.timeout:g} s")


class ActionTimeout(ActionError):
    """The action ran out of time (exit status 124, as coreutils ``timeout`` gives)."""


@dataclass
class ActionResult:
    changed: bool
    summary: str  # one line: "requeued 3 tasks", or in plan mode "would requeue 3 tasks"
    output: str = ""
    exit_status: int = 0


@dataclass(frozen=True)
class ActionSpec:
    name: str
    func: Callable[[ActionContext, Any], ActionResult]
    params: type[Params]
    risky: bool
    summary: str


def action(params: type[Params], *, risky: bool = False, summary: str = "") -> Callable[[F], F]:
    """Declare a function an action: its parameter model, its risk, what it does."""
    def mark(func: F) -> F:
        func.opscheck_action = (params, risky, summary or (func.__doc__ or "").strip())  # type: ignore[attr-defined]
        return func
    return mark


@cache
def _third_party() -> dict[str, str]:
    return {ep.name: ep.value for ep in entry_points(group=GROUP) if ep.name not in BUILTIN}


def names() -> list[str]:
    """Every registered action name, built-in and from entry points."""
    return sorted({*BUILTIN, *_third_party()})


@cache
def get(name: str) -> ActionSpec:
    """The action registered as ``name``. KeyError (listing the names) if none is."""
    target = BUILTIN.get(name) or _third_party().get(name)
    if target is None:
        raise KeyError(f"unknown remediation action {name!r}; registered: {', '.join(names())}")
    module, _, attr = target.partition(":")
    func = getattr(importlib.import_module(module), attr)
    declared = getattr(func, "opscheck_action", None)
    if declared is None:
        raise KeyError(f"{target} (action {name!r}) is not declared with "
                       "opscheck.remediations.registry.action(...)")
    params, risky, summary = declared
    return ActionSpec(name, func, params, risky, summary)
