"""xdist: keep each component's checks on one worker.

Under ``pytest -n N`` (xdist's default ``--dist load``), checks are spread one by one, so
two workers could each open the same component and each pay a dead component's timeout.
This scheduler hands out work by component instead (xdist's load-scope scheduling, with
the component as the scope), so a component is connected to, and found dead, once per run.
Other ``--dist`` modes are left to xdist.
"""

from __future__ import annotations

from typing import Any

import pytest


def component_scope(nodeid: str) -> str:
    """The component named in a check's id: ``…::test_x[wave-redis:/]`` -> ``wave-redis``.

    A check without parameters is its own scope.
    """
    if not nodeid.endswith("]") or "[" not in nodeid:
        return nodeid
    params = nodeid[nodeid.index("[") + 1:-1]
    return params.split(":", 1)[0] or nodeid


@pytest.hookimpl(tryfirst=True, optionalhook=True)  # a run with -p no:xdist has no such hook
def pytest_xdist_make_scheduler(config: pytest.Config, log: Any) -> Any:
    if config.getvalue("dist") != "load":
        return None
    from xdist.scheduler import LoadScopeScheduling

    class ComponentScheduling(LoadScopeScheduling):
        def _split_scope(self, nodeid: str) -> str:
            return component_scope(nodeid)

    return ComponentScheduling(config, log)
