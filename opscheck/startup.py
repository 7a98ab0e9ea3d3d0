"""Start-up without the garbage collector's scans, and without pydantic's plugin scan.

Loading the suite creates a few hundred thousand objects (pytest, pydantic, the kinds'
models, the collected checks) that live for the whole run. Python's collector scans them
again and again as they are made, pytest scans them all once more at the end (its
unraisable-exception plugin calls ``gc.collect()``) and the interpreter once more as it
exits: together a third of a small run's CPU time. So the collector is paused while the
suite loads and collects, what then exists is frozen out of its scans
(:func:`gc.freeze`: those objects live as long as the run anyway), and it runs as usual
for everything the checks create. A run starts by thawing what an earlier run in the same
process froze (the self-tests' pytester runs the suite in-process hundreds of times), so
what one run leaves is freed by the next: at most one run's objects are held frozen.

pydantic looks for its own plugins among every installed distribution's entry points the
first time a model is built (a scan of all their metadata); none is meant for opscheck's
models, so the scan is skipped while the suite loads (``PYDANTIC_DISABLE_PLUGINS``,
pydantic's documented switch), and the environment is given back as it was once the checks
start: the commands a check runs inherit the operator's environment, not opscheck's
setting (an operator who sets it keeps their value throughout).

Registered first by :mod:`opscheck.suite`, before the modules it pays off for are imported.
"""

from __future__ import annotations

import gc
import os

import pytest

PYDANTIC = "PYDANTIC_DISABLE_PLUGINS"
#: says the variable is opscheck's, not the operator's: xdist's workers inherit both
OURS = "OPSCHECK_SET_PYDANTIC_DISABLE_PLUGINS"


def pytest_addhooks(pluginmanager: pytest.PytestPluginManager) -> None:
    """As this module is registered: before the suite's modules are imported."""
    if PYDANTIC not in os.environ:
        os.environ[PYDANTIC], os.environ[OURS] = "__all__", "1"
    gc.unfreeze()  # an earlier run's objects, in this process: collectable again
    gc.disable()
    config = pluginmanager.get_plugin("pytestconfig")  # the run's Config registers itself
    if config is not None:  # a run that ends before its checks do (a usage error) resumes it
        config.add_cleanup(gc.enable)
        config.add_cleanup(_give_back)


@pytest.hookimpl(tryfirst=True)
def pytest_runtestloop(session: pytest.Session) -> None:
    """Loaded and collected (the xdist controller collects nothing, but runs this too): the
    run's long-lived objects exist now, out of the collector's scans, which resume."""
    gc.freeze()
    gc.enable()
    _give_back()


def _give_back() -> None:
    """The environment as the operator gave it (also as a run ends before its checks)."""
    if os.environ.pop(OURS, None):
        os.environ.pop(PYDANTIC, None)
