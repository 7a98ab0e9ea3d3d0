"""Pre-opening: every selected component contacted at once, as the run starts.

A dead component's first check waits its timeout; twenty of them in a row waited twenty.
So, once collection is done, every component that a selected check asks for starts opening
in a thread of its own (at most :data:`POOL` at once, and :data:`PER_ADDRESS` to one
address, so the suite's own openings never hit a server's connection limit), while the
checks start running. A component's first check waits for its opening (never longer than
its timeout plus :data:`GRACE`) and meets what it found as its own open
(:mod:`opscheck.connect`): the one-line "unreachable at" failure, a "could not run", a
skip, or the target. By then the other openings have run alongside, so K dead components
cost about one timeout in all, and each is contacted once. The first :data:`KEPT` targets
in run order stay open for their first check; the others are closed at once (they were
reachable) and reopened by their first check. A target with a ``prepare(checks)`` method is
told the names of its selected checks once opened, to start what they will read (a host
starts its CPU sample: every host's is taken at the same time).

The same module releases each component after its last check: the collection order says
how many checks of each component are left, and when none is, its target is closed (after
any remediation's re-check), so its sessions end while the sweep goes on.

Nothing is opened for ``--collect-only``, nor under ``-n`` (xdist's workers learn their
checks one batch at a time; each component's checks go to one worker,
:mod:`opscheck.distribute`, so a dead one costs its timeout once on that worker).
"""

from __future__ import annotations

import contextlib
import threading
import time
from collections import Counter
from collections.abc import Iterator
from typing import Any

import pytest

from opscheck import connect
from opscheck.components import Component
from opscheck.kinds import target_for
from opscheck.plugin import inventory_of

POOL = 32  # openings in flight at once
PER_ADDRESS = 4  # openings in flight to one address at once
KEPT = connect.HELD // 2  # pre-opened targets kept open for their first check
GRACE = 1.0  # seconds past a component's timeout its first check waits for its opening

_LEFT = pytest.StashKey[Counter[str]]()


def component_of(item: pytest.Item) -> str | None:
    """The name of the component ``item`` checks (its ``component`` property)."""
    return next((str(v) for k, v in item.user_properties if k == "component"), None)


def wanted(items: list[pytest.Item]) -> dict[str, set[str]]:
    """The components the checks to run ask for, in the order their first check comes, each
    with the function names of its checks (a check skipped at collection asks for nothing)."""
    names: dict[str, set[str]] = {}
    for item in items:
        name = component_of(item)
        if name is not None and item.get_closest_marker("skip") is None:
            names.setdefault(name, set()).add(getattr(item, "originalname", item.name))
    return names


class Opening:
    """One component's opening, in its own thread; :meth:`wait` is its first check's."""

    def __init__(self, component: Component, keep: bool, gates: list[threading.Semaphore],
                 checks: set[str]) -> None:
        self.component = component
        self.keep = keep  # a target that holds a connection is kept only if asked
        self.checks = checks  # the names of its selected checks
        self.target: Any = None
        self.error: Exception | None = None
        self.given_up = False  # its check went on without it: a late target is closed
        self._lock = threading.Lock()
        self._gates = gates
        self.thread = threading.Thread(target=self._run, daemon=True,
                                       name=f"opscheck-open-{component.name}")
        self.began: float | None = None  # when it got its turn (the gates let it through)

    def _run(self) -> None:
        gate, pool = self._gates
        with gate, pool:
            self.began = time.monotonic()
            try:
                target = target_for(self.component.kind).open(self.component)
            except Exception as exc:  # handed to the component's first check
                self.error = exc
                return
        prepare = getattr(target, "prepare", None)
        if callable(prepare):  # what its checks will read, started now (a CPU sample)
            with contextlib.suppress(Exception):  # the check reads it afresh, and says why
                prepare(self.checks)
        with self._lock:
            if (self.keep or not connect._holds(target)) and not self.given_up:
                self.target = target
                return
        connect._close(target)

    def drop(self) -> None:
        """The run ends without this opening's check: close what it opened."""
        with self._lock:
            self.given_up = True
            target, self.target = self.target, None
        connect._close(target)

    def wait(self) -> Any:
        """The opened target (None: reachable but closed, or no answer within the wait, so
        the check opens it itself), or raise what opening it raised."""
        limit = float(getattr(self.component, "timeout", 0) or 0) + GRACE
        while self.thread.is_alive():
            began = self.began  # waiting for its turn does not count against its time
            if began is not None and time.monotonic() >= began + limit:
                with self._lock:
                    self.given_up = True
                raise TimeoutError(f"no answer to opening it within {limit:g} s")
            self.thread.join(0.05 if began is None else began + limit - time.monotonic())
        if self.error is not None:
            raise self.error
        with self._lock:
            target, self.target = self.target, None  # the check's now
        return target


_OPENINGS = pytest.StashKey[list[Opening]]()


def open_all(session: pytest.Session) -> None:
    """Start opening each wanted component; its first check waits for it."""
    inventory = inventory_of(session.config)
    checks = wanted(session.items)
    components = [c for c in map(inventory.get, checks) if c is not None]
    conns = connect.connections(session.config)
    openings = session.config.stash[_OPENINGS] = []
    pool = threading.Semaphore(POOL)
    gates: dict[str, threading.Semaphore] = {}
    for rank, component in enumerate(components):
        gate = gates.setdefault(component.address, threading.Semaphore(PER_ADDRESS))
        opening = Opening(component, rank < KEPT, [gate, pool], checks[component.name])
        conns.early[component.name] = opening.wait
        openings.append(opening)
        opening.thread.start()


def _runs_checks(session: pytest.Session) -> bool:
    config = session.config
    return not (config.option.collectonly or hasattr(config, "workerinput")
                or config.pluginmanager.has_plugin("dsession"))


@pytest.hookimpl(wrapper=True, tryfirst=True)
def pytest_runtestloop(session: pytest.Session) -> Iterator[None]:
    if _runs_checks(session) and session.items and not session.testsfailed:
        session.config.stash[_LEFT] = Counter(
            name for item in session.items if (name := component_of(item)) is not None
            and item.get_closest_marker("skip") is None)
        open_all(session)
    return (yield)


@pytest.hookimpl(wrapper=True)
def pytest_runtest_protocol(item: pytest.Item, nextitem: pytest.Item | None) -> Iterator[None]:
    """After the check's whole run (remediation's re-check included): release its component
    when this was its last check."""
    result = yield
    left = item.config.stash.get(_LEFT, None)
    name = component_of(item)
    if left is not None and name is not None and left[name] > 0 and \
            item.get_closest_marker("skip") is None:
        left[name] -= 1
        if left[name] == 0:
            connect.connections(item.config).release(name)
    return result


def pytest_sessionfinish(session: pytest.Session) -> None:
    """A run that stopped early (``-x``, an interrupt) closes what no check took."""
    for opening in session.config.stash.get(_OPENINGS, []):
        opening.drop()
