"""The version comes from one place (pyproject.toml's project.version) and shows where a user
reads it: the terminal header, the JSON summary, the HTML banner and ``opscheck --version``.
"""

from __future__ import annotations

import json
import subprocess
import sys
import tomllib
from pathlib import Path

import opscheck

REPO = Path(__file__).resolve().parents[1]
DECLARED = tomllib.loads((REPO / "pyproject.toml").read_text())["project"]["version"]

HOST = """
[[components]]
name = "this-host"
kind = "host"
"""


def test_the_installed_version_is_the_declared_one():
    assert opscheck.version() == DECLARED


def test_the_header_the_summary_and_the_board_show_it(suite):
    suite.inventory(HOST)
    result = suite.run("-m", "critical", "--report-dir", "reports")
    assert result.ret == 0, result.stdout.str()[-2000:]
    result.stdout.fnmatch_lines([f"opscheck version: {DECLARED}"])
    reports = suite.path / "reports"
    assert json.loads((reports / "summary.json").read_text())["opscheck_version"] == DECLARED
    page = (reports / "report.html").read_text()
    assert f"checks · opscheck {DECLARED}</div>" in page


def test_the_command_says_it():
    done = subprocess.run([sys.executable, "-m", "opscheck", "--version"], capture_output=True,
                          text=True, timeout=60)
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == f"opscheck, version {DECLARED}"
