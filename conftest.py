"""The suite's glue: load the opscheck plugin, the kinds' fixtures and the remediation plugin.

Registered here rather than through a pytest11 entry point so that they are active only
when pytest runs this suite (``pytest`` from this folder), not in every test run of the
virtual environment.
"""

import fixtures
import remediations

pytest_plugins = ["opscheck.plugin", *fixtures.PLUGINS, *remediations.PLUGINS]
