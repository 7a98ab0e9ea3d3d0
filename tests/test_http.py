"""HTTP checks against real loopback servers: healthy passes; each fault fails with its line."""

from __future__ import annotations

import datetime as dt

import pytest
import requests  # noqa: F401 - imported once here, so in-process runs reuse one module
from cryptography import x509
from cryptography.hazmat.primitives import serialization
from servers import Route, free_port, make_self_signed_cert

from opscheck.targets.http import der_not_after

KEY = "s3cret-api-key-4242"


def http(name: str, url: str, extra: str = "") -> str:
    return f'[[components]]\nname = "{name}"\nkind = "http"\nurl = "{url}"\n{extra}\n'


def inventory(suite, *components: str, timeout: float = 1) -> None:
    suite.inventory(f"[system]\ntimeout = {timeout}\n" + "".join(components))


CONDITIONS = """
[[components.expect_json]]
path = "status"
equals = "ok"
[[components.expect_json]]
path = "models"
not_empty = true
[[components.expect_json]]
path = "build.version"
"""


def require_key(request) -> Route:
    if request.headers.get("x-api-key") == KEY:
        return Route(200, json={"docs": "here"})
    return Route(401, json={"detail": "API key required"})


def test_healthy_endpoints_pass_every_check(suite, http_server, monkeypatch):
    monkeypatch.setenv("OPSCHECK_TEST_API_KEY", KEY)
    plain = http_server()
    plain.route("/health", json={"status": "ok", "models": [{"name": "qwen"}],
                                 "build": {"version": "1.2"}})
    plain.route("/docs", handler=require_key)
    secure = http_server(tls=True, cert_days=90)
    secure.route("/api/health", json={"database": "ok"})
    inventory(suite,
              http("svc", f"{plain.url}/health", CONDITIONS),
              http("docs", f"{plain.url}/docs",
                   'api_key_env = "OPSCHECK_TEST_API_KEY"\nrefuses_anonymous = true'),
              http("grafana", f"{secure.url}/api/health", f'ca_file = "{secure.cert_path}"'))
    result = suite.run("-rA", checks=("http",))
    result.assert_outcomes(passed=11, skipped=4)
    result.stdout.fnmatch_lines_random([
        "PASSED *test_http.py::test_http_json_condition[[]svc:status==ok[]]",
        "PASSED *test_http.py::test_http_json_condition[[]svc:models:not-empty[]]",
        "PASSED *test_http.py::test_http_json_condition[[]svc:build.version:present[]]",
        "PASSED *test_http.py::test_http_refuses_anonymous[[]docs[]]",
        "PASSED *test_http.py::test_http_certificate_days_left[[]grafana[]]",
    ])
    sent = [r.headers.get("x-api-key") for r in plain.requests if r.path == "/docs"]
    assert sent == [KEY, None]  # the key as a header, then the anonymous request
    assert KEY not in result.stdout.str() + result.stderr.str()


def test_server_down_fails_once_then_could_not_run(suite):
    url = f"http://127.0.0.1:{free_port()}/health"
    inventory(suite, http("orchestrator", url))
    result = suite.run(checks=("http",))
    # not https, refuses_anonymous unset: those do not apply, down or not (skipped)
    result.assert_outcomes(failed=1, errors=1, skipped=2, deselected=3)  # and no values, metrics
    result.stdout.fnmatch_lines_random([
        f"orchestrator unreachable at {url}: ConnectionError: connection refused",
        "could not run: orchestrator unreachable (ConnectionError: connection refused)",
        "orchestrator (http): 1 failed, 1 could not run, 2 skipped",
    ])


@pytest.mark.parametrize("fault", ["sleeps past the timeout", "accepts and never answers"])
def test_no_answer_fails_within_timeout_plus_one_second(suite, http_server, silent_server,
                                                         fault):
    if fault == "sleeps past the timeout":
        url = f"{http_server().route('/health', json={}, delay=10).url}/health"
    else:
        url = f"{silent_server.url}/health"
    inventory(suite, http("llama", url), timeout=1)
    result = suite.run("-m", "critical", checks=("http",))
    result.assert_outcomes(failed=1, deselected=6)  # standard; no expect_json, values, metrics
    result.stdout.fnmatch_lines([f"llama unreachable at {url}: TimeoutError: no complete "
                                 "answer within the timeout of 1 s"])
    # the deadline's own line above: the whole answer was bounded, not each read


def test_status_500_fails_with_observed_and_expected(suite, http_server):
    server = http_server().route("/health", status=500, body="internal error")
    inventory(suite, http("litellm", f"{server.url}/health", "expect_status = [200, 204]"))
    result = suite.run("-m", "critical", checks=("http",))
    result.assert_outcomes(failed=1, deselected=6)  # standard; no expect_json, values, metrics
    result.stdout.fnmatch_lines([f"*litellm {server.url}/health answered "
                                 "500, expected 200 or 204"])


def test_false_json_conditions_fail(suite, http_server):
    server = http_server()
    server.route("/health", json={"status": "degraded", "models": [], "build": {}})
    server.route("/text", body="OK")
    inventory(suite, http("ollama", f"{server.url}/health", CONDITIONS),
              http("neo4j", f"{server.url}/text",
                   '[[components.expect_json]]\npath = "status"\nequals = "ok"'))
    result = suite.run("-m", "critical", checks=("http",))
    result.assert_outcomes(passed=2, failed=4)
    url = f"{server.url}/health"
    result.stdout.fnmatch_lines_random([
        f"ollama {url}: JSON 'status' is 'degraded', expected 'ok'",
        f"ollama {url}: JSON 'models' is [[]], expected a non-empty list",
        f"ollama {url}: JSON body has no 'build.version'; expected 'build.version' present",
        f"neo4j {server.url}/text answered 200: body is not JSON (starts 'OK'); expected JSON "
        "with status==ok",
    ])


def test_slow_answer_crosses_response_time_levels(suite, http_server):
    server = http_server().route("/health", json={}, delay=0.3)
    inventory(suite, http("qdrant", f"{server.url}/health",
                          "[components.thresholds.response_time]\nwarning = 0.1\ncritical = 0.2\n"
                          'action = "Check Qdrant load"'),
              http("grafana", f"{server.url}/health",
                   "[components.thresholds.response_time]\nwarning = 0.1\ncritical = 5\n"))
    result = suite.run("-k", "response_time", checks=("http",))
    result.assert_outcomes(passed=1, failed=1, warnings=1)
    result.stdout.fnmatch_lines_random([
        "qdrant response time 0.3* s ≥ critical 0.2 s (warning 0.1 s). Action: Check Qdrant load",
        "*ThresholdWarning: grafana response time 0.3* s ≥ warning 0.1 s (critical 5 s)*",
    ])


def test_certificate_near_expiry_fails_and_untrusted_one_is_unreachable(suite, http_server):
    soon = http_server(tls=True, cert_days=3).route("/", json={})
    month = http_server(tls=True, cert_days=20).route("/", json={})
    inventory(suite, http("soon", f"{soon.url}/", f'ca_file = "{soon.cert_path}"'),
              http("month", f"{month.url}/", f'ca_file = "{month.cert_path}"'),
              http("untrusted", f"{soon.url}/"))
    result = suite.run("-k", "status or certificate", checks=("http",))
    result.assert_outcomes(passed=3, failed=2, errors=1, warnings=1)
    result.stdout.fnmatch_lines_random([
        "soon TLS certificate expires in [23]* days ≤ critical 7 days (warning 30 days). "
        "Action: Renew the TLS certificate",
        "*ThresholdWarning: month TLS certificate expires in [12]* days ≤ warning 30 days*",
        f"untrusted unreachable at {soon.url}/: ConnectionError: TLS: self-signed certificate",
    ])


def test_expired_certificate_reports_negative_days(suite, http_server):
    server = http_server(tls=True, cert_days=-2).route("/", json={})
    inventory(suite, http("old", f"{server.url}/", "verify_tls = false"))
    result = suite.run("-k", "certificate", checks=("http",))
    result.assert_outcomes(failed=1)
    result.stdout.fnmatch_lines(["old TLS certificate expires in -2* days ≤ critical 7 days*"])


def test_endpoint_that_answers_without_credentials_fails(suite, http_server, monkeypatch):
    monkeypatch.setenv("OPSCHECK_TEST_API_KEY", KEY)
    server = http_server().route("/docs", json={"docs": "open to all"})
    inventory(suite, http("wave-docs", f"{server.url}/docs",
                          'api_key_env = "OPSCHECK_TEST_API_KEY"\nrefuses_anonymous = true'))
    result = suite.run("-k", "anonymous", checks=("http",))
    result.assert_outcomes(failed=1)
    result.stdout.fnmatch_lines([f"*wave-docs {server.url}/docs answered 200 "
                                 "without credentials, expected a refusal (401 or 403). "
                                 "Action: restore the API key requirement"])


def test_secret_in_a_failure_is_redacted(suite, http_server, monkeypatch):
    monkeypatch.setenv("OPSCHECK_TEST_PASSWORD", KEY)
    server = http_server()
    server.route("/me", handler=lambda req: Route(200, json={"auth": req.headers["authorization"],
                                                             "echo": KEY}))
    inventory(suite, http("grafana", f"{server.url}/me",
                          'username = "admin"\npassword_env = "OPSCHECK_TEST_PASSWORD"\n'
                          '[[components.expect_json]]\npath = "echo"\nequals = "nope"'))
    result = suite.run("-m", "critical", "-vv", checks=("http",))
    result.assert_outcomes(passed=1, failed=1)
    result.stdout.fnmatch_lines(["*JSON 'echo' is '***', expected 'nope'"])
    assert server.requests[0].headers["authorization"].startswith("Basic ")
    assert KEY not in result.stdout.str() + result.stderr.str()


@pytest.mark.parametrize(("extra", "message"), [
    ('url = "localhost:8000/health"',
     "url 'localhost:8000/health' is not an http:// or https:// URL with a host*"),
    ('url = "http://x:99999/"', "url 'http://x:99999/' has a port that is not a number from 1 "
     "to 65535*"),
    ('url = "http://x/"\nexpect_status = 999', "status 999 is not an HTTP status code*"),
    ('url = "http://x/"\n[[components.expect_json]]\npath = "a"\nequals = 1\nnot_empty = true',
     "condition on 'a' sets equals and not_empty; give one of equals, present, absent, not_empty*"),
    ('url = "http://x/"\nusername = "admin"',
     "basic auth needs both username and password_env; set both or neither"),
    ('url = "https://x/"\nca_file = "missing.pem"', "ca_file '*missing.pem' does not exist*"),
    ('url = "http://x/"\nmethod = "HEAD"\n[[components.expect_json]]\npath = "a"',
     "expect_json needs a body but method is HEAD*"),
])
def test_bad_http_inventory_is_a_usage_error(suite, extra, message):
    suite.inventory(f'[[components]]\nname = "svc"\nkind = "http"\n{extra}\n')
    result = suite.run("--collect-only", checks=("http",))
    assert result.ret == pytest.ExitCode.USAGE_ERROR
    result.stderr.fnmatch_lines([f"ERROR: *inventory.toml: components[[]0[]] (svc)*: {message}"])


@pytest.mark.parametrize("days", [-400, 3, 40000])  # expired, soon, GeneralizedTime (>= 2050)
def test_der_not_after_matches_cryptography(tmp_path, days):
    cert_path, _ = make_self_signed_cert(tmp_path, days=days)
    cert = x509.load_pem_x509_certificate(cert_path.read_bytes())
    der = cert.public_bytes(serialization.Encoding.DER)
    expected = cert.not_valid_after_utc.replace(microsecond=0)
    assert der_not_after(der) == expected
    assert abs((expected - dt.datetime.now(dt.UTC)).days - days) <= 1


def test_secret_read_after_load_is_registered_for_redaction(monkeypatch):
    from opscheck import secrets
    from opscheck.components.http import HttpComponent

    monkeypatch.setenv("OPSCHECK_TEST_LATE_KEY", "key-at-load-5b1f")
    component = HttpComponent(name="svc", url="http://127.0.0.1:1/",
                              api_key_env="OPSCHECK_TEST_LATE_KEY")
    monkeypatch.setenv("OPSCHECK_TEST_LATE_KEY", "key-rotated-9c3e")  # rotated after load
    assert component.secret("api_key_env") == "key-rotated-9c3e"
    assert secrets.redact("sent key-rotated-9c3e") == "sent ***"
