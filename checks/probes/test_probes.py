"""The inventory's ``[[probes]]``: one check each, with the probe's tier and its kind's marker."""

from opscheck.fixtures.probes import run_probe
from opscheck.probes import listing


def test_probe(probe, probe_target, measure):
    """A value probe's number against its levels; a rows probe's rows listed on failure.
    A query that gives no answer fails in run_probe (ProbeError, a CheckFailed)."""
    answer = run_probe(probe, probe_target)
    threshold = probe.threshold()
    if probe.type == "value":
        measure(f"probe {probe.name}", answer, threshold)
        return
    measure(f"probe {probe.name}", len(answer), listing(threshold, answer))
