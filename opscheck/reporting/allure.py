"""Allure: opscheck's labels, parameters, description and audit record on allure-pytest's results.

``--report-allure DIR`` (or ``--report-dir``, or allure-pytest's own ``--alluredir``)
switches allure-pytest on. Through allure's dynamic API, at the end of each check:

- labels: epic = the inventory's system, feature = the kind, story = the component,
  severity from the tier (critical -> critical, standard -> normal, deep -> minor);
  allure-pytest tags a check with its plain markers, this adds ``name:arg`` tags for
  markers with an argument (``remediation:restart_service``) and a tag for the states
  Allure has no status for (``warning``, ``remediated``, ``waived``);
- parameters: each measured value with its levels (excluded from Allure's history id,
  so the trend of a check stays one line while its value moves);
- description: the check's docstring, the runbook's action, the waiver's justification;
- attachment: the remediation's audit record (JSON), for a check a remediation acted on.

Secrets: captured output is redacted before allure-pytest attaches it, and every result
is redacted before allure writes it (its failure text comes from the raw exception), but
not its names (check ids, labels): they are never masked. Every text is made printable
first (a task file named ``bad-\xff.json`` in a message cannot break the writer).
Trends: Allure reads them from ``history/`` in the results folder. Each run empties the
folder of the last run's results but keeps ``history/``, and ``scripts/report`` (``make
report``) puts the new history back there after ``allure generate``, so trends span runs
while the folder is kept (in CI: cache it).
"""

from __future__ import annotations

import inspect
import json
from pathlib import Path
from typing import Any

# allure-pytest (a pytest11 plugin) has imported these already: importing them costs nothing
import allure
import allure_commons
import attr
import pytest

from opscheck import markers, secrets, text
from opscheck.outcomes import results
from opscheck.plugin import inventory_of
from opscheck.reporting.records import action, levels_text, value_text
from opscheck.settings import on_controller

SEVERITY = {"critical": "critical", "standard": "normal", "deep": "minor"}
STATE_TAGS = ("warning", "remediated", "waived")


def active(config: pytest.Config) -> bool:
    return bool(getattr(config.option, "allure_report_dir", None))


#: fields of allure's models that hold names (of the check, its labels, files): printable,
#: never masked (see :mod:`opscheck.secrets`)
NAMES = frozenset({"name", "fullName", "historyId", "testCaseId", "uuid", "labels", "titlePath",
                   "children", "source", "type", "status", "stage", "links"})


def scrub(obj: Any, mask: bool = True) -> Any:
    """``obj`` (an allure model, a list, a string) with every text printable and every
    secret redacted outside the name fields, in place."""
    if isinstance(obj, str):
        return text.printable(secrets.redact(obj) if mask else obj)
    if isinstance(obj, list):
        obj[:] = [scrub(x, mask) for x in obj]
    elif attr.has(type(obj)):
        for field in attr.fields(type(obj)):
            setattr(obj, field.name, scrub(getattr(obj, field.name),
                                           mask and field.name not in NAMES))
    return obj


class Redactor:
    """An allure_commons plugin: redacts a result before allure's file logger writes it."""

    @allure_commons.hookimpl(tryfirst=True)
    def report_result(self, result: Any) -> None:
        scrub(result)

    @allure_commons.hookimpl(tryfirst=True)
    def report_container(self, container: Any) -> None:
        scrub(container)


def pytest_configure(config: pytest.Config) -> None:
    if not active(config):
        return
    redactor = Redactor()
    allure_commons.plugin_manager.register(redactor)
    config.add_cleanup(lambda: allure_commons.plugin_manager.unregister(redactor))
    config.pluginmanager.register(Labeller(), "opscheck-allure")


class Labeller:
    """Redacts what allure-pytest attaches, and describes each check once it has ended."""

    def __init__(self) -> None:
        self.items: dict[str, pytest.Item] = {}

    @pytest.hookimpl(wrapper=True, trylast=True)
    def pytest_runtest_makereport(self, item: pytest.Item, call: pytest.CallInfo[None]) -> Any:
        """Innermost wrapper: runs before allure-pytest's listener attaches captured output."""
        report = yield
        report.sections = [(title, text.lines(secrets.redact(body)))
                           for title, body in report.sections]
        self.items[item.nodeid] = item
        return report

    def pytest_runtest_logfinish(self, nodeid: str) -> None:
        """After the check's last report (after a remediation's last re-run), before
        allure-pytest's listener closes the check's result."""
        item = self.items.pop(nodeid, None)
        if item is not None:
            describe(item)


def describe(item: pytest.Item) -> None:
    """Label, parametrize, describe and attach to the check's Allure result."""
    result = results(item.config).get(item.nodeid)
    props = result.properties if result else {}
    tier = markers.tier_of(item)
    allure.dynamic.epic(inventory_of(item.config).system.name)
    allure.dynamic.feature(markers.kind_of(item) or "")
    if props.get("component"):
        allure.dynamic.story(props["component"])
    if tier:
        allure.dynamic.label("severity", SEVERITY[tier])
    tags = [f"{m.name}:{m.args[0]}" for m in item.iter_markers() if m.args and
            m.name not in ("parametrize", "xfail", "skip", "skipif", "usefixtures")]
    if result and result.state in STATE_TAGS:
        tags.append(result.state)
    if tags:
        allure.dynamic.tag(*tags)
    if result is None:
        return
    for m in result.measurements:
        levels = levels_text(m)
        shown = f"{value_text(m)} ({levels})" if levels else value_text(m)
        allure.dynamic.parameter(m["metric"], shown, excluded=True)
    allure.dynamic.description(description(item, result))
    if result.remediation:
        record = json.dumps(secrets.redact_any(result.remediation), indent=2, default=str)
        allure.attach(record, name="remediation audit record",
                      attachment_type=allure.attachment_type.JSON)


def description(item: pytest.Item, result: Any) -> str:
    doc = inspect.getdoc(getattr(item, "obj", None)) or ""
    todo = action(result)
    parts = [doc, f"**Runbook action:** {todo}" if todo else ""]
    if result.waiver:
        w = result.waiver
        gone = "expired" if w.get("expired") else "waived until"
        parts.append(f"**{gone} {w['expires']}:** {w['justification']}")
    if result.state == "remediated":
        parts.append(result.message)
    return secrets.redact("\n\n".join(p for p in parts if p))


@pytest.hookimpl(trylast=True)
def pytest_sessionfinish(session: pytest.Session) -> None:
    """Allure's environment panel: the system and the inventory of the run."""
    config = session.config
    if not (active(config) and on_controller(config)):
        return
    inventory = inventory_of(config)
    folder = Path(config.option.allure_report_dir)
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "environment.properties").write_text(
        f"system={inventory.system.name}\ninventory={inventory.path}\n", encoding="utf-8")
