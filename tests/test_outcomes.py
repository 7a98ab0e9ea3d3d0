"""Outcomes: "remediated" means an action ran and fixed it, never a failure that went away."""

from __future__ import annotations

import json

from remediation_kit import allow_command, audit, remediation_toml

FLAKY = '''
import os
import pytest

@pytest.mark.critical
@pytest.mark.files
@pytest.mark.remediation("restart_service", component="flagger")
def test_flaky():
    """Fails once (and clears its flag), then passes: a soft failure."""
    if os.path.exists({flag!r}):
        os.unlink({flag!r})
        assert False, "flag was set"
'''


def test_a_failure_gone_on_confirmation_is_passed_not_remediated(suite):
    flag = suite.path / "flag"
    flag.write_text("x")
    (suite.path / "test_flaky.py").write_text(FLAKY.format(flag=str(flag)))
    marker = suite.path / "acted"
    suite.inventory(remediation_toml([allow_command(["touch", str(marker)])]))
    result = suite.run_files("--remediate=apply", "--report-json=summary.json")
    result.assert_outcomes(passed=1)
    check = json.loads((suite.path / "summary.json").read_text())["checks"][0]
    assert check["state"] == "passed", check
    assert not marker.exists()  # nothing acted
    assert [r["decision"] for r in audit(suite.path) if "node" in r] != ["ran"]
