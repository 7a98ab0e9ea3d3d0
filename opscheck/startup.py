"""Start-up without the garbage collector's scans, and without pydantic's plugin scan.

Loading the suite creates a few hundred thousand objects (pytest, pydantic, the kinds'
models, the collected checks) that live for the whole run. Python's collector scans them
again and again as they are made, pytest scans them all once more at the end (its
unraisable-exception plugin calls ``gc.collect()``) and the interpreter once more as it
exits: together a third of a small run's CPU time. So the collector is paused while the
suite loads and collects, what then exists is frozen out of its scans
(:func:`gc.freeze`: those objects live as long as the run anyway), and it runs as usual
for everything the checks create, from the end of collection (before any component is
opened). A run starts by thawing and collecting what an earlier run in the same process
froze (the self-tests' pytester runs the suite in-process hundreds of times), so what one
run leaves is freed by the next; a process that had the collector off keeps it off.

pydantic looks for its own plugins among every installed distribution's entry points the
first time a model is built (a scan of all their metadata); none is meant for opscheck's
models, so the scan is skipped while the suite loads (``PYDANTIC_DISABLE_PLUGINS``,
pydantic's documented switch), and the environment is given back as it was once the checks
start: the commands a check runs inherit the operator's environment, not opscheck's
setting (an operator who sets it keeps their value throughout). A model first built after
that (a reading built inside a check) makes pydantic's scan then, once.

Registered first by :mod:`opscheck.suite`, before the modules it pays off for are imported.
"""

from __future__ import annotations

import gc
import os

import pytest

PYDANTIC = "PYDANTIC_DISABLE_PLUGINS"
#: says the variable is opscheck's, not the operator's: xdist's workers inherit both
OURS = "OPSCHECK_SET_PYDANTIC_DISABLE_PLUGINS"
#: whether the collector was on when this run paused it (one entry while paused)
_was_enabled: list[bool] = []


def pytest_addhooks(pluginmanager: pytest.PytestPluginManager) -> None:
    """As this module is registered: before the suite's modules are imported."""
    if PYDANTIC not in os.environ:
        os.environ[PYDANTIC], os.environ[OURS] = "__all__", "1"
    if gc.get_freeze_count():  # an earlier run in this process froze its objects: what it
        gc.unfreeze()  # left is freed now (a fresh process has nothing frozen: no scan)
        gc.collect()
    _was_enabled[:] = [gc.isenabled()]  # a process that runs pytest with it off keeps it off
    gc.disable()
    config = pluginmanager.get_plugin("pytestconfig")  # the run's Config registers itself
    if config is not None:  # a run that ends before its checks do (a usage error) resumes it
        config.add_cleanup(resume)


@pytest.hookimpl(trylast=True)
def pytest_collection_finish(session: pytest.Session) -> None:
    """Loaded and collected, before anything starts (the components' openings among them)."""
    resume()


@pytest.hookimpl(tryfirst=True)
def pytest_runtestloop(session: pytest.Session) -> None:
    """The same for xdist's controller, which collects nothing."""
    resume()


def resume() -> None:
    """The run's long-lived objects exist now: out of the collector's scans, which resume as
    they were; the environment as the operator gave it. Idempotent."""
    if _was_enabled:
        gc.freeze()
        if _was_enabled.pop():
            gc.enable()
    if os.environ.pop(OURS, None):
        os.environ.pop(PYDANTIC, None)
