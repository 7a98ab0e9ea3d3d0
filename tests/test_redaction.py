"""Redaction keeps a report's shape: a secret in a skip reason or path breaks nothing."""

from __future__ import annotations

INVENTORY = """\
[[components]]
name = "cache"
kind = "redis"
url = "redis://127.0.0.1:1/0"
password_env = "OPSCHECK_TEST_SECRET"
"""


def test_secret_in_a_skip_is_masked_and_the_run_completes(suite, monkeypatch):
    monkeypatch.setenv("OPSCHECK_TEST_SECRET", "inner")  # also a part of the file's name
    suite.inventory(INVENTORY)
    suite.pytester.makepyfile(test_inner_skip="""
        import pytest

        @pytest.mark.standard
        @pytest.mark.files
        def test_skips():
            pytest.skip("no data for inner yet")
    """)
    result = suite.run_files("-rs", "--junitxml", "junit.xml")
    assert "INTERNALERROR" not in result.stdout.str() + result.stderr.str()
    result.assert_outcomes(skipped=1)
    result.stdout.fnmatch_lines(["SKIPPED [[]1] *: no data for *** yet"])
    assert "no data for inner" not in (suite.path / "junit.xml").read_text()
