"""The inventory's ``[[probes]]``: one check each, with the probe's tier and its kind's marker."""

import pytest

from fixtures.probes import run_probe
from opscheck.probes import ProbeError, listing


def test_probe(probe, probe_target, measure):
    """A value probe's number against its levels; a rows probe's rows listed on failure."""
    try:
        answer = run_probe(probe, probe_target)
    except ProbeError as exc:
        pytest.fail(str(exc), pytrace=False)
    threshold = probe.threshold()
    if probe.type == "value":
        measure(f"probe {probe.name}", answer, threshold)
        return
    measure(f"probe {probe.name}", len(answer), listing(threshold, answer))
