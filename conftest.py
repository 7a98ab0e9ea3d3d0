"""The suite's glue: load the opscheck plugin and the kinds' fixtures.

Registered here rather than through a pytest11 entry point so that they are active only
when pytest runs this suite (``pytest`` from this folder), not in every test run of the
virtual environment.
"""

from fixtures import PLUGINS

pytest_plugins = ["opscheck.plugin", *PLUGINS]
