"""NATS: a client connects (critical); the monitoring endpoint reports healthy and JetStream
is enabled and answering where the inventory says so (standard).

Agentic Factory: ``curl -sf http://localhost:8222/healthz``, ``nats server check connection``.
"""

import pytest


@pytest.mark.critical
@pytest.mark.nats
def test_nats_connects(nats_component):
    """A client connects and the server answers a PING (round trip measured)."""
    info = nats_component.info
    assert info.server_id, f"{nats_component} sent no server_id in its INFO greeting"


@pytest.mark.standard
@pytest.mark.nats
@pytest.mark.applies(lambda c: c.monitor_url, "sets no monitor_url")
def test_nats_monitor_healthz(nats_component):
    """Monitoring ``/healthz`` answers 200 ``{"status": "ok"}`` (JetStream included)."""
    component = nats_component.component
    path = "/healthz?js-enabled-only=true" if component.jetstream else "/healthz"
    problem = None
    try:
        answer = nats_component.monitor(path)
    except OSError as exc:  # the monitoring port, not the server: fail this check only
        problem = f"{type(exc).__name__}: {exc}"
    if problem:
        pytest.fail(f"{nats_component} monitoring {component.monitor_url.rstrip('/')}"
                    f"{path} unreachable: {problem}", pytrace=False)
    body = answer.body.decode("utf-8", "replace").strip()[:120]
    assert answer.status == 200 and '"ok"' in body, (
        f"{nats_component} {answer.url} answered {answer.status_line} {body}, expected 200 "
        '{"status":"ok"}')


@pytest.mark.standard
@pytest.mark.nats
@pytest.mark.applies(lambda c: c.jetstream, "does not set jetstream = true")
def test_nats_jetstream_enabled(nats_component):
    """JetStream answers for the account (``$JS.API.INFO``) and monitoring ``/jsz`` shows it
    enabled; only where the inventory sets ``jetstream = true``."""
    component = nats_component.component
    problem = None
    try:
        nats_component.jetstream_account()
    except RuntimeError as exc:
        problem = str(exc)
    if problem:
        pytest.fail(f"{nats_component}: {problem}; expected JetStream enabled. Action: start "
                    "nats-server with JetStream (-js) and check its store directory",
                    pytrace=False)
    if component.monitor_url:
        answer = nats_component.monitor("/jsz")
        try:
            jsz, problem = answer.json(), "JSON that is not an object"
        except ValueError as exc:  # not the monitoring endpoint, or a proxy's error page
            jsz, problem = None, str(exc)
        assert isinstance(jsz, dict), (
            f"{nats_component} {answer.url} answered {answer.status}: {problem}; expected the "
            "monitoring endpoint's JetStream JSON (is monitor_url nats-server's port 8222?)")
        disabled = bool(jsz.get("disabled"))
        assert not disabled, f"{nats_component} /jsz reports JetStream disabled"
