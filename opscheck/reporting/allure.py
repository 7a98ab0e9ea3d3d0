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
- attachment: the remediation's audit record (JSON), for a check a remediation acted on;
- status and message in opscheck's terms: a check that could not run is ``broken``, one that
  failed is ``failed`` (allure-pytest calls a failure by a connection error broken, an error
  in a fixture's assert failed), and the message is opscheck's one line after its bucket:
  ``threshold crossed: …`` (a measured value past its critical level), ``broken: …`` (any
  other failure), ``could not run: …``; ``categories.json`` makes the three Allure's
  categories, in that order;
- what changed since the last run (:mod:`opscheck.reporting.history`): a tag ``new
  failure``, ``recovered``, ``still failing`` or ``flapping``, Allure's flaky mark on a
  check that flaps, its known mark on a waived one; the environment panel counts them.

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

import pytest

from opscheck import markers, secrets, text
from opscheck.outcomes import Result, results
from opscheck.plugin import inventory_of
from opscheck.reporting import history
from opscheck.reporting.records import action, levels_text, record, records, value_text
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
    import attr

    if isinstance(obj, str):
        return text.printable(secrets.redact(obj) if mask else obj)
    if isinstance(obj, list):
        obj[:] = [scrub(x, mask) for x in obj]
    elif attr.has(type(obj)):
        for field in attr.fields(type(obj)):
            setattr(obj, field.name, scrub(getattr(obj, field.name),
                                           mask and field.name not in NAMES))
    return obj


#: Allure's categories, matched in order: opscheck's three kinds of not passing
CATEGORIES = [
    {"name": "could not run", "matchedStatuses": ["broken"], "messageRegex": "(?s)could not run.*",
     "description": "the check could not judge its component (unreachable, refused, "
                    "an error before the check ran)"},
    {"name": "threshold crossed", "matchedStatuses": ["failed"],
     "messageRegex": "(?s)threshold crossed: .*",
     "description": "a measured value crossed its critical level"},
    {"name": "broken", "matchedStatuses": ["failed"], "messageRegex": "(?s)broken: .*",
     "description": "the check found its component broken"},
]
#: labels that carry opscheck's verdict from :func:`describe` to :class:`Redactor` (taken
#: off before the result is written)
VERDICT, STATE, FLAKY = "opscheck.verdict", "opscheck.state", "opscheck.flaky"
CHANGE_TAGS = {"new_failures": "new failure", "recoveries": "recovered",
               "still_failing": "still failing"}


def verdict_line(result: Result) -> str | None:
    """The Allure message of a check that did not pass: its bucket, then its line."""
    if result.state == "could not run":
        line = result.message or "could not run"
        return line if line.startswith("could not run") else f"could not run: {line}"
    if result.state == "failed":
        crossed = any(m.get("state") == "critical" for m in result.measurements)
        return f"{'threshold crossed' if crossed else 'broken'}: {result.message}"
    return None


def settle(result: Any) -> None:
    """Put opscheck's verdict (the labels :func:`describe` left) into the result."""
    from allure_commons.model2 import Status, StatusDetails

    mine = {label.name: label.value for label in result.labels
            if label.name in (VERDICT, STATE, FLAKY)}
    if not mine:
        return
    result.labels = [label for label in result.labels if label.name not in mine]
    details = result.statusDetails or StatusDetails()
    state = mine.get(STATE)
    if state in ("failed", "could not run"):
        result.status = Status.FAILED if state == "failed" else Status.BROKEN
        details.message = mine.get(VERDICT)
    details.known = True if state == "waived" else details.known
    details.flaky = True if FLAKY in mine else details.flaky
    result.statusDetails = details


def redactor() -> Any:
    """An allure_commons plugin that settles and redacts a result before allure's file
    logger writes it (allure is imported only when its report is asked for)."""
    import allure_commons

    class Redactor:
        @allure_commons.hookimpl(tryfirst=True)
        def report_result(self, result: Any) -> None:
            settle(result)
            scrub(result)

        @allure_commons.hookimpl(tryfirst=True)
        def report_container(self, container: Any) -> None:
            scrub(container)

    return Redactor()


def pytest_configure(config: pytest.Config) -> None:
    if not active(config):
        return
    import allure_commons

    plugin = redactor()
    allure_commons.plugin_manager.register(plugin)
    config.add_cleanup(lambda: allure_commons.plugin_manager.unregister(plugin))
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
    import allure

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
    found = history.entry(item.config, record(result)) if result else None
    if found and found.change:
        tags.append(CHANGE_TAGS[found.change])
    if found and found.flaps:
        tags.append("flapping")
        allure.dynamic.label(FLAKY, "true")
    if tags:
        allure.dynamic.tag(*tags)
    if result is None:
        return
    allure.dynamic.label(STATE, result.state)
    line = verdict_line(result)
    if line:
        allure.dynamic.label(VERDICT, line)
    for m in result.measurements:
        levels = levels_text(m)
        shown = f"{value_text(m)} ({levels})" if levels else value_text(m)
        allure.dynamic.parameter(m["metric"], shown, excluded=True)
    allure.dynamic.description(description(item, result))
    if result.remediation:
        audit = json.dumps(secrets.redact_any(result.remediation), indent=2, default=str)
        allure.attach(audit, name="remediation audit record",
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
    """Allure's categories, and its environment panel: the system and the inventory of the
    run, and what changed since the last one."""
    config = session.config
    if not (active(config) and on_controller(config)):
        return
    inventory = inventory_of(config)
    folder = Path(config.option.allure_report_dir)
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "categories.json").write_text(json.dumps(CATEGORIES, indent=2) + "\n",
                                            encoding="utf-8")
    lines = [f"system={inventory.system.name}", f"inventory={inventory.path}"]
    prev = history.compared(config)
    if prev.found:
        changes = history.annotate(config, records(config))
        lines.append(f"previous_run={prev.started} ({prev.status})")
        lines += [f"{kind}={len(changes[kind])}" for kind in (*history.KINDS, "flapping")]
    (folder / "environment.properties").write_text(
        text.printable("\n".join(lines)) + "\n", encoding="utf-8")
