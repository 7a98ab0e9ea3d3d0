"""The runner's gates and lines, in-process (remediations.runner): which gate says no and
how, how often the check is re-run and with which pauses, what one handled failure writes
to the audit log and shows in the report. Real commands (true, false), a real store and
audit log under tmp_path; only the pauses are recorded instead of slept."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from opscheck.remediations.config import Remediation
from opscheck.remediations.runner import CONDITION, Outcome, Request, Runner, cause_of

NODE = "checks/web/test_web.py::test_up"


def section(tmp_path: Path, *, command: tuple[str, ...] = ("true",), action="restart_service",
            entry: dict[str, Any] | None = None, **table: Any) -> Remediation:
    allow = {"component": "web", "action": action, "params": {"command": list(command)},
             **(entry or {})}
    return Remediation.model_validate({
        "state": str(tmp_path / "state.sqlite"), "audit": str(tmp_path / "audit.jsonl"),
        "confirm_delay": 0.5, "settle": 2, "backoff": 0, **table, "allow": [allow]})


class Sleeps(list):
    def __call__(self, seconds: float) -> None:
        self.append(seconds)


class Recheck:
    """The check re-run: its results in turn (True passes), the last one repeated."""

    def __init__(self, *results: bool, cause: str | None = None) -> None:
        self.results, self.calls, self.cause = list(results), 0, cause

    def __call__(self) -> tuple[bool, str]:
        passed = self.results[min(self.calls, len(self.results) - 1)]
        self.calls += 1
        return passed, "" if passed else f"web down (re-run {self.calls})"


def runner(sec: Remediation, mode: str = "apply", approved: set[str] | None = None,
           killed: str | None = None) -> tuple[Runner, Sleeps]:
    sleeps = Sleeps()
    return Runner(sec, mode, approved or set(), "run-1", killed=killed, sleep=sleeps), sleeps


def request(component: str | None = "web", action: str = "restart_service",
            cause: str = CONDITION) -> Request:
    return Request(NODE, component, action, "web down", cause)


def records(tmp_path: Path) -> list[dict[str, Any]]:
    return [json.loads(line) for line in (tmp_path / "audit.jsonl").read_text().splitlines()]


# -- gate 1: the vetoes -----------------------------------------------------------------


def test_the_kill_switch_says_no_before_anything_else(tmp_path):
    run, sleeps = runner(section(tmp_path), killed="enabled = false in the inventory")
    out = run.handle(request(), Recheck(False))
    assert (out.decision, out.detail) == ("skipped: kill switch",
                                          "enabled = false in the inventory")
    assert out.line() == ("NOT REMEDIATED (skipped: kill switch): web restart_service: "
                          "enabled = false in the inventory")
    assert sleeps == []
    (record,) = records(tmp_path)
    assert (record["decision"], record["node"], record["evidence"]) == (
        "skipped: kill switch", NODE, "web down")


def test_an_action_no_entry_allows_is_not_run(tmp_path):
    run, _ = runner(section(tmp_path))
    out = run.handle(request(component="db"), Recheck(False))
    assert (out.decision, out.detail) == (
        "skipped: not allowed", "no [[remediation.allow]] entry for component db and action "
        "restart_service")
    out = run.handle(request(component=None), Recheck(False))
    assert out.detail == ("no [[remediation.allow]] entry for component (none: the check names "
                          "no component) and action restart_service")
    assert out.line().startswith("NOT REMEDIATED (skipped: not allowed): ? restart_service: ")
    assert len(records(tmp_path)) == 2


def test_a_check_that_could_not_run_is_not_a_confirmed_failure(tmp_path):
    run, _ = runner(section(tmp_path))
    out = run.handle(request(cause="unreachable"), Recheck(False))
    assert out.decision == "skipped: not a confirmed failure"
    assert out.detail == (
        "the check failed as 'unreachable', not on its own condition (web down); an action "
        "runs only on a confirmed failure: set on_unreachable = true in the "
        "[[remediation.allow]] entry to act on this too")


def test_on_unreachable_lets_an_entry_act_on_a_check_that_could_not_run(tmp_path):
    run, _ = runner(section(tmp_path, entry={"on_unreachable": True}))
    out = run.handle(request(cause="unreachable"), Recheck(False, True, cause="unreachable"))
    assert out.decision == "ran" and out.state == "remediated"


def test_a_risky_action_needs_its_approval_by_action_or_by_component_and_action(tmp_path):
    sec = section(tmp_path, action="restart_database")
    out = runner(sec)[0].handle(request(action="restart_database"), Recheck(False))
    assert (out.decision, out.detail) == (
        "skipped: needs approval", "restart_database is risky (deletes data or restarts a "
        "database); run with --approve restart_database")
    for approval in ("restart_database", "web:restart_database"):
        run = runner(sec, approved={approval})[0]
        assert run.is_approved(request(action="restart_database"))
    assert not runner(sec, approved={"db:restart_database"})[0].is_approved(
        request(action="restart_database"))


def test_an_entry_marked_risky_needs_approval_too(tmp_path):
    out = runner(section(tmp_path, entry={"risky": True}))[0].handle(request(), Recheck(False))
    assert out.decision == "skipped: needs approval"


def test_the_emergency_stop_file_vetoes_while_it_exists(tmp_path):
    stop = tmp_path / "STOP"
    sec = section(tmp_path, emergency_stop=str(stop))
    run, _ = runner(sec)
    assert run.emergency_stop() is None
    stop.touch()
    out = run.handle(request(), Recheck(False))
    assert (out.decision, out.detail) == ("skipped: emergency stop",
                                          f"emergency-stop file {stop} exists")


# -- gate 2: confirmation, and the action ------------------------------------------------


def test_a_confirmed_failure_is_fixed_and_the_pauses_are_confirm_delay_then_settle(tmp_path):
    run, sleeps = runner(section(tmp_path, confirm=3))
    check = Recheck(False, False, False, True)  # 2 confirmations, the last one, the re-check
    out = run.handle(request(), check)
    assert check.calls == 4
    assert sleeps == [0.5, 0.5, 0.5, 2]
    assert (out.decision, out.state, out.recheck, out.exit_status) == (
        "ran", "remediated", "passed", 0)
    assert (out.attempt, out.budget, out.changed, out.summary) == (1, 3, True, "ran true")
    assert out.line() == (f"REMEDIATED: web restart_service (attempt 1/3): ran true; exit 0 in "
                          f"{out.duration:.1f} s; re-check passed")
    (record,) = records(tmp_path)
    assert {k: record[k] for k in ("decision", "attempt", "recheck", "exit_status", "mode")} == {
        "decision": "ran", "attempt": 1, "recheck": "passed", "exit_status": 0, "mode": "apply"}


@pytest.mark.parametrize(("results", "detail"), [
    ((True,), "passed on re-run 1"), ((False, True), "passed on re-run 2")])
def test_a_pass_on_a_confirmation_run_means_no_action(tmp_path, results, detail):
    run, _ = runner(section(tmp_path, confirm=3))
    out = run.handle(request(), Recheck(*results))
    assert (out.decision, out.detail, out.attempt) == ("skipped: not confirmed", detail, None)
    assert out.line() == f"NOT REMEDIATED (skipped: not confirmed): web restart_service: {detail}"


def test_a_pass_on_the_last_run_under_the_lock_cancels_the_attempt(tmp_path):
    run, _ = runner(section(tmp_path, budget=1))
    out = run.handle(request(), Recheck(True))
    assert (out.decision, out.detail, out.attempt) == (
        "skipped: not confirmed", "passed on the re-run before the action", None)
    assert run.handle(request(), Recheck(False, True)).state == "remediated"  # not spent


def test_a_confirmation_that_could_not_run_stops_it(tmp_path):
    run, _ = runner(section(tmp_path, confirm=2))
    out = run.handle(request(), Recheck(False, cause="unreachable"))
    assert out.decision == "skipped: not a confirmed failure"
    assert "failed as 'unreachable'" in out.detail and "(web down (re-run 1))" in out.detail


def test_a_failing_action_is_not_settled_and_its_recheck_line_is_shown(tmp_path):
    run, sleeps = runner(section(tmp_path, command=("false",)))
    out = run.handle(request(), Recheck(False))
    assert sleeps == [0.5]  # no settle after a failed action
    assert (out.state, out.exit_status, out.recheck) == ("remediation failed", 1, "failed")
    assert out.line() == (f"REMEDIATION FAILED: web restart_service (attempt 1/3): ran false; "
                          f"exit 1 in {out.duration:.1f} s; re-check failed: web down (re-run 2)")


def test_the_run_that_spends_the_budget_says_the_circuit_opened(tmp_path):
    run, _ = runner(section(tmp_path, command=("false",), budget=1))
    out = run.handle(request(), Recheck(False))
    assert out.circuit_opened
    assert out.line().endswith("; budget spent, circuit now open: nothing more runs until "
                               "healthy or --remediate-reset")
    again = run.handle(request(), Recheck(False))
    assert again.decision == "skipped: circuit open" and not again.circuit_opened
    assert records(tmp_path)[0]["circuit_opened"] is True


def test_a_budget_spent_by_fixes_opens_the_circuit_at_the_next_failure(tmp_path):
    run, _ = runner(section(tmp_path, budget=1))
    assert run.handle(request(), Recheck(False, True)).state == "remediated"
    out = run.handle(request(), Recheck(False))
    assert (out.decision, out.circuit_opened, out.attempt) == ("skipped: budget", True, 1)


def test_a_plan_runs_nothing_and_writes_no_attempt(tmp_path):
    run, sleeps = runner(section(tmp_path, budget=1), mode="plan")
    for _ in range(2):
        out = run.handle(request(), Recheck(False))
        assert (out.decision, out.state, out.summary, out.recheck) == (
            "planned", "planned", "would run: true", None)
    assert out.line() == "PLANNED (nothing run): web restart_service (attempt 1/1): would run: true"
    assert sleeps == [0.5, 0.5]


def test_a_plan_whose_dry_run_fails_says_would_fail(tmp_path):
    run, _ = runner(section(tmp_path, command=("/nonexistent/restart",)), mode="plan")
    out = run.handle(request(), Recheck(False))
    assert (out.decision, out.state, out.exit_status) == ("would fail", "would fail", 127)
    assert out.line() == (
        "WOULD FAIL (nothing run; the dry run failed, exit 127): web restart_service (attempt "
        "1/3): /nonexistent/restart is not an executable file (for /nonexistent/restart); fix "
        "the command")


def test_an_unusable_state_store_means_no_action(tmp_path):
    (tmp_path / "state.sqlite").mkdir()  # not a file SQLite can open
    run, _ = runner(section(tmp_path))
    out = run.handle(request(), Recheck(False))
    assert out.decision == "skipped: state store"
    assert out.detail.startswith(f"{tmp_path / 'state.sqlite'}: ")


def test_an_interrupt_after_the_action_releases_the_lock_and_says_so(tmp_path):
    run, _ = runner(section(tmp_path))
    calls = []

    def recheck() -> tuple[bool, str]:
        calls.append(1)
        if len(calls) == 2:  # the re-check after the action: Ctrl-C
            raise KeyboardInterrupt
        return False, "web down"

    with pytest.raises(KeyboardInterrupt):
        run.handle(request(), recheck)
    (record,) = records(tmp_path)
    assert (record["decision"], record["detail"]) == ("ran", "interrupted before the re-check")
    assert run.store.reserve("web/restart_service", run.policy(run.section.allow[0])).go


# -- policy, preflight, lines -----------------------------------------------------------


def test_the_policy_takes_the_entrys_limits_then_the_tables_and_holds_the_whole_attempt(
        tmp_path):
    sec = section(tmp_path, budget=5, timeout=30, entry={"budget": 2, "cooldown": 7})
    policy = runner(sec)[0].policy(sec.allow[0])
    assert (policy.budget, policy.window, policy.backoff, policy.cooldown) == (2, 3600, 0, 7)
    assert policy.hold == 30 + 2 + 0.5  # timeout + settle + confirm_delay
    assert policy.backoff_max == 3600


def test_preflight_names_the_file_it_cannot_write_and_the_fix(tmp_path):
    assert runner(section(tmp_path))[0].preflight() is None
    blocked = tmp_path / "file"
    blocked.write_text("")
    sec = section(tmp_path, audit=str(blocked / "audit.jsonl"))
    message = runner(sec)[0].preflight()
    assert message.startswith(f"remediation.audit: cannot write {blocked / 'audit.jsonl'} (")
    assert message.endswith("); point [remediation].audit at a writable file")


def test_cause_of_a_recheck_is_its_own_or_the_condition():
    assert cause_of(Recheck(False)) == CONDITION
    assert cause_of(Recheck(False, cause="unreachable")) == "unreachable"


def test_an_outcome_as_a_record_carries_its_state_and_line():
    out = Outcome(NODE, "web", "restart_service", "apply", "skipped: locked", detail="held")
    assert out.as_dict()["state"] == "not remediated"
    assert out.as_dict()["line"] == "NOT REMEDIATED (skipped: locked): web restart_service: held"
    assert out.as_dict()["node"] == NODE


def test_a_note_outside_a_check_is_one_audit_record_in_the_runs_mode(tmp_path):
    run, _ = runner(section(tmp_path), mode="plan")
    run.note(component="web", action="restart_service", decision="circuit closed")
    (record,) = records(tmp_path)
    assert (record["mode"], record["decision"], record["component"]) == (
        "plan", "circuit closed", "web")


def outcomes(tmp_path: Path) -> list[str]:
    import sqlite3

    with sqlite3.connect(tmp_path / "state.sqlite") as db:
        return [r[0] for r in db.execute("SELECT outcome FROM attempts ORDER BY id")]


def locks(tmp_path: Path) -> int:
    import sqlite3

    with sqlite3.connect(tmp_path / "state.sqlite") as db:
        return db.execute("SELECT count(*) FROM locks").fetchone()[0]


def test_each_attempts_outcome_is_recorded_and_its_lock_released(tmp_path):
    run, _ = runner(section(tmp_path, budget=5))
    run.handle(request(), Recheck(True))  # passed under the lock: cancelled
    run.handle(request(), Recheck(False, True))  # fixed
    run.handle(request(), Recheck(False))  # still failing
    assert outcomes(tmp_path) == ["cancelled", "fixed", "failed"]
    assert locks(tmp_path) == 0


def test_an_emergency_stop_that_appears_before_the_action_cancels_it(tmp_path):
    stop = tmp_path / "STOP"
    run, _ = runner(section(tmp_path, emergency_stop=str(stop)))

    def recheck() -> tuple[bool, str]:
        stop.touch()  # the operator pulls the brake while the check is re-run
        return False, "web down"

    out = run.handle(request(), recheck)
    assert (out.decision, out.detail, out.attempt) == (
        "skipped: emergency stop", f"emergency-stop file {stop} exists", None)
    assert outcomes(tmp_path) == ["cancelled"] and locks(tmp_path) == 0


def test_a_last_rerun_that_could_not_run_cancels_the_attempt(tmp_path):
    run, _ = runner(section(tmp_path))
    out = run.handle(request(), Recheck(False, cause="unreachable"))
    assert out.decision == "skipped: not a confirmed failure" and out.attempt is None
    assert out.detail.startswith("the check failed as 'unreachable', not on its own condition "
                                 "(web down (re-run 1)); ")
    assert outcomes(tmp_path) == ["cancelled"]


def test_every_record_of_an_allowed_action_carries_its_parameters(tmp_path):
    run, _ = runner(section(tmp_path, confirm=2, budget=1))
    run.handle(request(), Recheck(True))  # not confirmed
    run.handle(request(), Recheck(False, False, True))  # ran
    run.handle(request(), Recheck(False, False))  # budget
    run.handle(request(component="db"), Recheck(False))  # not allowed: no entry
    params = [r["params"] for r in records(tmp_path)]
    assert params == [{"command": ["true"]}] * 3 + [None]
    assert [r["node"] for r in records(tmp_path)] == [NODE] * 4


def spec_raising(monkeypatch, exc: BaseException, seen: list):
    from opscheck.remediations import registry

    real = registry.get("restart_service")

    def func(ctx, params):
        seen.append((ctx.component, ctx.plan, ctx.timeout))
        raise exc

    fake = registry.ActionSpec(real.name, func, real.params, real.risky, real.summary)
    monkeypatch.setattr(registry, "get", lambda name: fake if name == real.name else real)


@pytest.mark.parametrize(("exc", "summary", "status"), [
    (None, "restart_service timed out after 60 s", 124),
    (None, "restart_service refused or failed: no such unit", 1),
    (OSError("disk gone"), "restart_service crashed: OSError: disk gone", 1),
])
def test_an_action_that_times_out_refuses_or_crashes_is_a_failed_attempt(
        tmp_path, monkeypatch, exc, summary, status):
    from opscheck.remediations import registry

    if status == 124:
        exc = registry.ActionTimeout("timed out after 60 s")
    elif exc is None:
        exc = registry.ActionError("no such unit")
    seen: list = []
    spec_raising(monkeypatch, exc, seen)
    run, sleeps = runner(section(tmp_path))
    out = run.handle(request(), Recheck(False))
    assert seen == [("web", False, 60.0)]
    assert (out.summary, out.exit_status, out.changed, out.state) == (
        summary, status, False, "remediation failed")
    assert sleeps == [0.5]  # no settle after a failed action
    assert outcomes(tmp_path) == ["failed"]


def test_an_interrupted_attempt_is_recorded_as_interrupted(tmp_path):
    run, _ = runner(section(tmp_path))
    calls = []

    def recheck() -> tuple[bool, str]:
        calls.append(1)
        if len(calls) == 2:
            raise KeyboardInterrupt
        return False, "web down"

    with pytest.raises(KeyboardInterrupt):
        run.handle(request(), recheck)
    assert outcomes(tmp_path) == ["interrupted"] and locks(tmp_path) == 0


def test_a_ran_attempts_record_holds_what_it_did_and_what_the_recheck_said(tmp_path):
    run, _ = runner(section(tmp_path, command=("sh", "-c", "echo restarted; exit 3"), budget=1))
    out = run.handle(request(), Recheck(False))
    assert (out.node, out.mode, out.component, out.action) == (
        NODE, "apply", "web", "restart_service")
    assert 0 <= out.duration < 3600 and round(out.duration, 3) == out.duration
    (record,) = records(tmp_path)
    assert {k: record[k] for k in ("component", "action", "summary", "changed", "exit_status",
                                   "duration", "recheck", "recheck_line", "output",
                                   "circuit_opened", "run")} == {
        "component": "web", "action": "restart_service",
        "summary": "ran sh -c 'echo restarted; exit 3'", "changed": True, "exit_status": 3,
        "duration": out.duration, "recheck": "failed", "recheck_line": "web down (re-run 2)",
        "output": "restarted\n", "circuit_opened": True, "run": "run-1"}


def test_a_veto_with_an_allow_entry_records_its_parameters(tmp_path):
    stop = tmp_path / "STOP"
    stop.touch()
    runner(section(tmp_path), killed="enabled = false")[0].handle(request(), Recheck(False))
    runner(section(tmp_path, emergency_stop=str(stop)))[0].handle(request(), Recheck(False))
    runner(section(tmp_path, confirm=2))[0].handle(
        request(), Recheck(False, cause="unreachable"))
    assert [r["params"] for r in records(tmp_path)] == [{"command": ["true"]}] * 3


def test_an_emergency_stop_is_obeyed_before_any_rerun_or_reservation(tmp_path):
    stop = tmp_path / "STOP"
    stop.touch()
    check = Recheck(False)
    run, sleeps = runner(section(tmp_path, emergency_stop=str(stop), confirm=3))
    assert run.handle(request(), check).decision == "skipped: emergency stop"
    assert (check.calls, sleeps) == (0, [])
    assert not (tmp_path / "state.sqlite").exists()  # the store was not even opened


def test_the_records_of_cancelled_and_interrupted_attempts_carry_the_parameters(tmp_path):
    run, _ = runner(section(tmp_path))
    run.handle(request(), Recheck(True))  # passed under the lock
    run.handle(request(), Recheck(False, cause="unreachable"))  # could not run under the lock
    (tmp_path / "bad").mkdir()
    runner(section(tmp_path, state=str(tmp_path / "bad")))[0].handle(request(), Recheck(False))
    assert [(r["decision"], r["params"]) for r in records(tmp_path)] == [
        ("skipped: not confirmed", {"command": ["true"]}),
        ("skipped: not a confirmed failure", {"command": ["true"]}),
        ("skipped: state store", {"command": ["true"]})]


def test_preflight_names_an_unusable_state_store(tmp_path):
    blocked = tmp_path / "file"
    blocked.write_text("")
    message = runner(section(tmp_path, state=str(blocked / "state.sqlite")))[0].preflight()
    assert message.startswith(f"remediation.state: cannot write {blocked / 'state.sqlite'} (")
    assert message.endswith("); point [remediation].state at a writable file")


def test_close_releases_the_store_once_opened_and_is_harmless_before(tmp_path):
    import sqlite3

    runner(section(tmp_path))[0].close()  # never opened: nothing to close
    run, _ = runner(section(tmp_path))
    store = run.store
    run.close()
    with pytest.raises(sqlite3.ProgrammingError):
        store.db.execute("SELECT 1")
