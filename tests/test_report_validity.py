"""Reports stay valid and readable whatever a check saw: strict JSON (no NaN), one capped
line per message, no stale temporary file. Against real SQLite files answering oddities."""

from __future__ import annotations

import contextlib
import json
import sqlite3
from pathlib import Path
from xml.etree import ElementTree

from opscheck.text import LIMIT


def strict_json(text: str) -> object:
    def refuse(name: str) -> None:
        raise ValueError(f"{name} in a JSON report")
    return json.loads(text, parse_constant=refuse)


ODD = '''
[[components]]
name = "coord"
kind = "sqlite"
path = "{db}"

[[probes]]
name = "infinite"
component = "coord"
query = "SELECT 9e999"
critical = 1

[[probes]]
name = "minus-infinite"
component = "coord"
query = "SELECT -9e999"
warning = 0
direction = "below"

[[probes]]
name = "long-row"
component = "coord"
type = "rows"
query = """SELECT 'a' || char(27) || '[31m' || char(10) || 'ERROR: forged' AS evil,
           printf('%.*c', 700000, 'x') AS big"""
'''


def test_non_finite_values_and_huge_rows_keep_every_report_valid(suite, tmp_path):
    db = tmp_path / "coord.db"
    sqlite3.connect(db).close()
    suite.inventory(ODD.format(db=db))
    reports = suite.path / "reports"
    result = suite.run("--report-dir", str(reports), "--metrics-out",
                       str(reports / "opscheck.prom"), checks=("probes",))
    result.assert_outcomes(failed=2, passed=1)  # -inf is below the warning level: a warning
    out = result.stdout.str()
    assert "INTERNALERROR" not in out and "\x1b" not in out
    # the row is 700,000 characters: the line is capped and says how much was left out
    [line] = [x for x in result.stdout.lines if x.startswith("coord probe long-row 1 rows")]
    assert len(line) < LIMIT + 100, len(line)
    assert line.endswith(" more characters)"), line[-80:]
    assert "evil: a\\x1b[31m\\nERROR: forged" in line
    assert not any(x.startswith("ERROR: forged") for x in result.stdout.lines)
    summary = strict_json((reports / "summary.json").read_text(encoding="utf-8"))
    assert isinstance(summary, dict)
    values = {c["params"]: [m["value"] for m in c["measurements"]] for c in summary["checks"]}
    assert values["coord:infinite"] == [None] and values["coord:minus-infinite"] == [None]
    assert all(len(c["message"]) < LIMIT + 100 for c in summary["checks"])
    for path in (reports / "allure-results").glob("*-result.json"):
        strict_json(path.read_text(encoding="utf-8"))
    junit = ElementTree.parse(reports / "junit.xml").getroot()
    for prop in junit.iter("property"):
        if prop.get("value", "").startswith("{"):
            strict_json(prop.get("value", ""))
    assert "opscheck_check_value" in (reports / "opscheck.prom").read_text(encoding="utf-8")
    assert not [p for p in reports.rglob("*") if p.suffix == ".tmp"]


def test_a_failed_summary_write_leaves_no_temporary_file(tmp_path):
    from opscheck.reporting.summary_json import write

    target = tmp_path / "summary.json"
    write(target, {"value": float("nan"), "name": "bad-\udcff.json"})  # both made safe
    assert strict_json(target.read_text()) == {"value": None, "name": "bad-\\xff.json"}
    blocked = tmp_path / "blocked"
    blocked.mkdir()
    (blocked / "summary.json").mkdir()  # a folder where the file goes: the rename fails
    with contextlib.suppress(OSError):
        write(blocked / "summary.json", {"a": 1})
    assert [p.name for p in blocked.iterdir()] == ["summary.json"]
    assert Path(blocked / "summary.json").is_dir()
