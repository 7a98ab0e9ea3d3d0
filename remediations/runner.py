"""The runner: from a confirmed failure to one safe, audited action and its re-check.

Pure logic, no pytest: the plugin hands it a :class:`Request` and a ``recheck()`` callable
that runs the check again and returns ``(passed, failure line)``. The gates, in order:

1. kill switch, allow-list, a confirmed failure (the check's own condition false, not "could
   not run": unreachable, no driver, a setup error; unless the allow entry says
   ``on_unreachable = true``), approval of a risky action, emergency-stop file;
2. confirmation: the check re-run ``confirm`` times (``confirm_delay`` apart), the last
   time under the lock, immediately before the action; any pass means no action;
3. the shared store (:mod:`remediations.state`): open circuit, budget, lock, back-off;
4. the action, bounded by its timeout; then ``settle`` seconds and the re-check, whose
   result is the check's outcome. In plan mode the action's dry run stands in, and a dry
   run that says the action would fail is shown as "would fail", not "planned".

Every path ends in exactly one audit record.
"""

from __future__ import annotations

import os
import sqlite3
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

from opscheck.remediations import audit, registry
from opscheck.remediations.config import Allow, Remediation
from opscheck.remediations.state import Policy, Store

Recheck = Callable[[], tuple[bool, str]]
#: the failure a remediation acts on: the check's own condition (opscheck.verdict.CONDITION)
CONDITION = "condition"


@dataclass
class Request:
    node: str
    component: str | None
    action: str
    evidence: str
    cause: str = CONDITION  # why the check failed (opscheck.verdict.cause)


def cause_of(recheck: Recheck) -> str:
    """Why the latest re-run failed (a recheck callable may say; else: its condition)."""
    return str(getattr(recheck, "cause", None) or CONDITION)


@dataclass(frozen=True)
class _Job:
    """One request that passed the first gate: its allow entry, action and policy."""

    req: Request
    entry: Allow
    spec: registry.ActionSpec
    policy: Policy

    @property
    def key(self) -> str:
        """The store's key: ``component/action``."""
        return f"{self.req.component}/{self.req.action}"


@dataclass
class Outcome:
    node: str
    component: str | None
    action: str
    mode: str
    decision: str  # ran, planned, would fail, skipped: <reason>
    detail: str = ""
    attempt: int | None = None
    budget: int | None = None
    summary: str = ""
    changed: bool | None = None
    exit_status: int | None = None
    duration: float | None = None
    output: str = ""
    recheck: str | None = None  # passed / failed, after the action
    recheck_line: str = ""
    circuit_opened: bool = False

    @property
    def state(self) -> str:
        """remediated, remediation failed, planned, would fail, or not remediated."""
        if self.decision == "ran":
            return "remediated" if self.recheck == "passed" else "remediation failed"
        return self.decision if self.decision in ("planned", "would fail") else "not remediated"

    def line(self) -> str:
        """One line for the terminal summary and the report section."""
        what = f"{self.component or '?'} {self.action}"
        if self.attempt and self.budget:
            what += f" (attempt {self.attempt}/{self.budget})"
        if self.decision == "ran":
            text = (f"{self.state.upper()}: {what}: {self.summary}; exit {self.exit_status} in "
                    f"{self.duration:.1f} s; re-check {self.recheck}")
            if self.recheck != "passed":
                text += f": {self.recheck_line}"
        elif self.decision == "planned":
            text = f"PLANNED (nothing run): {what}: {self.summary}"
        elif self.decision == "would fail":
            text = (f"WOULD FAIL (nothing run; the dry run failed, exit {self.exit_status}): "
                    f"{what}: {self.summary}")
        else:
            text = f"NOT REMEDIATED ({self.decision}): {what}: {self.detail}"
        if self.circuit_opened:
            text += ("; budget spent, circuit now open: nothing more runs until healthy or "
                     "--remediate-reset")
        return text

    def as_dict(self) -> dict[str, Any]:
        return {**asdict(self), "state": self.state, "line": self.line()}


class Runner:
    """One per pytest process; the store and the audit log are shared through files."""

    def __init__(self, section: Remediation, mode: str, approved: set[str], run: str,
                 killed: str | None = None, sleep: Callable[[float], None] = time.sleep) -> None:
        self.section, self.mode, self.approved, self.killed = section, mode, approved, killed
        self.sleep = sleep
        self.audit = audit.AuditLog(section.audit, run)
        self.owner = f"{self.audit.host}:{run}"
        self._store: Store | None = None

    @property
    def store(self) -> Store:
        if self._store is None:
            self._store = Store(self.section.state, self.owner)
        return self._store

    def policy(self, entry: Allow) -> Policy:
        lim = lambda name: self.section.limit(entry, name)  # noqa: E731
        hold = lim("timeout") + self.section.settle + self.section.confirm_delay
        return Policy(int(lim("budget")), lim("window"), lim("backoff"), lim("backoff_max"),
                      lim("cooldown"), hold)

    def preflight(self) -> str | None:
        """Why the audit log or the state store cannot be written (None: both can)."""
        for key, open_it in (("audit", self.audit.touch), ("state", self._state_writable)):
            try:
                open_it()
            except OSError as exc:
                return (f"remediation.{key}: cannot write {getattr(self.section, key)} ({exc}); "
                        f"point [remediation].{key} at a writable file")
        return None

    def _state_writable(self) -> None:
        """The state store's folder exists and is writable (the store opens on first use)."""
        path = Path(self.section.state)
        path.parent.mkdir(parents=True, exist_ok=True)
        for p in (path.parent, path):
            if p.exists() and not os.access(p, os.W_OK | os.R_OK):
                raise PermissionError(f"{p} is not writable")

    def is_approved(self, req: Request) -> bool:
        return bool({req.action, f"{req.component}:{req.action}"} & self.approved)

    def emergency_stop(self) -> str | None:
        path = self.section.emergency_stop
        return f"emergency-stop file {path} exists" if path and Path(path).exists() else None

    def veto(self, req: Request) -> tuple[str, str] | None:
        """Gate 1: (reason, detail) when the kill switch, the allow-list, the approval of a
        risky action or the emergency-stop file says no; None when the action may go on."""
        if self.killed:
            return "kill switch", self.killed
        entry = self.section.allowed(req.component, req.action) if req.component else None
        if entry is None:
            return "not allowed", (f"no [[remediation.allow]] entry for component "
                                   f"{req.component or '(none: the check names no component)'}"
                                   f" and action {req.action}")
        if req.cause != CONDITION and not entry.on_unreachable:
            return not_confirmed(req.cause, req.evidence)
        if (registry.get(req.action).risky or entry.risky) and not self.is_approved(req):
            return "needs approval", (f"{req.action} is risky (deletes data or restarts a "
                                      f"database); run with --approve {req.action}")
        stop = self.emergency_stop()
        return ("emergency stop", stop) if stop else None

    def handle(self, req: Request, recheck: Recheck) -> Outcome:
        """Take a failed check through the gates to at most one action and its re-check;
        every path ends in exactly one audit record."""
        out = Outcome(req.node, req.component, req.action, self.mode, "skipped")
        entry = self.section.allowed(req.component, req.action) if req.component else None
        veto = self.veto(req)
        if veto or entry is None:
            return self._skip(out, req, entry, *(veto or ("not allowed", "")))
        job = _Job(req, entry, registry.get(req.action), self.policy(entry))
        out.budget = job.policy.budget
        for i in range(self.section.confirm - 1):  # gate 2: confirmation
            self.sleep(self.section.confirm_delay)
            passed, line = recheck()
            if passed:
                return self._skip(out, req, entry, "not confirmed", f"passed on re-run {i + 1}")
            if cause_of(recheck) != CONDITION and not entry.on_unreachable:
                return self._skip(out, req, entry, *not_confirmed(cause_of(recheck), line))
        apply = self.mode == "apply"
        try:  # gate 3: the shared store
            decision = self.store.reserve(job.key, job.policy, apply)
        except sqlite3.Error as exc:  # unsure whether another run acts: do not act
            return self._skip(out, req, entry, "state store", f"{self.section.state}: {exc}")
        out.attempt = decision.attempt
        if not decision.go:
            out.circuit_opened = decision.reason == "budget"
            return self._skip(out, req, entry, decision.reason, decision.detail)
        return self._run(job, decision.attempt_id, out, recheck)

    def _run(self, job: _Job, attempt_id: int | None, out: Outcome,
             recheck: Recheck) -> Outcome:
        """Gate 4 under the lock: the last confirmation, the action, the re-check."""
        apply = self.mode == "apply"
        finished = not apply  # a plan holds no lock: nothing to release
        try:
            self.sleep(self.section.confirm_delay)
            passed, line = recheck()
            stop = None if passed else self.emergency_stop()
            if not passed and cause_of(recheck) != CONDITION and not job.entry.on_unreachable:
                finished = self._finish(job, attempt_id, "cancelled", finished)
                out.attempt = None
                return self._skip(out, job.req, job.entry, *not_confirmed(cause_of(recheck), line))
            if passed or stop:
                finished = self._finish(job, attempt_id, "cancelled", finished)
                out.attempt = None
                return self._skip(out, job.req, job.entry, *(
                    ("not confirmed", "passed on the re-run before the action") if passed
                    else ("emergency stop", stop or "")))
            self._act(out, job.entry, job.spec, plan=not apply)
            if apply:
                if out.exit_status == 0:
                    self.sleep(self.section.settle)
                passed, line = recheck()
                out.recheck, out.recheck_line = ("passed" if passed else "failed"), line
                out.circuit_opened = self.store.finish(
                    job.key, attempt_id or 0, "fixed" if passed else "failed", job.policy)
                finished = True
            out.decision = "ran" if apply else (
                "planned" if out.exit_status == 0 else "would fail")
        finally:
            if not finished:  # interrupted (Ctrl-C): release the lock, say so in the log
                self._finish(job, attempt_id, "interrupted", finished)
                out.decision, out.detail = "ran", "interrupted before the re-check"
                self._record(out, job.req, job.entry)
        self._record(out, job.req, job.entry)
        return out

    def _finish(self, job: _Job, attempt_id: int | None, outcome: str, finished: bool) -> bool:
        if not finished and attempt_id is not None:
            self.store.finish(job.key, attempt_id, outcome, job.policy)
        return True

    def _act(self, out: Outcome, entry: Allow, spec: registry.ActionSpec, plan: bool) -> None:
        ctx = registry.ActionContext(out.component or "", plan, self.section.limit(entry,
                                                                                 "timeout"))
        start = time.monotonic()
        try:
            result = spec.func(ctx, entry.validated)
        except registry.ActionTimeout as exc:
            result = registry.ActionResult(False, f"{spec.name} {exc}", exit_status=124)
        except registry.ActionError as exc:
            result = registry.ActionResult(False, f"{spec.name} refused or failed: {exc}",
                                           exit_status=1)
        except Exception as exc:
            result = registry.ActionResult(False, f"{spec.name} crashed: "
                                           f"{type(exc).__name__}: {exc}", exit_status=1)
        out.duration = round(time.monotonic() - start, 3)
        out.summary = audit.scrub(result.summary)
        out.changed, out.exit_status = result.changed, result.exit_status
        out.output = audit.tail(result.output)

    def _skip(self, out: Outcome, req: Request, entry: Allow | None, reason: str,
              detail: str) -> Outcome:
        out.decision, out.detail = f"skipped: {reason}", audit.scrub(detail)
        self._record(out, req, entry)
        return out

    def _record(self, out: Outcome, req: Request, entry: Allow | None) -> None:
        self.audit.record(
            node=req.node, component=req.component, evidence=req.evidence, action=req.action,
            params=entry.params if entry else None, mode=self.mode, attempt=out.attempt,
            decision=out.decision, detail=out.detail, summary=out.summary,
            changed=out.changed, exit_status=out.exit_status, duration=out.duration,
            recheck=out.recheck, recheck_line=out.recheck_line, output=out.output,
            circuit_opened=out.circuit_opened)

    def note(self, **fields: Any) -> None:
        """An audit record outside a check: reset, circuit closed."""
        self.audit.record(mode=self.mode, **fields)

    def close(self) -> None:
        if self._store is not None:
            self._store.close()


def not_confirmed(cause: str, evidence: str) -> tuple[str, str]:
    """The gate's (reason, detail) for a check that failed without its condition being false."""
    return "not a confirmed failure", (
        f"the check failed as {cause!r}, not on its own condition ({evidence}); an action runs "
        "only on a confirmed failure: set on_unreachable = true in the [[remediation.allow]] "
        "entry to act on this too")
