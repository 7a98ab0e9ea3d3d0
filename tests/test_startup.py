"""Start-up (opscheck.startup): the collector paused while the suite loads and collects, what
then exists frozen out of its scans, and running again for the checks; never left paused,
whatever ends a run; an earlier in-process run's objects freed by the next. Proven by the
collector's own state, seen from inside a check and after each run, never by timing.
"""

from __future__ import annotations

import gc
import json
import os
import textwrap

import pytest

SITE_CHECK = '''
import gc, json, os, pathlib

import pytest
from pydantic.plugin import _loader


@pytest.mark.critical
@pytest.mark.host
def test_collector_state(host_component):
    """Records what the collector looks like while a check runs."""
    pathlib.Path(os.environ["STATE_OUT"]).write_text(json.dumps({
        "enabled": gc.isenabled(), "frozen": gc.get_freeze_count(),
        "pydantic_plugins": os.environ.get("PYDANTIC_DISABLE_PLUGINS"),
        "ours": os.environ.get("OPSCHECK_SET_PYDANTIC_DISABLE_PLUGINS"),
        "scanned": _loader._plugins is not None}))
'''

HOST = """
[[components]]
name = "this-host"
kind = "host"
"""


@pytest.fixture
def site(suite, monkeypatch):
    folder = suite.path / "site"
    folder.mkdir()
    (folder / "test_site.py").write_text(textwrap.dedent(SITE_CHECK))
    out = suite.path / "state.json"
    monkeypatch.setenv("STATE_OUT", str(out))
    monkeypatch.delenv("PYDANTIC_DISABLE_PLUGINS", raising=False)
    suite.inventory(HOST)
    yield folder, out
    gc.unfreeze()  # what the last in-process run froze: this session's again
    gc.enable()


def seen(out):
    return json.loads(out.read_text())


def test_checks_run_with_the_collector_on_and_the_loaded_suite_frozen(suite, site):
    folder, out = site
    gc.unfreeze()
    result = suite.run("-k", "collector_state", "--checks", str(folder), checks=())
    result.assert_outcomes(passed=1)
    during = seen(out)
    assert during["enabled"] is True
    assert during["frozen"] > 10_000, during  # pytest, pydantic, the suite, the checks
    # the suite loaded without pydantic's plugin scan, and the checks (and the commands they
    # run) have the environment back as the operator gave it
    assert during["pydantic_plugins"] is None and during["ours"] is None
    assert gc.isenabled()
    after_first = gc.get_freeze_count()
    assert after_first > 0  # held until the next run in this process starts
    suite.run("-k", "collector_state", "--checks", str(folder), checks=()).assert_outcomes(passed=1)
    # the second run thawed the first run's objects before freezing its own: what the
    # first run left is collectable, not frozen twice over
    assert gc.get_freeze_count() < 2 * after_first


def test_an_operators_pydantic_plugin_setting_is_kept(suite, site, monkeypatch):
    folder, out = site
    monkeypatch.setenv("PYDANTIC_DISABLE_PLUGINS", "logfire")
    suite.run("-k", "collector_state", "--checks", str(folder), checks=()).assert_outcomes(passed=1)
    assert seen(out)["pydantic_plugins"] == "logfire"
    assert os.environ["PYDANTIC_DISABLE_PLUGINS"] == "logfire"


@pytest.mark.parametrize("workers", [[], ["-n", "2"]], ids=["serial", "xdist"])
def test_a_checks_environment_is_the_operators(suite, site, workers):
    """Subprocess: the real process (and xdist's workers, which inherit the controller's
    environment) start to end."""
    folder, out = site
    result = suite.run("-k", "collector_state", "--checks", str(folder), *workers, checks=(),
                       subprocess=True)
    result.assert_outcomes(passed=1)
    during = seen(out)
    assert during["enabled"] is True
    assert during["pydantic_plugins"] is None and during["ours"] is None
    assert during["scanned"] is False  # no model of the suite looked for pydantic plugins


@pytest.mark.parametrize("ending", ["bad inventory", "unknown option", "collect only",
                                    "nothing selected"])
def test_no_ending_leaves_the_collector_paused(suite, site, ending):
    folder, _ = site
    args = {"bad inventory": ("--inventory", str(suite.path / "missing.toml")),
            "unknown option": ("--no-such-option",),
            "collect only": ("--co",),
            "nothing selected": ("-k", "no_such_check")}[ending]
    gc.enable()
    suite.run("--checks", str(folder), *args, checks=())
    assert gc.isenabled(), ending
