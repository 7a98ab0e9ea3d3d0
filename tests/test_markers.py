"""Markers: registered, strict, and every check carries exactly one tier and a kind."""

from __future__ import annotations

import pytest

INVENTORY = '[[components]]\nname = "local"\nkind = "host"\n'


def test_all_tier_and_kind_markers_are_registered(suite):
    suite.inventory(INVENTORY)
    result = suite.run_files("--markers")
    for name in ("critical", "standard", "deep", "host", "redis", "postgres", "sqlite", "http",
                 "prometheus", "docker", "gpu", "nats", "queue", "files", "backup",
                 "remediation(action)"):
        result.stdout.fnmatch_lines([f"@pytest.mark.{name}: *"])


@pytest.mark.parametrize(("decorators", "problem"), [
    ("@pytest.mark.host", "no tier marker"),
    ("@pytest.mark.critical\n@pytest.mark.standard\n@pytest.mark.host",
     "2 tier markers (critical, standard)"),
    ("@pytest.mark.critical", "no kind marker"),
])
def test_check_without_the_right_markers_is_an_error_naming_it(suite, decorators, problem):
    suite.inventory(INVENTORY)
    suite.pytester.makepyfile(test_bad=f"import pytest\n\n{decorators}\ndef test_x():\n    pass\n")
    result = suite.run_files()
    assert result.ret == pytest.ExitCode.USAGE_ERROR
    result.stderr.fnmatch_lines([f"*test_bad.py::test_x: {problem}*"])


def test_unknown_marker_is_rejected_by_strict_markers(suite):
    suite.inventory(INVENTORY)
    suite.pytester.makepyfile(test_typo="""
        import pytest

        @pytest.mark.critcal
        @pytest.mark.host
        def test_x():
            pass
    """)
    result = suite.run_files()
    assert result.ret != pytest.ExitCode.OK
    result.stdout.fnmatch_lines(["*'critcal' not found in `markers` configuration option*"])


def test_tier_selection_with_m(suite):
    suite.inventory(INVENTORY)
    suite.pytester.makepyfile(test_tiers="""
        import pytest

        @pytest.mark.critical
        @pytest.mark.host
        def test_c(): pass

        @pytest.mark.standard
        @pytest.mark.host
        def test_s(): pass

        @pytest.mark.deep
        @pytest.mark.host
        def test_d(): pass
    """)
    suite.run_files("-m", "critical").assert_outcomes(passed=1, deselected=2)
    suite.run_files("-m", "standard and host").assert_outcomes(passed=1, deselected=2)
    suite.run_files("-m", "not deep").assert_outcomes(passed=2, deselected=1)
