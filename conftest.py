"""The checkout's glue: load the suite (the opscheck plugin, the kinds' fixtures, the opt-in
plugins; see :mod:`opscheck.suite`) when pytest runs here. The ``opscheck`` command loads the
same with ``-p opscheck.suite`` from any folder.
"""

pytest_plugins = ["opscheck.suite"]
