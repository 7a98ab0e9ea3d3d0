"""HTTP endpoints: the expected status and JSON in time (critical); response time, TLS
certificate lifetime and a refusal without credentials (standard).

Every runbook's health route: the WAVE orchestrator's /health, LiteLLM and llama.cpp
/health, Ollama /api/tags, Qdrant /collections, Grafana /api/health, Neo4j, Dozzle.
"""

import pytest


@pytest.mark.critical
@pytest.mark.http
def test_http_answers_expected_status(http_component):
    """The endpoint answers within its timeout with an expected status (default 200)."""
    answer = http_component.answer
    expected = http_component.component.expect_status
    assert answer.status in expected, (
        f"{http_component} {answer.url} answered {answer.status_line}, expected "
        f"{' or '.join(map(str, expected))}")


@pytest.mark.critical
@pytest.mark.http
def test_http_json_condition(http_component, condition):
    """A condition on the JSON body holds: a key equals a value, is present, is not empty."""
    answer = http_component.answer
    try:
        doc = answer.json()
    except ValueError as exc:
        pytest.fail(f"{http_component} {answer.url} answered {answer.status_line}: {exc}; expected "
                    f"JSON with {condition.name}", pytrace=False)
    problem = condition.problem(doc)
    if problem:
        pytest.fail(f"{http_component} {answer.url}: {problem}", pytrace=False)


@pytest.mark.standard
@pytest.mark.http
def test_http_response_time(http_component, measure):
    """Seconds until the whole answer arrived, against warning/critical levels."""
    measure("response time", http_component.answer.seconds,
            http_component.thresholds.response_time)


@pytest.mark.standard
@pytest.mark.http
@pytest.mark.applies(lambda c: c.tls, "is not https")
def test_http_certificate_days_left(http_component, measure):
    """Days until the TLS certificate expires (warning 30, critical 7); https only."""
    measure("TLS certificate expires in", http_component.cert_days_left(),
            http_component.thresholds.cert_days)


@pytest.mark.standard
@pytest.mark.http
@pytest.mark.applies(lambda c: c.refuses_anonymous, "does not set refuses_anonymous")
def test_http_refuses_anonymous(http_component):
    """An endpoint that must require credentials refuses a request without them."""
    component = http_component.component
    answer = http_component.request(credentials=False)
    assert answer.status in component.refused_status, (
        f"{http_component} {answer.url} answered {answer.status_line} without credentials, "
        f"expected a refusal ({' or '.join(map(str, component.refused_status))}). "
        "Action: restore the API key requirement")
