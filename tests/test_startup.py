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
import weakref

import pytest

from opscheck.cli import pytest_args

SITE_CHECK = '''
import builtins, gc, json, os, pathlib, weakref

import pytest
from pydantic.plugin import _loader


@pytest.mark.critical
@pytest.mark.host
def test_collector_state(host_component, request):
    """Records what the collector looks like while a check runs (and, in-process, a weak
    reference to the run's Config: is an earlier run's ever freed?)."""
    if not hasattr(builtins, "opscheck_configs"):
        builtins.opscheck_configs = []
    builtins.opscheck_configs.append(weakref.ref(request.config))
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
    assert gc.get_freeze_count() > 0  # held until the next run in this process starts


def test_what_an_earlier_run_in_the_process_left_is_freed_by_the_next(suite, monkeypatch,
                                                                       capsys):
    """pytest.main run again and again in one process (as a library user may): at most the
    last run's objects stay frozen; each earlier run's Config is freed."""
    monkeypatch.setenv("PYTEST_DISABLE_PLUGIN_AUTOLOAD", "1")
    suite.inventory(HOST)
    configs: list[weakref.ref] = []

    class Recorder:
        def pytest_configure(self, config):
            configs.append(weakref.ref(config))

    for _ in range(5):
        code = pytest.main(pytest_args(["--inventory", str(suite.inventory_path), "--co",
                                        "-q"]), plugins=[Recorder()])
        assert code == 0, capsys.readouterr().out[-2000:]
        gc.collect()
    alive = sum(ref() is not None for ref in configs)
    assert alive <= 2, f"{alive} of 5 runs' configs are still alive"
    gc.unfreeze()


def test_a_process_that_runs_with_the_collector_off_keeps_it_off(suite, site):
    folder, out = site
    gc.disable()
    try:
        suite.run("-k", "collector_state", "--checks", str(folder), checks=()
                  ).assert_outcomes(passed=1)
        assert seen(out)["enabled"] is False and not gc.isenabled()
    finally:
        gc.enable()


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
