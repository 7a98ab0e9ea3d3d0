"""Opt-in remediations (``opscheck.remediations`` when installed): the plugin and one module
per action. The plugin (:mod:`.plugin`) plugs into the core through opscheck's hooks
(:mod:`opscheck.hookspecs`): it declares the inventory's ``[remediation]`` table and acts on
a check's confirmed failure.
"""

#: the inventory tables this plugin declares, each ``"module:Model"`` (imported only when the
#: inventory has the table)
SECTIONS = {"remediation": "opscheck.remediations.config:Remediation"}
