"""Targets: the facts about one component, one module per kind, plain Python (no pytest).

``opscheck.targets.<kind>`` holds ``<Kind>Target`` (registered in :mod:`opscheck.kinds`):
``Target.open(component)`` reaches the component within its timeout and returns the
target; its methods return facts (numbers, lists, dataclasses) that checks judge. A target
raises :mod:`opscheck.errors`'s verdicts where it finds a condition false or cannot tell.
Usable from a script, a remediation action or a benchmark::

    from opscheck.suite import load
    from opscheck.kinds import target_for

    inventory = load("/etc/opscheck/wave.toml")
    redis = target_for("redis").open(inventory.get("wave-redis"))
    print(redis.memory().pct)
"""
