"""Prometheus: the server is healthy and every scrape target is up (critical); the PromQL
probes of the inventory (``[[components.queries]]``), each at its own tier (default standard).

Probe types: ``instant`` (the value now: an error rate in %, ``wave_cost_total_usd``),
``sustained`` (every sample over a window beyond the level: "GPU memory above 23 GB for
10 minutes", judged only with at least ``min_samples`` samples), ``alert`` (firing alerts,
``ALERTS{alertstate="firing"}``), ``exists`` (the metric is exported at all).
"""

import math

import pytest


@pytest.mark.critical
@pytest.mark.prometheus
def test_prometheus_healthy(prometheus_component):
    """``/-/healthy`` answers 200."""
    health = prometheus_component.health
    assert health.status == 200, (
        f"{prometheus_component} {health.url} answered {health.status_line} "
        f"({health.body[:80].decode('utf-8', 'replace').strip()!r}), expected 200")


@pytest.mark.critical
@pytest.mark.prometheus
def test_prometheus_targets_up(prometheus_component):
    """Every active scrape target is up (``/api/v1/targets``); the failure lists the down ones."""
    targets = prometheus_component.targets()
    down = [t for t in targets if t.health == "down"]
    listed = "; ".join(f"{t.job} {t.url} ({t.error or 'down'})" for t in down)
    if down:
        pytest.fail(f"{prometheus_component}: {len(down)} of {len(targets)} scrape targets "
                    f"down: {listed}", pytrace=False)
    least = prometheus_component.component.min_targets
    assert len(targets) >= least, (f"{prometheus_component} has {len(targets)} active scrape "
                                   f"targets, expected at least {least}")


@pytest.mark.prometheus
def test_promql_probe(prometheus_component, query, measure):
    """One PromQL probe against its levels; its tier marker comes from the probe."""
    JUDGES[query.type](prometheus_component, query, measure)


def _instant(target, query, measure):
    series = target.query(query.expr)
    if not series:
        pytest.fail(f"{target} {query.name}: {query.expr!r} returned no data, expected a value "
                    "(is the metric still exported?)", pytrace=False)
    worst = query.threshold().worst(series, lambda s: s.value)
    detail = None if len(series) == 1 else f"{worst.label_text()}, worst of {len(series)} series"
    measure(query.name, worst.value, query.threshold(), detail=detail)


def _sustained(target, query, measure):
    series = target.window(query.expr, query.window, query.step)
    if not series:
        pytest.fail(f"{target} {query.name}: {query.expr!r} returned no data over the last "
                    f"{query.window}, expected samples to judge", pytrace=False)
    values = [[v for _, v in s.samples if not math.isnan(v)] for s in series]
    judged = [(s, v) for s, v in zip(series, values, strict=True)
              if len(v) >= query.min_samples]
    if not judged:
        pytest.fail(f"{target} {query.name}: only {max(map(len, values))} samples in the last "
                    f"{query.window}, need {query.min_samples}: too short to judge a sustained "
                    "level. Action: wait for more data, or check the scrape interval",
                    pytrace=False)
    # the level each series held for the whole window: its least bad sample
    held = min if query.direction == "above" else max
    worst, samples = query.threshold().worst(judged, lambda sv: held(sv[1]))
    detail = f"{len(samples)} samples" + (f", by {worst.label_text()}" if len(series) > 1 else "")
    measure(f"{query.name} held over {query.window}", held(samples), query.threshold(),
            detail=detail)


def _alert(target, query, measure):
    series = target.query(query.expr)
    names = sorted({s.labels.get("alertname") or s.label_text() for s in series})
    measure(f"{query.name} firing alerts", len(series), query.threshold(),
            detail=", ".join(names) or None)


def _exists(target, query, measure):
    series = target.query(query.expr)
    if not series:
        pytest.fail(f"{target} {query.name}: {query.expr!r} returned no series, expected the "
                    "metric to exist. Action: check the exporter and the scrape config",
                    pytrace=False)


JUDGES = {"instant": _instant, "sustained": _sustained, "alert": _alert, "exists": _exists}
