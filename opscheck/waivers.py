"""Waivers: a known failure, accepted with a justification until an expiry date.

``--waivers FILE`` (ini ``opscheck_waivers``, env ``OPSCHECK_WAIVERS``) names a TOML file::

    [[waivers]]
    check = "test_cpu_busy[batch-host]"   # node-id pattern: the whole id or its tail
    justification = "nightly batch saturates the CPU; OPS-123, owner: alice"
    expires = 2026-12-31                  # last day the waiver holds

Until it expires, a matching check that fails is ``waived`` (pytest's xfail: it does not
fail the run) and every report shows it as waived with the justification; if it passes, it
passes. In the pattern ``*`` matches any run of characters and ``?`` one character;
everything else, brackets included, is literal (``test_cpu_busy[batch-host]`` is that one
parametrized check, ``test_disk_used[*]`` every one). A waiver that matches no collected
check is listed after the run (it waives nothing: a typo, or a check renamed) and fails the
strict gate (``-W error::opscheck.thresholds.ThresholdWarning``). From the day after
``expires`` the waiver fails loudly: the check runs unwaived, a failure says the waiver
expired, a pass fails with "waiver expired; remove it", and the terminal lists the expired
waivers. A waiver without a justification, or with a bad date or pattern, is a usage error
naming the file, the key and the fix.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from datetime import date
from functools import cached_property
from pathlib import Path
from typing import Any

import pytest
from pydantic import BaseModel, ConfigDict, Field, field_validator

from opscheck import settings
from opscheck.collect import NOT_CONFIGURED
from opscheck.inventory import InventoryError, validate
from opscheck.measure import strict
from opscheck.outcomes import WAIVER, Result, results
from opscheck.settings import Setting, on_controller
from opscheck.tomlfile import parse_toml, read_text

settings.declare(Setting("waivers", "waivers TOML file: known failures accepted until an "
                         "expiry date", metavar="PATH"))

WAIVERS = pytest.StashKey[list["Waiver"]]()
EXPIRED = pytest.StashKey[dict[str, Any]]()
UNMATCHED = pytest.StashKey[list[str]]()
UNMATCHED_OUTPUT = "opscheck_unmatched_waivers"  # xdist workeroutput key


class Waiver(BaseModel):
    """One ``[[waivers]]`` entry."""

    model_config = ConfigDict(extra="forbid")

    check: str = Field(min_length=1, description="node-id pattern, e.g. test_cpu_busy[*]")
    justification: str = Field(description="why the failure is accepted, and who owns it")
    expires: date = Field(description="the last day the waiver holds")

    @field_validator("justification")
    @classmethod
    def _said(cls, value: str) -> str:
        if not value.strip():
            raise ValueError("justification is empty; say why the failure is accepted "
                             "(a ticket, an owner)")
        return value.strip()

    @cached_property
    def _pattern(self) -> re.Pattern[str]:
        """``*`` any run of characters, ``?`` one; the rest literal (brackets too)."""
        body = "".join(".*" if c == "*" else "." if c == "?" else re.escape(c)
                       for c in self.check)
        return re.compile(rf"(?:.*(?:/|::))?{body}", re.DOTALL)

    def matches(self, nodeid: str) -> bool:
        """The pattern matches the whole node id, or its tail after a ``/`` or ``::``."""
        return self._pattern.fullmatch(nodeid) is not None

    def expired(self, today: date | None = None) -> bool:
        return (today or date.today()) > self.expires

    def describe(self, source: Path) -> dict[str, Any]:
        return {"check": self.check, "justification": self.justification,
                "expires": self.expires.isoformat(), "expired": self.expired(),
                "file": str(source)}


def load(path: Path) -> list[Waiver]:
    """The waivers in ``path``. Raises :class:`InventoryError` (file, key, fix)."""
    source = read_text(path, "waivers", "fix --waivers, OPSCHECK_WAIVERS or opscheck_waivers")
    raw = parse_toml(source, path, "cannot read the waivers (TOML syntax error: {}); fix the file")
    unknown = sorted(set(raw) - {"waivers"})
    if unknown:
        raise InventoryError(path, unknown[0], "unknown key; write each waiver under its own "
                             "[[waivers]] header")
    entries = raw.get("waivers", [])
    if not isinstance(entries, list):
        raise InventoryError(path, "waivers", "must be an array of tables: [[waivers]]")
    return [validate(Waiver, entry, path, f"waivers[{i}]", {}) for i, entry in
            enumerate(entries)]


def waivers_file(config: pytest.Config) -> Path | None:
    """The waivers file in force, or None."""
    return settings.path(config, "waivers")[0] if settings.get(config, "waivers") else None


def pytest_addoption(parser: pytest.Parser) -> None:
    settings.addoption(parser)


def pytest_configure(config: pytest.Config) -> None:
    source = waivers_file(config)
    if source is None:
        return
    try:
        config.stash[WAIVERS] = load(source)
    except InventoryError as exc:
        raise pytest.UsageError(str(exc)) from None


@pytest.hookimpl(wrapper=True)
def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> Any:
    """Mark the waived checks; note the waivers that match no collected check (before ``-m``
    and ``-k`` deselect: a waiver for a check this run does not select still matches)."""
    collected = [i.nodeid for i in items if getattr(getattr(i, "callspec", None), "id", "")
                 != NOT_CONFIGURED]
    result = yield
    waivers = config.stash.get(WAIVERS, [])
    unmatched = [w.check for w in waivers if not any(w.matches(n) for n in collected)]
    config.stash[UNMATCHED] = unmatched
    if not on_controller(config):
        config.workeroutput[UNMATCHED_OUTPUT] = unmatched  # type: ignore[attr-defined]
    file = waivers_file(config)
    for item in items if waivers else ():
        found = [w for w in waivers if w.matches(item.nodeid)]
        live = next((w for w in found if not w.expired()), None)
        if live:
            item.add_marker(pytest.mark.xfail(
                reason=f"waived until {live.expires}: {live.justification}", strict=False))
            item.user_properties.append((WAIVER, live.describe(file)))  # type: ignore[arg-type]
        elif found:
            stale = found[0].describe(file)  # type: ignore[arg-type]
            item.user_properties.append((WAIVER, stale))
            item.stash[EXPIRED] = stale
    return result


@pytest.hookimpl(optionalhook=True)
def pytest_testnodedown(node: Any, error: Any) -> None:
    """xdist's controller collects nothing: it takes the workers' (identical) finding."""
    found = getattr(node, "workeroutput", {}).get(UNMATCHED_OUTPUT)
    if found is not None:
        node.config.stash.setdefault(UNMATCHED, found)


def unmatched(config: pytest.Config) -> list[str]:
    """The waivers' patterns that matched no collected check."""
    return config.stash.get(UNMATCHED, [])


@pytest.hookimpl(tryfirst=True)
def pytest_sessionfinish(session: pytest.Session) -> None:
    """Under the strict gate a waiver that waives nothing fails the run."""
    config = session.config
    if on_controller(config) and unmatched(config) and strict(config) and \
            session.exitstatus == pytest.ExitCode.OK:
        session.exitstatus = pytest.ExitCode.TESTS_FAILED


def pytest_opscheck_report(item: pytest.Item, call: pytest.CallInfo[None],
                           report: pytest.TestReport) -> None:
    """An expired waiver fails loudly: in the failure's line, or as a failure of its own."""
    stale = item.stash.get(EXPIRED, None)
    if stale is None or call.when != "call" or report.skipped:
        return
    note = (f"waiver {stale['check']!r} expired on {stale['expires']} "
            f"({stale['justification']})")
    if report.passed:
        report.outcome = "failed"
        report.longrepr = f"{item.nodeid}: {note}; the check passes now: remove the waiver " \
                          f"from {stale['file']}"
    elif isinstance(report.longrepr, str):
        report.longrepr = _noted(report.longrepr, note)
    elif getattr(report.longrepr, "reprcrash", None) is not None:
        crash = report.longrepr.reprcrash  # type: ignore[union-attr]
        crash.message = _noted(crash.message, note)


def _noted(text: str, note: str) -> str:
    """``text`` with `` [note]`` at the end of its first line (the line reports show)."""
    first, newline, rest = text.partition("\n")
    return f"{first} [{note}]{newline}{rest}"


def expired_lines(found: Iterable[Result]) -> list[str]:
    """One line per check whose waiver expired: the check, the waiver, how to fix it."""
    return [f"{r.nodeid}: waiver {r.waiver['check']!r} expired on {r.waiver['expires']}; "
            f"renew it with a new justification or remove it from {r.waiver['file']}"
            for r in found if r.waiver and r.waiver.get("expired")]


def unmatched_lines(patterns: list[str], source: Path | None, gate: bool) -> list[str]:
    """One line per waiver that matched no collected check; under the strict gate each says
    that it fails the run."""
    return [f"waiver {pattern!r} in {source} matches no collected check; fix its pattern "
            "(* and ? are wildcards, brackets are literal) or remove it"
            + (" (strict gate: this fails the run)" if gate else "") for pattern in patterns]


def pytest_terminal_summary(terminalreporter: Any, config: pytest.Config) -> None:
    """The expired waivers (red), then the waivers matching no check (red under the strict
    gate, where they fail the run; yellow otherwise)."""
    if not on_controller(config):
        return
    stale = expired_lines(results(config).values())
    if stale:
        terminalreporter.section("opscheck: EXPIRED WAIVERS", red=True, bold=True)
        for line in stale:
            terminalreporter.line(line, red=True)
    lost = unmatched(config)
    if lost:
        gate = strict(config)
        terminalreporter.section("opscheck: WAIVERS MATCHING NO CHECK", red=gate, yellow=not gate)
        for line in unmatched_lines(lost, waivers_file(config), gate):
            terminalreporter.line(line)
