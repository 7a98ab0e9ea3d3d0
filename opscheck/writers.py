"""The report writers: each report's module, the settings that switch it on, and the
third-party plugins it drives. Not a plugin (and not inside :mod:`opscheck.reporting`), so
the ``opscheck`` command reads which plugins a run needs without importing the reporting
plugin before pytest does (pytest could then not rewrite its asserts, and would warn).
"""

from __future__ import annotations

from dataclasses import dataclass
from urllib.parse import urlsplit

from opscheck.settings import Setting


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
