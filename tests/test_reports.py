"""Every report from one mixed run: HTML, Allure, JUnit, JSON, Prometheus textfile; secrets.

The run (report_kit.mixed_run) is real: the host checks against this machine and a dead
ssh host, local checks remediated by the real remediation plugin and waived by a waiver,
two xdist workers. Each test reads the files it left.
"""

from __future__ import annotations

import html
import json
import re
import xml.etree.ElementTree as ET
from collections import Counter
from pathlib import Path
from typing import Any

import pytest
from prometheus_client.parser import text_string_to_metric_families
from report_kit import (
    RGB,
    SECRET,
    first_badge,
    healthy_run,
    mixed_run,
    pixel_rows,
    render,
    rows_of_colour,
)

STATES = ("passed", "warning", "failed", "could not run", "skipped", "remediated", "waived")
EXPECTED = {
    "test_host_reachable[web-1]": "passed",
    "test_memory_used[web-1]": "warning",
    "test_disk_not_critically_full[web-1:/]": "failed",
    "test_host_reachable[db-1]": "failed",
    "test_memory_used[db-1]": "could not run",
    "test_checkpoints_when_configured": "skipped",
    "test_flag_cleared": "remediated",
    "test_nightly_export_present": "waived",
    "test_login_with_configured_secret": "failed",
}


@pytest.fixture(scope="module")
def run(tmp_path_factory: pytest.TempPathFactory) -> Any:
    done = mixed_run(tmp_path_factory.mktemp("mixed"))
    assert "INTERNALERROR" not in done.stdout + done.stderr, done.stdout + done.stderr
    return done


@pytest.fixture(scope="module")
def summary(run: Any) -> dict[str, Any]:
    return json.loads((run.reports / "summary.json").read_text())


def by_name(checks: list[dict[str, Any]]) -> dict[str, dict[str, Any]]:
    return {c["id"].rpartition("::")[2]: c for c in checks}


def test_mixed_run_ends_in_every_state_and_fails_the_gate(run, summary):
    assert run.ret == 1, run.stdout[-3000:]
    checks = by_name(summary["checks"])
    assert {name: checks[name]["state"] for name in EXPECTED} == EXPECTED
    assert set(summary["totals"]["all"]) == set(STATES)
    assert len(summary["checks"]) == 16  # written once, by the controller, for both workers


def test_mixed_run_terminal_summary_runs_to_its_end(run):
    """Every section of the terminal summary is printed: the remediation's reads its record
    from the report after the JUnit writer has (it once found JSON text there, and crashed
    the sections after it)."""
    assert "Traceback" not in run.stdout + run.stderr
    assert re.search(r"test_flag_cleared: REMEDIATED: flagger restart_service", run.stdout)
    assert "opscheck: changed since the last run" in run.stdout
    assert "no previous summary at " in run.stdout and "Generated html report" in run.stdout


def test_json_summary_has_schema_fields_and_totals(summary):
    assert summary["schema_version"] == 1
    assert summary["changes"] == {"previous": None, "new_failures": [], "recoveries": [],
                                  "still_failing": [], "flapping": []}  # the first run kept
    for check in summary["checks"]:
        assert check["history"]["states"] == [check["state"]], check["id"]
        assert check["history"]["since"] == summary["started"]
    assert summary["system"] == "report-demo" and summary["status"] == "CRITICAL"
    assert summary["code"] == 2
    checks = by_name(summary["checks"])
    memory = checks["test_memory_used[web-1]"]
    assert memory["tier"] == "standard" and memory["kind"] == "host"
    assert memory["component"] == "web-1" and memory["action"] == "Check for leaks"
    (m,) = memory["measurements"]
    assert m["metric"] == "memory used" and m["unit"] == "%" and 0 < m["value"] < 100
    assert (m["warning"], m["critical"], m["state"]) == (0.001, 100, "warning")
    disk = checks["test_disk_not_critically_full[web-1:/]"]
    assert disk["action"] == "Clean up or expand" and "≥ critical 0.001%" in disk["message"]
    assert checks["test_memory_used[db-1]"]["message"].startswith("could not run: db-1 unreach")
    waived = checks["test_nightly_export_present"]
    assert waived["waiver"]["justification"].startswith("export job retired")
    assert waived["waiver"]["expired"] is False
    assert waived["message"].startswith("waived until")
    fixed = checks["test_flag_cleared"]
    assert fixed["remediation"]["recheck"] == "passed" and fixed["remediation"]["decision"] == "ran"
    for group in ("tier", "kind", "component"):
        for name, counts in summary["totals"][group].items():
            assert counts == dict(Counter(c["state"] for c in summary["checks"]
                                          if c[group] == name)), (group, name)


def html_tests(path: Path) -> dict[str, list[dict[str, Any]]]:
    blob = re.search(r'data-jsonblob="([^"]*)"', path.read_text()).group(1)
    return json.loads(html.unescape(blob))["tests"]


def plain(cell: str) -> str:
    return re.sub(r"\s+", " ", html.unescape(re.sub(r"<[^>]+>", " ", cell))).strip()


def test_html_report_is_a_board_with_one_compact_row_per_check(run):
    page = (run.reports / "report.html").read_text()
    assert '<link rel="stylesheet"' not in page and "<img src=\"http" not in page  # one file
    assert re.search(r"<h1 id=\"title\">opscheck: report-demo, run \d{4}-\d\d-\d\dT", page)
    for column in ("State", "Component", "Check", "Value", "Verdict", "Tier", "Kind"):
        assert f">{column}</th>" in page
    tests = html_tests(run.reports / "report.html")
    assert all(len(rows) == 1 for rows in tests.values()), "one row per check"
    text = {nodeid.rpartition("::")[2]: [plain(c) for c in rows[0]["resultsTableRow"]]
            for nodeid, rows in tests.items()}
    for name, state in EXPECTED.items():
        assert text[name][1] == state, (name, text[name])
    memory = text["test_memory_used[web-1]"]
    assert memory[2:4] == ["web-1", "test_memory_used[web-1]"]
    assert re.fullmatch(r"[\d.]+% \(warning 0.001%, critical 100%\)", memory[4])
    assert memory[5].startswith("web-1 memory used") and memory[5].endswith("Check for leaks")
    assert memory[6:8] == ["standard", "host"]
    assert not [t for t in text.values() if "::setup" in t[3] or "('" in " ".join(t)]
    skipped = text["test_checkpoints_when_configured"]
    assert skipped[5] == "no checkpoint folder on this system"
    logs = {n.rpartition("::")[2]: rows[0]["log"] for n, rows in tests.items()}
    assert "stdout sees ***" in logs["test_login_with_configured_secret"]  # something to read
    assert logs["test_checkpoints_when_configured"] == ""  # nothing to read: no box
    assert logs["test_memory_used[db-1]"] == ""  # its one line is in the row already


def board_text(dom: str, id_: str) -> str:
    found = re.search(rf'<(section|div) id="{id_}".*?</\1>(?=\s*<(section|div|script|p))',
                      dom, re.S)
    assert found, id_
    return found.group(0)


def counts_in(fragment: str) -> dict[str, int]:
    return {state: int(n) for n, state in
            re.findall(r'<span class="oc-n oc-s-[\w-]+">(\d+) ([a-z ]+)</span>', fragment)}


def test_html_first_screen_of_a_mixed_run_puts_the_verdict_and_the_critical_failure_first(
        run, summary, tmp_path):
    """Headless Chromium at 1400×900: the red CRITICAL banner on top, its counts the JSON
    summary's (and pytest-html's filter boxes saying the same), the tiles' counts the
    summary's per component, the first row the critical failure, shown on the first
    screen, passes folded away."""
    png = tmp_path / "mixed.png"
    dom = render(run.reports / "report.html", png)
    width, pixels = pixel_rows(png)
    assert (width, len(pixels)) == (1400, 900)
    red = rows_of_colour(pixels, RGB["failed"])
    assert red and red[0] < 80 and len(red) > 30, "no red banner at the top"
    banner = board_text(dom, "oc-banner")
    assert summary["status"] == "CRITICAL" and 'data-status="CRITICAL"' in banner
    assert ">CRITICAL</div>" in banner and "report-demo" in banner
    assert counts_in(banner) == summary["totals"]["all"]
    filters = dict((label, int(n)) for n, label in re.findall(
        r'<span class="(?:passed|xfailed|failed|error|skipped|xpassed|rerun)">(\d+) '
        r'([a-z ]+),?</span>', dom))
    assert filters == {s: summary["totals"]["all"].get(s, 0) for s in STATES}
    tiles = re.findall(r'<div class="oc-tile-name">([^<]+) <small>.*?'
                       r'<div class="oc-tile-counts">([^<]*)</div>', dom)
    for name, counts in tiles:
        if name != "no component":
            expected = summary["totals"]["component"][name]
            assert counts == ", ".join(f"{n} {s}" for s, n in expected.items()), name
    rows = re.findall(r'<tbody class="results-table-row[^"]*" id="([^"]+)">(.*?)</tbody>',
                      dom, re.S)
    first_id, first = rows[0]
    critical_failures = {c["check"] + (f"[{c['params']}]" if c["params"] else "")
                         for c in summary["checks"]
                         if c["state"] == "failed" and c["tier"] == "critical"}
    assert first_id in critical_failures and '<td class="col-tier">critical</td>' in first
    assert 'oc-badge oc-s-failed' in first
    badge = first_badge(pixels, below=red[-1] + 1)
    assert badge is not None and badge[1] == "failed", badge
    assert not [r for _, r in rows if "oc-badge oc-s-passed" in r]  # passes folded away
    assert "3 passed checks are not listed" in dom
    assert re.search(r'<table id="environment" class="hidden"|<table id="environment">', dom)


def test_html_first_screen_of_a_healthy_run_is_a_green_ok_with_trends(tmp_path):
    folder = tmp_path / "healthy"
    folder.mkdir()
    first = healthy_run(folder)
    assert first.ret == 0, first.stdout[-3000:]
    second = healthy_run(folder)  # the second run draws each value's last two
    assert second.ret == 0, second.stdout[-3000:]
    summary = json.loads((second.reports / "summary.json").read_text())
    png = tmp_path / "healthy.png"
    dom = render(second.reports / "report.html", png)
    _, pixels = pixel_rows(png)
    green = rows_of_colour(pixels, RGB["passed"])
    assert green and green[0] < 80 and len(green) > 30, "no green banner at the top"
    banner = board_text(dom, "oc-banner")
    assert 'data-status="OK"' in banner and counts_in(banner) == summary["totals"]["all"]
    assert "nothing changed" in board_text(dom, "oc-changes")
    rows = re.findall(r'<tbody class="results-table-row[^"]*" id="([^"]+)">(.*?)</tbody>',
                      dom, re.S)
    assert len(rows) == len(summary["checks"])  # all passed: all listed
    memory = next(r for i, r in rows if i == "test_memory_used[web-1]")
    assert '<svg class="oc-spark"' in memory and "<title>last 2 values:" in memory
    badge = first_badge(pixels, below=green[-1] + 1)
    assert badge is not None and badge[1] in ("passed", "skipped")


def test_junit_xml_parses_with_opscheck_properties(run):
    root = ET.parse(run.reports / "junit.xml").getroot()
    cases = {c.get("name"): c for c in root.iter("testcase")}
    assert len(cases) == 16

    def props(name: str) -> dict[str, str]:
        return {p.get("name"): p.get("value") for p in cases[name].iter("property")}

    for name, state in EXPECTED.items():
        assert props(name)["opscheck.state"] == state, name
    memory = props("test_memory_used[web-1]")
    assert memory["tier"] == "standard" and memory["component"] == "web-1"
    assert json.loads(memory["opscheck.measure"])["warning"] == 0.001
    assert memory["opscheck.action"] == "Check for leaks"
    assert cases["test_disk_not_critically_full[web-1:/]"].find("failure") is not None
    assert cases["test_memory_used[db-1]"].find("error") is not None
    assert cases["test_nightly_export_present"].find("skipped").get("type") == "pytest.xfail"
    assert json.loads(props("test_flag_cleared")["opscheck.remediation"])["state"] == "remediated"


def allure_results(folder: Path) -> dict[str, dict[str, Any]]:
    return {d["name"]: d for d in (json.loads(p.read_text())
                                   for p in folder.glob("*-result.json"))}


def labels(result: dict[str, Any], name: str) -> list[str]:
    return [label["value"] for label in result["labels"] if label["name"] == name]


def test_allure_results_carry_labels_parameters_and_audit_record(run):
    folder = run.reports / "allure-results"
    results = allure_results(folder)
    memory = results["test_memory_used[web-1]"]
    assert labels(memory, "epic") == ["report-demo"] and labels(memory, "feature") == ["host"]
    assert labels(memory, "story") == ["web-1"] and labels(memory, "severity") == ["normal"]
    assert {"standard", "host", "warning"} <= set(labels(memory, "tag"))
    (param,) = [p for p in memory["parameters"] if p["name"] == "memory used"]
    assert param["excluded"] and "(warning 0.001%, critical 100%)" in param["value"]
    assert "**Runbook action:** Check for leaks" in memory["description"]
    assert labels(results["test_host_reachable[db-1]"], "severity") == ["critical"]
    fixed = results["test_flag_cleared"]
    assert fixed["status"] == "passed" and "remediated" in labels(fixed, "tag")
    assert "remediation:restart_service" in labels(fixed, "tag")
    (attachment,) = fixed["attachments"]
    assert attachment["name"] == "remediation audit record"
    record = json.loads((folder / attachment["source"]).read_text())
    assert record["decision"] == "ran" and record["recheck"] == "passed"
    waived = results["test_nightly_export_present"]
    assert waived["status"] == "skipped" and "waived" in labels(waived, "tag")
    assert "export job retired" in waived["description"]
    assert "system=report-demo" in (folder / "environment.properties").read_text()


def test_allure_buckets_could_not_run_threshold_crossed_and_broken_apart(run):
    folder = run.reports / "allure-results"
    categories = json.loads((folder / "categories.json").read_text())
    assert [c["name"] for c in categories] == ["could not run", "threshold crossed", "broken"]
    results = allure_results(folder)

    def bucket(name: str) -> str | None:
        """The first category Allure would file the result under (as Allure matches)."""
        status = results[name]["status"]
        message = (results[name].get("statusDetails") or {}).get("message") or ""
        return next((c["name"] for c in categories if status in c["matchedStatuses"]
                     and re.fullmatch(c["messageRegex"], message)), None)

    assert bucket("test_disk_not_critically_full[web-1:/]") == "threshold crossed"
    assert results["test_disk_not_critically_full[web-1:/]"]["statusDetails"]["message"] \
        .startswith("threshold crossed: web-1 disk used on / ")
    # a connection error while checking: allure-pytest says broken, opscheck says failed
    assert results["test_host_reachable[db-1]"]["status"] == "failed"
    assert bucket("test_host_reachable[db-1]") == "broken"
    assert bucket("test_login_with_configured_secret") == "broken"
    for name, state in EXPECTED.items():
        if state == "could not run":
            assert bucket(name) == "could not run", name
    assert results["test_nightly_export_present"]["statusDetails"]["known"] is True
    assert not [r for r in results.values() for label in r["labels"]
                if label["name"].startswith("opscheck.")]  # the carriers are taken off


def samples(text: str) -> dict[tuple[str, str], float]:
    """(metric name, check name) -> value, for the per-check series."""
    found = {}
    for family in text_string_to_metric_families(text):
        for s in family.samples:
            if "check" in s.labels:
                found[(s.name, s.labels["check"].rpartition("::")[2])] = s.value
    return found


def test_metrics_textfile_parses_with_prometheus_client(run):
    text = (run.reports / "opscheck.prom").read_text()
    values = samples(text)
    codes = {"passed": 0, "warning": 1, "failed": 2, "could not run": 3, "remediated": 0,
             "waived": 0}
    for name, state in EXPECTED.items():
        key = ("opscheck_check_state", name)
        assert (values.get(key) is None) if state == "skipped" else values[key] == codes[state]
    assert values[("opscheck_check_warning_level", "test_memory_used[web-1]")] == 0.001
    assert values[("opscheck_check_critical_level", "test_memory_used[web-1]")] == 100
    assert 0 < values[("opscheck_check_value", "test_memory_used[web-1]")] < 100
    assert 'opscheck_checks{state="remediated",system="report-demo"} 1.0' in text
    assert 'component="web-1",kind="host"' in text and 'tier="standard"' in text


def test_configured_secret_appears_in_no_report_log_or_attachment(run):
    files = [p for p in run.folder.rglob("*") if p.is_file() and p.suffix != ".sqlite"]
    assert len(files) > 20
    leaked = [str(p) for p in files if SECRET in p.read_text(errors="replace")]
    assert not leaked and SECRET not in run.stdout + run.stderr
    # the secret was there to leak: each report shows where it was redacted
    for report in ("junit.xml", "summary.json", "report.html"):
        assert "***" in (run.reports / report).read_text(), report
    attached = "".join(p.read_text() for p in (run.reports / "allure-results").glob("*.txt"))
    assert "stdout sees ***" in attached and "log sees ***" in attached
