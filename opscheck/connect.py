"""Connections: each component reached once per run; a dead one costs its timeout once.

Every kind's fixture calls :func:`connect`. The first check of a component that cannot
be reached fails with one line naming it and its address; every later check of that
component reports an error, ``could not run: <name> unreachable``, without retrying.
An error that a client raises mid-run (a timeout, a refused connection) is treated the
same way: that check fails in one line and the component's later checks could not run.
"""

from __future__ import annotations

import contextlib
from collections.abc import Callable
from typing import Any, TypeVar

import pytest

from opscheck import secrets
from opscheck.components import Component

T = TypeVar("T")

COMPONENT = pytest.StashKey[Component]()
UNREACHABLE = pytest.StashKey[str]()
CONNECTIONS = pytest.StashKey["Connections"]()


class CheckFailed(AssertionError):
    """A check's verdict, worded for the operator (observed vs expected, the component).

    Facts modules raise it (or a subclass) where a check's condition is found false deep in
    a probe; like a check's own ``assert msg``, it is reported as its message alone.
    """


class CouldNotRun(Exception):
    """The check could not run (component unreachable, credentials refused, no NVML).

    Raised in a fixture it becomes a pytest *error* with this one line as its report.
    """


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
    """The run's cache of opened targets and of components found unreachable."""

    def __init__(self) -> None:
        self.opened: dict[str, Any] = {}
        self.failed: dict[str, str] = {}

    def mark_failed(self, component: Component, reason: str) -> None:
        self.failed.setdefault(component.name, reason)

    def close_all(self) -> None:
        for target in self.opened.values():
            close = getattr(target, "close", None)
            if close is not None:
                with contextlib.suppress(Exception):  # closing must not mask the results
                    close()
        self.opened.clear()


def connect(request: pytest.FixtureRequest, opener: Callable[[Any], T]) -> T:
    """The target for ``request.param`` (a component), opened once per run by ``opener``.

    ``opener(component)`` returns the kind's target (client facade); it must bound its own
    waits by ``component.timeout``. When it raises, the check that asked fails with one line
    and the component's later checks could not run.
    """
    component: Component | None = getattr(request, "param", None)
    if component is None:
        pytest.skip("not configured in the inventory")
    request.node.stash[COMPONENT] = component
    conns = request.config.stash[CONNECTIONS]
    if component.name in conns.failed:
        raise CouldNotRun(f"could not run: {component.name} unreachable "
                          f"({conns.failed[component.name]})")
    if component.name not in conns.opened:
        try:
            conns.opened[component.name] = opener(component)
        except CouldNotRun as exc:  # e.g. credentials refused: do not try again this run
            conns.mark_failed(component, str(exc))
            raise
        except Exception as exc:
            reason = f"{component.name} unreachable at {component.address}: {one_line(exc)}"
            conns.mark_failed(component, one_line(exc))
            request.node.stash[UNREACHABLE] = reason
            return None  # type: ignore[return-value]  # pytest_runtest_call fails the check
    return conns.opened[component.name]


@pytest.hookimpl(tryfirst=True)
def pytest_runtest_call(item: pytest.Item) -> None:
    reason = item.stash.get(UNREACHABLE, None)
    if reason:
        pytest.fail(reason, pytrace=False)


def pytest_configure(config: pytest.Config) -> None:
    config.stash[CONNECTIONS] = Connections()


def pytest_unconfigure(config: pytest.Config) -> None:
    if CONNECTIONS in config.stash:
        config.stash[CONNECTIONS].close_all()


@pytest.hookimpl(wrapper=True)
def pytest_runtest_makereport(item: pytest.Item, call: pytest.CallInfo[None]) -> Any:
    report = yield
    excinfo = call.excinfo
    if excinfo is None or report.passed or report.skipped:
        return report
    exc = excinfo.value
    component = item.stash.get(COMPONENT, None)
    if isinstance(exc, CouldNotRun):
        report.longrepr = secrets.redact(str(exc))
    elif call.when == "call" and isinstance(exc, AssertionError) and verdict(exc):
        report.longrepr = secrets.redact(verdict(exc))
    elif component is not None and call.when == "call" and is_connection_error(exc):
        item.config.stash[CONNECTIONS].mark_failed(component, one_line(exc))
        report.longrepr = f"{component.name} at {component.address}: {one_line(exc)}"
    return report


def verdict(exc: AssertionError) -> str:
    """A failed check's message without pytest's assertion introspection ('assert 0 > 0',
    '+ where …', which would print the component's whole model); empty for a bare assert,
    whose traceback is then kept for the check's author."""
    return str(exc).split("\nassert ", 1)[0].strip()
