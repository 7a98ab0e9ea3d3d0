"""The state store's gates, one at a time, on a clock the test moves: budget, window, lock
expiry, back-off, cooldown, circuits, plan mode and reset (remediations.state).

The store is real (SQLite files under tmp_path, two stores sharing one file where two runs
would); only the wall clock is the test's, so that a lock's expiry, a back-off or a
cooldown is crossed by one second on either side instead of being waited for.
"""

from __future__ import annotations

import os
import sqlite3
import threading
import time
from pathlib import Path

import pytest

from opscheck.remediations import state
from opscheck.remediations.state import Policy, Store

T0 = 1_700_000_000.0
KEY = "bus/restart_service"


class Clock:
    """Stands in for the ``time`` module inside remediations.state: time() is the test's."""

    def __init__(self) -> None:
        self.now = T0

    def time(self) -> float:
        return self.now

    def monotonic(self) -> float:
        return time.monotonic()

    def sleep(self, seconds: float) -> None:
        time.sleep(seconds)

    def strftime(self, fmt: str, when: time.struct_time) -> str:
        return time.strftime(fmt, when)

    def localtime(self, ts: float) -> time.struct_time:
        return time.localtime(ts)


@pytest.fixture
def clock(monkeypatch: pytest.MonkeyPatch) -> Clock:
    fake = Clock()
    monkeypatch.setattr(state, "time", fake)
    return fake


@pytest.fixture
def db(tmp_path: Path) -> Path:
    return tmp_path / "state" / "remediation.sqlite"


def policy(budget: int = 3, window: float = 3600, backoff: float = 0, backoff_max: float = 0,
           cooldown: float = 0, hold: float = 10) -> Policy:
    return Policy(budget, window, backoff, backoff_max, cooldown, hold)


def at(ts: float) -> str:
    return time.strftime("%H:%M:%S", time.localtime(ts))


def attempt(store: Store, pol: Policy, outcome: str = "failed") -> state.Decision:
    """One reserve that must go, finished with ``outcome``."""
    decision = store.reserve(KEY, pol)
    assert decision.go, decision
    assert decision.attempt_id is not None
    store.finish(KEY, decision.attempt_id, outcome, pol)
    return decision


# -- budget and window ------------------------------------------------------------------


def test_the_budget_allows_exactly_budget_attempts_then_says_budget_and_opens_the_circuit(
        clock, db):
    store = Store(db, "run-1")
    pol = policy(budget=2)
    first, second = attempt(store, pol, "fixed"), attempt(store, pol, "fixed")
    assert (first.attempt, second.attempt) == (1, 2)
    clock.now += 1
    third = store.reserve(KEY, pol)
    assert (third.go, third.reason, third.attempt) == (False, "budget", 2)
    assert third.detail == "budget spent: 2 attempts within 3600 s; circuit now open"
    assert store.open_circuits() == {KEY: "budget spent: 2 attempts within 3600 s"}
    again = store.reserve(KEY, pol)  # the circuit, not the budget, says no from now on
    assert (again.go, again.reason) == (False, "circuit open")
    assert again.detail == (f"circuit open since {at(T0 + 1)} (budget spent: 2 attempts within "
                            "3600 s); closes after 0 s healthy or --remediate-reset")


def test_attempts_older_than_the_window_no_longer_count_against_the_budget(clock, db):
    store = Store(db, "run-1")
    pol = policy(budget=1, window=600)
    attempt(store, pol, "fixed")
    clock.now = T0 + 599  # still inside the window: the budget is spent
    assert store.reserve(KEY, pol, write=False).reason == "budget"
    clock.now = T0 + 601
    later = store.reserve(KEY, pol)
    assert later.go and later.attempt == 1


def test_cancelled_attempts_do_not_count_against_the_budget(clock, db):
    store = Store(db, "run-1")
    pol = policy(budget=1)
    decision = store.reserve(KEY, pol)
    assert not store.finish(KEY, decision.attempt_id, "cancelled", pol)  # confirmation passed
    later = store.reserve(KEY, pol)
    assert later.go and later.attempt == 1


def test_finish_opens_the_circuit_only_when_the_last_failing_attempt_spends_the_budget(
        clock, db):
    store = Store(db, "run-1")
    pol = policy(budget=2)
    first = store.reserve(KEY, pol)
    assert store.finish(KEY, first.attempt_id, "failed", pol) is False  # 1 of 2
    assert store.open_circuits() == {}
    second = store.reserve(KEY, pol)
    assert store.finish(KEY, second.attempt_id, "failed", pol) is True  # 2 of 2, still failing
    assert store.open_circuits() == {
        KEY: "budget spent: 2 attempts within 3600 s, last re-check still failing"}


def test_a_fix_on_the_last_attempt_of_the_budget_opens_no_circuit(clock, db):
    store = Store(db, "run-1")
    pol = policy(budget=1)
    decision = store.reserve(KEY, pol)
    assert store.finish(KEY, decision.attempt_id, "fixed", pol) is False
    assert store.open_circuits() == {}


def test_finish_records_the_outcome_and_releases_only_its_own_lock(clock, db):
    mine, other = Store(db, "run-1"), Store(db, "run-2")
    pol = policy()
    decision = mine.reserve(KEY, pol)
    other.finish(KEY, decision.attempt_id, "failed", pol)  # not the holder: the lock stays
    assert other.reserve(KEY, pol).reason == "locked"
    clock.now += 5
    mine.finish(KEY, decision.attempt_id, "fixed", pol)
    row = sqlite3.connect(db).execute("SELECT started, finished, outcome, owner FROM attempts "
                                      "WHERE id=?", (decision.attempt_id,)).fetchone()
    assert row == (T0, T0 + 5, "fixed", "run-1")
    assert other.reserve(KEY, pol).go


# -- locks ------------------------------------------------------------------------------


def test_a_live_lock_holds_for_the_hold_plus_the_margin_and_expires_after(clock, db):
    holder, other = Store(db, "run-1"), Store(db, "run-2")
    pol = policy(hold=10)
    assert holder.reserve(KEY, pol).go  # this process is alive: only expiry frees it
    expires = T0 + 10 + state.LOCK_MARGIN
    clock.now = expires - 1
    held = other.reserve(KEY, pol)
    assert (held.go, held.reason, held.attempt) == (False, "locked", 1)
    assert held.detail == f"held by run-1 (pid {os.getpid()} on {state.HOST})"
    clock.now = expires + 1
    taken = other.reserve(KEY, pol)
    assert taken.go and taken.attempt == 2


def _lock(db: Path, host: str, pid: int, expires: float) -> None:
    Store(db, "setup").close()
    with sqlite3.connect(db) as conn:
        conn.execute("INSERT INTO locks VALUES (?, 'gone', ?, ?, ?, ?)",
                     (KEY, host, pid, T0, expires))


def _dead_pid() -> int:
    pid = os.getpid() + 100_000
    while True:
        try:
            os.kill(pid, 0)
        except ProcessLookupError:
            return pid
        except PermissionError:
            pass
        pid += 1


def test_a_lock_whose_holder_is_gone_from_this_host_is_taken_at_once(clock, db):
    _lock(db, state.HOST, _dead_pid(), T0 + 3600)
    assert Store(db, "run-1").reserve(KEY, policy()).go


def test_a_lock_held_from_another_host_is_respected_until_it_expires(clock, db):
    _lock(db, "elsewhere", _dead_pid(), T0 + 3600)  # its pid means nothing here
    held = Store(db, "run-1").reserve(KEY, policy())
    assert (held.go, held.reason) == (False, "locked")
    assert held.detail.endswith("on elsewhere)")


def test_a_holder_without_permission_to_signal_counts_as_alive(monkeypatch):
    def denied(pid: int, sig: int) -> None:
        raise PermissionError(pid)

    monkeypatch.setattr(state.os, "kill", denied)
    assert state._alive(state.HOST, 1)


# -- back-off ---------------------------------------------------------------------------


@pytest.mark.parametrize(("attempts", "delay"), [(0, 10), (1, 10), (2, 20), (3, 40), (4, 80),
                                                 (5, 100), (9, 100)])
def test_back_off_doubles_from_its_base_after_each_attempt_up_to_its_maximum(attempts, delay):
    assert policy(backoff=10, backoff_max=100).delay(attempts) == delay


def test_a_retry_inside_the_back_off_is_skipped_and_says_when_the_next_may_run(clock, db):
    store = Store(db, "run-1")
    pol = policy(budget=5, backoff=10, backoff_max=100)
    attempt(store, pol)
    clock.now = T0 + 9
    early = store.reserve(KEY, pol)
    assert (early.go, early.reason, early.attempt) == (False, "back-off", 1)
    assert early.detail == f"attempt 1 at {at(T0)}; next not before {at(T0 + 10)}"
    clock.now = T0 + 11
    second = attempt(store, pol)
    assert second.attempt == 2
    clock.now = T0 + 11 + 19  # after two attempts the back-off is 20 s
    assert store.reserve(KEY, pol).reason == "back-off"
    clock.now = T0 + 11 + 21
    assert store.reserve(KEY, pol).go


# -- circuits and cooldown --------------------------------------------------------------


def _open(store: Store, clock: Clock, pol: Policy) -> None:
    attempt(store, pol, "fixed")
    assert store.reserve(KEY, pol).reason == "budget"  # spent: the circuit opens
    assert KEY in store.open_circuits()


def test_an_open_circuit_closes_only_after_the_cooldown_of_continuous_health(clock, db):
    store = Store(db, "run-1")
    pol = policy(budget=1, cooldown=300)
    _open(store, clock, pol)
    assert store.observe(KEY, True, pol) is False  # healthy from now on
    clock.now += 299
    assert store.observe(KEY, True, pol) is False
    assert KEY in store.open_circuits()
    clock.now += 2
    assert store.observe(KEY, True, pol) is True
    assert store.open_circuits() == {}
    assert store.reserve(KEY, pol).go  # its attempts were forgotten with it


def test_the_circuit_closes_the_moment_the_cooldown_is_reached(clock, db):
    store = Store(db, "run-1")
    pol = policy(budget=1, cooldown=300)
    _open(store, clock, pol)
    store.observe(KEY, True, pol)
    clock.now += 300  # healthy for exactly the cooldown
    assert store.observe(KEY, True, pol) is True


def test_asking_whether_a_lock_holder_lives_sends_it_no_signal(tmp_path):
    import subprocess
    import sys

    child = subprocess.Popen([sys.executable, "-c", (
        "import signal, sys, time\n"
        "for s in (signal.SIGHUP, signal.SIGINT, signal.SIGTERM, signal.SIGUSR1):\n"
        "    signal.signal(s, lambda n, f: print('signal', n, flush=True))\n"
        "print('ready', flush=True)\n"
        "sys.stdin.read()\n")], stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
    try:
        assert child.stdout.readline().strip() == "ready"
        assert state._alive(state.HOST, child.pid)
    finally:
        out, _ = child.communicate("", timeout=30)
    assert out == ""  # nothing delivered: the probe is signal 0
    assert child.returncode == 0


def test_a_failing_check_restarts_the_cooldown(clock, db):
    store = Store(db, "run-1")
    pol = policy(budget=1, cooldown=300)
    _open(store, clock, pol)
    store.observe(KEY, True, pol)
    clock.now += 200
    assert store.observe(KEY, False, pol) is False  # unhealthy again: start over
    clock.now += 200
    assert store.observe(KEY, True, pol) is False  # healthy since now, not 400 s ago
    clock.now += 299
    assert store.observe(KEY, True, pol) is False
    clock.now += 2
    assert store.observe(KEY, True, pol) is True


def test_a_skip_on_an_open_circuit_restarts_the_cooldown(clock, db):
    store = Store(db, "run-1")
    pol = policy(budget=1, cooldown=300)
    _open(store, clock, pol)
    store.observe(KEY, True, pol)
    clock.now += 400
    assert store.reserve(KEY, pol).reason == "circuit open"  # a check failed again
    assert store.observe(KEY, True, pol) is False
    assert KEY in store.open_circuits()


def test_observing_a_key_without_a_circuit_closes_nothing(clock, db):
    store = Store(db, "run-1")
    pol = policy()
    attempt(store, pol, "fixed")
    assert store.observe(KEY, True, pol) is False
    assert store.observe(KEY, False, pol) is False
    clock.now += 1  # and its attempts are still counted
    assert store.reserve(KEY, pol).attempt == 2


# -- plan mode, reset, the file ---------------------------------------------------------


def test_plan_mode_decides_the_same_and_writes_nothing(clock, db):
    store = Store(db, "run-1")
    pol = policy(budget=1)
    for _ in range(2):
        plan = store.reserve(KEY, pol, write=False)
        assert (plan.go, plan.attempt) == (True, 1)
    attempt(store, pol, "fixed")
    assert store.reserve(KEY, pol, write=False).reason == "budget"
    assert store.open_circuits() == {}  # the circuit a plan would open is not written


def test_reset_closes_every_circuit_and_forgets_attempts_but_keeps_live_locks(clock, db):
    store, other = Store(db, "run-1"), Store(db, "run-2")
    pol = policy(budget=1)
    _open(store, clock, pol)
    assert other.reserve("db/checkpoint", pol).go  # a live lock of another key
    assert store.reset() == [KEY, "db/checkpoint"]  # sorted
    assert store.open_circuits() == {}
    assert store.reserve(KEY, pol).go
    assert store.reserve("db/checkpoint", pol).reason == "locked"


def test_the_store_creates_its_folder_and_uses_wal_mode(db):
    store = Store(db, "run-1")
    assert db.exists()
    assert store.db.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
    store.close()


def test_a_store_waits_for_another_writer_instead_of_failing(db):
    Store(db, "setup").close()
    blocker = sqlite3.connect(db, isolation_level=None, check_same_thread=False)
    blocker.execute("BEGIN IMMEDIATE")  # another process's decision in progress
    released = threading.Timer(0.3, lambda: blocker.execute("COMMIT"))
    released.start()
    try:
        decision = Store(db, "run-1").reserve(KEY, policy())
    finally:
        released.join()
    assert decision.go


def test_an_error_inside_a_decision_rolls_it_back(db):
    store = Store(db, "run-1")
    with pytest.raises(RuntimeError), store.transaction() as conn:
        conn.execute("INSERT INTO circuits VALUES ('x', 0, 'r', NULL)")
        raise RuntimeError("boom")
    assert store.open_circuits() == {}
    assert not store.db.in_transaction


@pytest.mark.parametrize(("message", "busy"), [("database is locked", True),
                                               ("database is busy", True),
                                               ("no such table: x", False)])
def test_only_locked_or_busy_errors_are_waited_out(message, busy):
    assert state._busy(sqlite3.OperationalError(message)) is busy


def test_a_lock_is_free_the_moment_it_expires(clock, db):
    holder, other = Store(db, "run-1"), Store(db, "run-2")
    pol = policy(hold=10)
    assert holder.reserve(KEY, pol).go
    clock.now = T0 + 10 + state.LOCK_MARGIN
    assert other.reserve(KEY, pol).go


def test_a_go_decision_has_no_reason_and_no_detail(clock, db):
    decision = Store(db, "run-1").reserve(KEY, policy())
    assert (decision.go, decision.reason, decision.detail) == (True, "", "")


def test_the_store_creates_every_missing_folder_of_its_path(tmp_path):
    Store(tmp_path / "a" / "b" / "state.sqlite", "run-1").close()
    assert (tmp_path / "a" / "b" / "state.sqlite").exists()


def test_a_busy_database_is_retried_and_any_other_error_raised_at_once(db):
    store = Store(db, "run-1")
    tries: list[int] = []

    def busy_once() -> None:
        tries.append(1)
        if len(tries) == 1:
            raise sqlite3.OperationalError("database is locked")

    store._retry(busy_once)
    assert len(tries) == 2

    def broken() -> None:
        tries.append(1)
        raise sqlite3.OperationalError("no such table: attempts")

    tries.clear()
    with pytest.raises(sqlite3.OperationalError, match="no such table"):
        store._retry(broken)
    assert len(tries) == 1
