"""Site checks of one's own, named each way the docs give (``--checks`` is tested with the
installed command in test_install): ``OPSCHECK_CHECKS`` and the inventory's ``[system]
checks``, collected with the suite's rules; and the state folder each kind of user gets,
named in the header."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from opscheck import places

SITE = '''
import pytest


@pytest.mark.critical
@pytest.mark.host
def test_site_disk_label(host_component):
    """A site's own check."""
    assert host_component is not None
'''


@pytest.fixture
def site(suite) -> Path:
    """A site folder beside the test's own (which the self-tests' ini makes a check folder),
    so that only the way under test can bring it in."""
    folder = suite.path.parent / f"{suite.path.name}-site"
    folder.mkdir()
    (folder / "test_site.py").write_text(SITE)
    return folder


def site_run(suite):
    return suite.run("-m", "critical", "-k", "site_disk_label", checks=())


def test_a_site_folder_in_the_environment_is_collected(suite, site, monkeypatch):
    suite.inventory('[[components]]\nname = "h"\nkind = "host"\n')
    refused = suite.run("-m", "critical", str(site), checks=())
    assert refused.ret == 4  # not named as a check folder: not collected, not imported
    assert "not a check of the suite" in refused.stderr.str()
    monkeypatch.setenv("OPSCHECK_CHECKS", str(site))
    suite.run("-m", "critical", str(site), checks=()).assert_outcomes(passed=1)


def test_a_site_folder_named_by_the_inventory_is_collected_relative_to_it(suite, site):
    host = '[[components]]\nname = "h"\nkind = "host"\n'
    suite.inventory(host)
    assert site_run(suite).ret == 5
    suite.inventory(f'[system]\nchecks = ["../{site.name}"]\n\n{host}')
    site_run(suite).assert_outcomes(passed=1)


def test_a_site_check_without_a_tier_is_refused_whichever_way_it_came(suite, site, monkeypatch):
    (site / "test_unmarked.py").write_text("def test_no_tier():\n    assert True\n")
    suite.inventory('[[components]]\nname = "h"\nkind = "host"\n')
    monkeypatch.setenv("OPSCHECK_CHECKS", str(site))
    result = suite.run(str(site), checks=())
    assert result.ret == 4
    assert "test_no_tier: no tier marker" in result.stdout.str() + result.stderr.str()


def test_the_header_names_the_state_folder(suite):
    suite.inventory('[[components]]\nname = "h"\nkind = "host"\n')
    result = suite.run("-m", "critical")
    result.stdout.fnmatch_lines([f"opscheck state folder: {suite.path} (remediation store and "
                                 "audit by default)"])


def test_the_state_folder_of_root_of_a_user_and_of_the_environment(monkeypatch, tmp_path):
    monkeypatch.delenv("OPSCHECK_STATE_DIR", raising=False)
    monkeypatch.setattr(os, "geteuid", lambda: 0)
    assert places.state_dir() == Path("/var/lib/opscheck")
    monkeypatch.setattr(os, "geteuid", lambda: 1000)
    monkeypatch.setenv("XDG_STATE_HOME", str(tmp_path / "xdg"))
    assert places.state_dir() == tmp_path / "xdg" / "opscheck"
    monkeypatch.setenv("OPSCHECK_STATE_DIR", "~/ops-state")
    assert places.state_dir() == Path("~/ops-state").expanduser()
