"""Opt-in remediations: the plugin and one module per action.

``PLUGINS`` lists the pytest plugin modules; the root conftest registers them.
"""

PLUGINS: list[str] = ["remediations.plugin"]
