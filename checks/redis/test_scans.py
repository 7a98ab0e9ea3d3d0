"""Redis key patterns (``[[components.scans]]``): ``SCAN MATCH`` bounded in keys and time,
the keys counted or their values aggregated, each entry at its own tier (default standard).

The Agentic Factory's per-agent spend (AF:663-665, 790): ``KEYS dash:spend:daily:*`` and a
``GET`` of each, whichever agents exist today, any one above $10.
"""

import pytest

from opscheck.readings import naming


@pytest.mark.redis
def test_redis_key_scan(redis_component, scan, scanned_keys, measure):
    """The count of the keys matching a pattern, or the max, min, sum or avg of their numeric
    values, against its levels; the worst keys are named on failure. A scan past its bounds
    (max_keys, seconds) could not run."""
    judged = redis_component.key_scan(scan, scanned_keys)
    threshold = scan.threshold()
    measure(scan.name, judged.value, threshold,
            detail=naming(threshold, judged.value, judged.readings, scan.aggregate,
                          "counted" if scan.aggregate == "count" else "worst"))
