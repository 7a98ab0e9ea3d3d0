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
from report_kit import SECRET, chromium, mixed_run, png_pixels

STATES = {"passed", "warning", "failed", "could not run", "skipped", "remediated", "waived"}
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
    assert set(summary["totals"]["all"]) == STATES
    assert len(summary["checks"]) == 16  # written once, by the controller, for both workers


def test_json_summary_has_schema_fields_and_totals(summary):
    assert summary["schema_version"] == 1
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


def test_html_report_is_a_status_board(run):
    page = (run.reports / "report.html").read_text()
    assert '<link rel="stylesheet"' not in page  # self-contained
    assert re.search(r"<h1 id=\"title\">opscheck: report-demo, run \d{4}-\d\d-\d\dT", page)
    for column in ("State", "Component", "Kind", "Tier", "Check", "Value", "Levels", "Action"):
        assert f">{column}</th>" in page
    assert "By tier" in page and "By component" in page and "<b>CRITICAL</b>" in page
    rows = {nodeid.rpartition("::")[2]: tests[-1]["resultsTableRow"]
            for nodeid, tests in html_tests(run.reports / "report.html").items()}
    text = {name: [re.sub(r"<[^>]+>", " ", cell).strip() for cell in cells]
            for name, cells in rows.items()}
    for name, state in EXPECTED.items():
        assert text[name][1] == state, (name, text[name])
    memory = text["test_memory_used[web-1]"]
    assert memory[2:6] == ["web-1", "host", "standard", "test_memory_used"]
    assert re.fullmatch(r"memory used: [\d.]+%", memory[6])
    assert memory[7:9] == ["warning 0.001%, critical 100%", "Check for leaks"]
    assert text["test_flag_cleared"][1] == "remediated"


def test_html_report_renders_in_headless_chromium(run, tmp_path):
    page = (run.reports / "report.html").as_uri()
    shot = tmp_path / "report.png"
    done = chromium(f"--screenshot={shot}", "--window-size=1400,1000",
                    "--virtual-time-budget=3000", page)
    assert done.returncode == 0 and shot.exists(), done.stderr[-2000:]
    width, height, rows = png_pixels(shot)
    assert (width, height) == (1400, 1000)
    pixels = Counter(row[i:i + 3] for row in rows[::4] for i in range(0, len(row), 12))
    _background, count = pixels.most_common(1)[0]
    assert len(pixels) > 20 and count < 0.97 * sum(pixels.values()), "the screenshot is blank"
    dom = chromium("--dump-dom", "--virtual-time-budget=3000", page).stdout
    assert "col-state" in dom and "remediated" in dom and "could not run" in dom


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
