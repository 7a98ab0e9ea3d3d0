"""Reports: one run, read by people (HTML, Allure) and acted on by machines (JUnit, JSON,
Prometheus, Nagios).

Each report is a setting (CLI option, ini key, ``OPSCHECK_*`` variable). ``--report-dir DIR``
switches the four report files on at once under DIR; a report's own setting overrides its
place. The files themselves are written by the tools made for them: pytest-html (a
self-contained page), allure-pytest, pytest's ``--junitxml``; this package only routes the
settings to them, adds opscheck's columns, labels and properties through their hooks, and
writes what no tool writes (the JSON summary, the Prometheus metrics, the Nagios line, what
changed since the last run).

Writers that must run once (JSON, metrics, Nagios) run on the controller, never on an
xdist worker; they read :func:`opscheck.outcomes.results`, which the controller collects.
"""

from __future__ import annotations

import time
from datetime import datetime
from pathlib import Path

import pytest

from opscheck import settings
from opscheck.settings import on_controller
from opscheck.writers import REPORT_DIR, WRITERS, Writer, plugins_for  # noqa: F401 - here too

pytest_plugins = [writer.module for writer in WRITERS.values()]
settings.declare(REPORT_DIR, *(s for writer in WRITERS.values() for s in writer.settings))
STARTED = pytest.StashKey[float]()


def pytest_addoption(parser: pytest.Parser) -> None:
    settings.addoption(parser)


def path_of(config: pytest.Config, name: str) -> Path | None:
    """Where report ``name`` (html, allure, junit, json, metrics_out) goes, or None."""
    key = name if name == "metrics_out" else f"report_{name}"
    if settings.get(config, key):
        return settings.path(config, key)[0]
    under = WRITERS[name].under_report_dir if name in WRITERS else None
    if under and settings.get(config, "report_dir"):
        return settings.path(config, "report_dir")[0] / under
    return None


def started(config: pytest.Config) -> float:
    """The run's start (epoch seconds)."""
    return config.stash.get(STARTED, time.time())


def iso(epoch: float) -> str:
    """A time as every report writes it: local, with its offset, to the second."""
    return datetime.fromtimestamp(epoch).astimezone().isoformat(timespec="seconds")


@pytest.hookimpl(tryfirst=True)
def pytest_configure(config: pytest.Config) -> None:
    """Route the report settings to the tools' own options before those tools configure."""
    config.stash[STARTED] = time.time()
    option = config.option
    html = path_of(config, "html")
    if html and not getattr(option, "htmlpath", None):
        option.htmlpath, option.self_contained_html = str(html), True
    junit = path_of(config, "junit")
    if junit and not option.xmlpath:
        option.xmlpath = str(junit)
    allure = path_of(config, "allure")
    if allure and not getattr(option, "allure_report_dir", None):
        option.allure_report_dir = str(allure)
        if on_controller(config):
            fresh(allure)


ALLURE_FILES = ("*-result.json", "*-container.json", "*-attachment.*", "environment.properties")


def fresh(folder: Path) -> None:
    """Remove the last run's Allure files from ``folder`` (only those), keeping ``history/``:
    Allure's trends come from there, so they span runs while the folder is kept."""
    for pattern in ALLURE_FILES:
        for old in folder.glob(pattern):
            if old.is_file():
                old.unlink()
