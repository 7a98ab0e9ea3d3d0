"""Connections: each component reached once per run; a dead one costs its timeout once.

Every ``<kind>_component`` fixture calls :func:`connect` with the kind's target opener.
Before the first check, :mod:`opscheck.preopen` starts opening every selected component at
once (a bounded pool of threads), so K dead components cost one timeout in all; each
component's first check waits for its opening here and meets what it found as its own open. At most
:data:`HELD` targets that hold a connection are kept open at a time (the least recently
used is closed first and reopened when a check needs it again), and a component's target
is closed after its last check (:func:`release`), so a sweep never holds more than a
bounded number of sessions on a server.
The first check of a component that cannot be reached fails with one line naming it and
its address; every later check of that component reports an error, ``could not run:
<name> unreachable``, without retrying. An error that a client raises mid-run (a timeout,
a refused connection) is treated the same way (see :mod:`opscheck.verdict`): that check
fails in one line and the component's later checks could not run. An opener that raises
:class:`~opscheck.errors.NotApplicable` (no NVML and no GPU declared) skips every check
of the component with that reason.
"""

from __future__ import annotations

import contextlib
from collections import OrderedDict
from collections.abc import Callable
from typing import Any, TypeVar

import pytest

from opscheck import secrets
from opscheck.components import Component
from opscheck.errors import CouldNotRun, NotApplicable

T = TypeVar("T")

COMPONENT = pytest.StashKey[Component]()
_UNREACHABLE = pytest.StashKey[str]()
_CONNECTIONS = pytest.StashKey["Connections"]()

#: targets holding a connection (those with a ``close``) kept open at once, at most
HELD = 8


def one_line(exc: BaseException) -> str:
    """``Type: first line of the message``, redacted."""
    text = str(exc).strip().splitlines()
    first = text[0] if text else ""
    return secrets.redact(f"{type(exc).__name__}: {first}" if first else type(exc).__name__)


def is_connection_error(exc: BaseException) -> bool:
    """Is ``exc`` about reaching the component (not about what it answered)?"""
    if isinstance(exc, OSError | TimeoutError | ConnectionError):
        return True
    names = {cls.__name__ for cls in type(exc).__mro__}
    return bool(names & {"ConnectionError", "TimeoutError", "Timeout", "ConnectTimeout",
                         "ReadTimeout", "OperationalError", "AuthenticationError",
                         "NoServersError", "NVMLError"})


class Connections:
    """The run's cache of opened targets and of components found unreachable or not
    applicable."""

    def __init__(self, held: int = HELD) -> None:
        self.opened: OrderedDict[str, Any] = OrderedDict()  # least recently used first
        self.failed: dict[str, str] = {}
        self.skipped: dict[str, str] = {}
        #: pre-opening's answer for a component's first check: waits for it, then returns its
        #: target (None: reachable, not kept open) or raises what opening it raised
        self.early: dict[str, Callable[[], Any]] = {}
        self.held = held
        self.closed: list[str] = []  # components whose target was closed, in order

    def keep(self, name: str, target: Any) -> None:
        """Hold ``target`` as ``name``'s, closing the least recently used of the others
        that hold a connection when more than :attr:`held` would be open."""
        self.opened[name] = target
        self.opened.move_to_end(name)
        holding = [n for n, t in self.opened.items() if _holds(t)]
        for old in holding[:max(0, len(holding) - self.held)]:
            if old != name:
                self.release(old)

    def use(self, name: str) -> Any:
        self.opened.move_to_end(name)
        return self.opened[name]

    def release(self, name: str) -> None:
        """Close ``name``'s target (its failure is kept): a later check reopens it."""
        target = self.opened.pop(name, None)
        if target is not None:
            _close(target)
            self.closed.append(name)

    def mark_failed(self, component: Component, reason: str) -> None:
        self.failed.setdefault(component.name, reason)

    def forget(self, name: str) -> None:
        """Drop ``name``'s target (closed) and its failure: the next check reconnects."""
        self.failed.pop(name, None)
        self.skipped.pop(name, None)
        self.early.pop(name, None)
        _close(self.opened.pop(name, None))

    def close_all(self) -> None:
        for target in self.opened.values():
            _close(target)
        self.opened.clear()


def _holds(target: Any) -> bool:
    """Does ``target`` hold something to release (a connection, a session)?"""
    return callable(getattr(target, "close", None))


def _close(target: Any) -> None:
    close = getattr(target, "close", None)
    if close is not None:
        with contextlib.suppress(Exception):  # closing must not mask the results
            close()


def connections(config: pytest.Config) -> Connections:
    return config.stash[_CONNECTIONS]


def connect(request: pytest.FixtureRequest, opener: Callable[[Any], T]) -> T:
    """The target for ``request.param`` (a component), opened once per run by ``opener``.

    ``opener(component)`` returns the kind's target (the facts); it must bound its own
    waits by ``component.timeout``. When it raises, the check that asked fails with one line
    and the component's later checks could not run.
    """
    component: Component | None = getattr(request, "param", None)
    if component is None:
        raise NotApplicable("not configured in the inventory")
    request.node.stash[COMPONENT] = component
    conns = connections(request.config)
    if component.name in conns.skipped:
        raise NotApplicable(conns.skipped[component.name])
    if component.name in conns.failed:
        raise CouldNotRun(f"could not run: {component.name} unreachable "
                          f"({conns.failed[component.name]})")
    if component.name in conns.opened:
        return conns.use(component.name)
    early = conns.early.pop(component.name, None)
    try:
        target = early() if early is not None else None  # pre-opening's, as this check's own
        conns.keep(component.name, target if target is not None else opener(component))
    except NotApplicable as exc:
        conns.skipped[component.name] = str(exc)
        raise
    except CouldNotRun as exc:  # e.g. credentials refused: do not try again this run
        conns.mark_failed(component, str(exc))
        raise
    except Exception as exc:
        reason = f"{component.name} unreachable at {component.address}: {one_line(exc)}"
        conns.mark_failed(component, one_line(exc))
        request.node.stash[_UNREACHABLE] = reason
        return None  # type: ignore[return-value]  # pytest_runtest_call fails the check
    return conns.opened[component.name]


def read_in_setup(request: pytest.FixtureRequest, target: Any, fn: Callable[[], T]) -> T:
    """``fn()``, the facts a check judges, read in a fixture (its setup): a
    :class:`~opscheck.errors.CouldNotRun` it raises is the check's "could not run" (an
    error, as only a setup can end), and a connection lost while reading marks the
    component unreachable, as a check's would."""
    try:
        return fn()
    except CouldNotRun:
        raise
    except Exception as exc:
        if not is_connection_error(exc):
            raise
        line = one_line(exc)
        connections(request.config).mark_failed(target.component, line)
        raise CouldNotRun(f"could not run: {target} unreachable at "
                          f"{target.component.address} ({line})") from None


def forget(item: pytest.Item) -> None:
    """Forget what this run knows of ``item``'s component (its connection, its failure):
    a re-run of the check looks afresh."""
    if _UNREACHABLE in item.stash:
        del item.stash[_UNREACHABLE]
    component = item.stash.get(COMPONENT, None)
    if component is not None and _CONNECTIONS in item.config.stash:
        connections(item.config).forget(component.name)


def unreachable_reason(item: pytest.Item) -> str | None:
    """The one line of this check's failure to reach its component, if opening it failed."""
    return item.stash.get(_UNREACHABLE, None)


def unreachable_line(item: pytest.Item, exc: BaseException) -> str | None:
    """When ``exc`` (raised by a check) is about reaching its component: the one line
    naming it and its address; else None."""
    component = item.stash.get(COMPONENT, None)
    if component is None or not is_connection_error(exc):
        return None
    return f"{component.name} at {component.address}: {one_line(exc)}"


def mark_if_unreachable(item: pytest.Item, exc: BaseException) -> None:
    """When ``exc`` is about reaching the check's component (:func:`unreachable_line`): the
    component is unreachable for the rest of the run."""
    if unreachable_line(item, exc) is not None:
        connections(item.config).mark_failed(item.stash[COMPONENT], one_line(exc))


@pytest.hookimpl(tryfirst=True)
def pytest_runtest_call(item: pytest.Item) -> None:
    reason = item.stash.get(_UNREACHABLE, None)
    if reason:
        pytest.fail(reason, pytrace=False)


def pytest_configure(config: pytest.Config) -> None:
    config.stash[_CONNECTIONS] = Connections()


def pytest_unconfigure(config: pytest.Config) -> None:
    if _CONNECTIONS in config.stash:
        connections(config).close_all()
