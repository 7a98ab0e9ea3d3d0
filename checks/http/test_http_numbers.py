"""Numbers an endpoint answers, held against levels, each entry at its own tier (default
standard): from its JSON body (``[[components.values]]``: JMESPath) or from its Prometheus
``/metrics`` page read directly (``[[components.metrics]]``), without a Prometheus server.

The runbooks': Qdrant's collections and snapshots, LiteLLM's spend today and its error rate,
the agents whose status is not ok, the age of an agent's last checkpoint (WAVE's agent
timeout), ``wave_agent_utilization_percent`` per agent.
"""

import pytest

from opscheck.readings import naming


@pytest.mark.http
def test_http_json_value(http_component, json_value, measure):
    """A number from the JSON body (a value, a list's length, a filtered count or sum, a
    timestamp's age) against its levels; the worst entries are named on failure."""
    judged = http_component.json_value(json_value)
    threshold = json_value.threshold()
    what = "oldest" if json_value.type == "age" and json_value.aggregate == "max" else (
        "counted" if json_value.aggregate == "count" else "worst")
    measure(json_value.name, judged.value, threshold,
            detail=naming(threshold, judged.value, judged.readings,
                          json_value.aggregate or "max", what))


@pytest.mark.http
def test_http_metric(http_component, scrape, measure):
    """Series of the /metrics page selected by name and labels, aggregated (max, min, sum,
    avg, count), or a rate or ratio over two scrapes, against its levels; the worst series
    are named on failure."""
    judged = http_component.metric_value(scrape)
    threshold = scrape.threshold()
    measure(scrape.name, judged.value, threshold,
            detail=naming(threshold, judged.value, judged.readings, scrape.aggregate or "max"))
