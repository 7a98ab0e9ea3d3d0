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
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from urllib.parse import urlsplit

import pytest

from opscheck import settings
from opscheck.settings import Setting, on_controller


def _flag(value: str) -> bool:
    word = value.strip().lower()
    if word not in ("1", "true", "yes", "on", "0", "false", "no", "off"):
        raise ValueError("use true or false")
    return word in ("1", "true", "yes", "on")


def _url(value: str) -> str:
    parts = urlsplit(value)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise ValueError("give the pushgateway's http:// or https:// URL")
    return value


@dataclass(frozen=True)
class Writer:
    """One report: the module that writes it, the settings that switch it on, the file it
    takes under ``--report-dir`` (if any), and the third-party pytest plugins it drives (the
    ``opscheck`` command loads them only when the report is asked for)."""

    module: str
    settings: tuple[Setting, ...]
    under_report_dir: str | None = None
    plugins: tuple[str, ...] = ()
    flags: tuple[str, ...] = ()  # the driven tool's own options that switch it on


REPORT_DIR = Setting("report_dir", "write report.html, allure-results/, junit.xml and "
                     "summary.json into this folder", metavar="DIR")

#: the report writers, each with its own settings
WRITERS: dict[str, Writer] = {
    "html": Writer("opscheck.reporting.html", (
        Setting("report_html", "self-contained HTML status board (pytest-html)",
                metavar="PATH"),), "report.html",
        ("pytest_metadata.plugin", "pytest_html.plugin"), ("--html",)),
    "allure": Writer("opscheck.reporting.allure", (
        Setting("report_allure", "Allure results folder (allure-pytest)", metavar="DIR"),),
        "allure-results", ("allure_pytest.plugin",), ("--alluredir",)),
    "junit": Writer("opscheck.reporting.junit", (
        Setting("report_junit", "JUnit XML with opscheck's properties (pytest's junitxml)",
                metavar="PATH"),), "junit.xml", (), ("--junitxml", "--junit-xml")),
    "json": Writer("opscheck.reporting.summary_json", (
        Setting("report_json", "JSON summary: one object per check, totals, schema version",
                metavar="PATH"),), "summary.json"),
    "history": Writer("opscheck.reporting.history", (
        Setting("report_previous", "the previous run's JSON summary, to say what changed "
                "since (default: the JSON summary's own file, read before it is replaced)",
                metavar="PATH"),)),
    "metrics": Writer("opscheck.reporting.metrics", (
        Setting("metrics_out", "Prometheus textfile (node_exporter textfile collector) to "
                "write", metavar="FILE"),
        Setting("pushgateway", "Prometheus Pushgateway URL to push the same metrics to",
                convert=_url, metavar="URL"))),
    "nagios": Writer("opscheck.reporting.nagios", (
        Setting("nagios", "print one Nagios/Icinga status line with perfdata and exit 0-3",
                default=False, convert=_flag, option="--nagios", dest="nagios"),)),  # testinfra's
}

pytest_plugins = [writer.module for writer in WRITERS.values()]
settings.declare(REPORT_DIR, *(s for writer in WRITERS.values() for s in writer.settings))
STARTED = pytest.StashKey[float]()


def plugins_for(flags: set[str], environ: dict[str, str]) -> list[str]:
    """The third-party plugins the reports asked for by ``flags`` (options given on the
    command line) or ``environ`` need."""
    wanted: list[str] = []
    for writer in WRITERS.values():
        own = [*writer.settings, *([REPORT_DIR] if writer.under_report_dir else [])]
        asked = {s.flag for s in own} | set(writer.flags)
        if flags & asked or any(environ.get(s.env_var) for s in own):
            wanted += [p for p in writer.plugins if p not in wanted]
    return wanted


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
