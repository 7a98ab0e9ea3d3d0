"""Secrets are masked in every form they take on the way out, in every output; names never.

Against real peers: an HTTP endpoint that echoes the request's headers back (as httpbin's
``/headers`` does) and a PostgreSQL whose password is the image default, ``postgres``.
"""

from __future__ import annotations

import base64
import html
import json
import shutil
from collections.abc import Iterator
from pathlib import Path

import psycopg  # noqa: F401 - imported once here, so in-process runs reuse one module
import pytest
import requests
from servers import PostgresServer, Route, make_owned_tempdir

from opscheck import secrets

API_KEY = "B4ck\\slash-k3y-0001"  # one backslash: escaped it reads B4ck\\slash
PASSWORD = "p4ss\"w0rd/ü&<x>"  # a quote, a slash, non-ASCII, HTML's specials
USER = "ops"


@pytest.fixture
def fresh_secrets(monkeypatch: pytest.MonkeyPatch) -> None:
    """secrets' registry empty for this test, and as it was afterwards."""
    monkeypatch.setattr(secrets, "_values", set())
    monkeypatch.setattr(secrets, "_vars", {})
    monkeypatch.setattr(secrets, "_names", set())
    secrets._matcher.cache_clear()
    yield
    secrets._matcher.cache_clear()


def leaks(text: str, *values: str) -> list[str]:
    """The forms of ``values`` found in ``text``."""
    return sorted({f for v in values for f in secrets.forms(v) if f in text})


@pytest.mark.usefixtures("fresh_secrets")
def test_every_form_of_a_secret_is_masked():
    secrets.remember(API_KEY)
    secrets.remember(PASSWORD)
    token = base64.b64encode(f"{USER}:{API_KEY}".encode()).decode()
    samples = {
        "as is": f"key {API_KEY}",
        "repr": repr({"x-api-key": API_KEY}),
        "repr of a repr": repr(repr(API_KEY)),
        "JSON": json.dumps({"key": API_KEY}),
        "JSON in a repr": repr(json.dumps({"key": API_KEY})),
        "URL-encoded": "http://h/?k=" + requests.utils.quote(API_KEY, safe=""),
        "form-encoded": "k=" + requests.utils.quote(API_KEY).replace("%20", "+"),
        "HTML": "<td>" + html.escape(PASSWORD) + "</td>",
        "basic auth": f"Authorization: Basic {token}",
    }
    for what, sample in samples.items():
        assert leaks(secrets.redact(sample), API_KEY, PASSWORD) == [], what
        assert "***" in secrets.redact(sample), what


@pytest.mark.usefixtures("fresh_secrets")
@pytest.mark.parametrize("user", ["a", "ab", "abc", "operator"])
def test_basic_auth_of_any_user_hides_the_password(user):
    secrets.remember(PASSWORD)
    token = base64.b64encode(f"{user}:{PASSWORD}".encode()).decode()
    masked = secrets.redact(f"Basic {token}")
    assert "***" in masked
    # what is left decodes to the user and at most 2 characters of the password's edges
    shown = masked.replace("Basic ", "").split("***")
    assert sum(len(part) for part in shown) <= len(base64.b64encode(f"{user}:".encode())) + 4


@pytest.mark.usefixtures("fresh_secrets")
def test_a_trailing_newline_secret_is_masked_in_reprs_and_stripped():
    secrets.remember("s3cr3t-value\n")
    assert secrets.redact(repr("s3cr3t-value\n")) == "'***'"
    assert secrets.redact("header value: s3cr3t-value") == "header value: ***"


@pytest.mark.usefixtures("fresh_secrets")
def test_a_secret_inside_another_is_masked_whole():
    secrets.remember("s3cr3t")
    secrets.remember("s3cr3t-prod")
    assert secrets.redact("a s3cr3t-prod b s3cr3t c") == "a *** b *** c"
    secrets.remember("cr3t-prod-eu")  # overlapping, not nested: the union is masked
    assert secrets.redact("x s3cr3t-prod-eu y") == "x *** y"


@pytest.mark.usefixtures("fresh_secrets")
def test_names_holding_a_secret_are_kept_and_the_secret_masked_elsewhere(monkeypatch):
    monkeypatch.setenv("OPSCHECK_T_PG", "postgres")
    assert secrets.resolve("OPSCHECK_T_PG") == "postgres"
    secrets.protect(["wave-postgres", "postgres"])
    text = "wave-postgres: password authentication failed (password postgres)"
    assert secrets.redact(text) == "wave-postgres: password authentication failed (password ***)"
    record = {"component": "wave-postgres", "kind": "postgres", "message": "pw postgres"}
    assert secrets.redact_any(record) == {"component": "wave-postgres", "kind": "postgres",
                                          "message": "pw ***"}
    assert secrets.weak(["wave-postgres", "postgres", "host"]) == {"OPSCHECK_T_PG": (
        "the secret in OPSCHECK_T_PG is equal to or inside the names 'postgres', "
        "'wave-postgres': it is masked in messages but names are shown whole; use a long "
        "random secret")}


def echo_inventory(url: str) -> str:
    return f"""
[[components]]
name = "echo"
kind = "http"
url = "{url}"
api_key_env = "OPSCHECK_T_API_KEY"
[[components.expect_json]]
path = "headers.x-api-key"
equals = "the key"

[[components]]
name = "basic"
kind = "http"
url = "{url}"
username = "{USER}"
password_env = "OPSCHECK_T_PASSWORD"
[[components.expect_json]]
path = "headers.authorization"
equals = "the token"
"""


def outputs(result: pytest.RunResult, root: Path) -> dict[str, str]:
    texts = {"stdout": result.stdout.str(), "stderr": result.stderr.str()}
    files = [p for p in root.rglob("*") if p.is_file() and p.suffix != ".toml"]
    texts.update({str(p): p.read_bytes().decode(errors="replace") for p in files})
    return texts


def test_echoed_credentials_are_masked_in_every_report(suite, http_server, monkeypatch):
    monkeypatch.setenv("OPSCHECK_T_API_KEY", API_KEY)
    monkeypatch.setenv("OPSCHECK_T_PASSWORD", PASSWORD)
    server = http_server().echo("/headers")
    suite.inventory(echo_inventory(f"{server.url}/headers"))
    reports = suite.path / "reports"
    result = suite.run("-rA", "--tb=long", "--report-dir", str(reports), "--metrics-out",
                       str(reports / "opscheck.prom"), checks=("http",))
    result.assert_outcomes(passed=4, failed=2, skipped=4)
    result.stdout.fnmatch_lines_random([
        f"*echo {server.url}/headers: JSON 'headers.x-api-key' is '***', expected 'the key'",
        f"*basic {server.url}/headers: JSON 'headers.authorization' is 'Basic ***', "
        "expected 'the token'"])
    texts = outputs(result, suite.path)
    assert {Path(p).name for p in texts} >= {"report.html", "junit.xml", "summary.json",
                                             "opscheck.prom"}
    assert any("-result.json" in p for p in texts), "no Allure result was written"
    token = base64.b64encode(f"{USER}:{PASSWORD}".encode()).decode()
    for where, text in texts.items():
        assert leaks(text, API_KEY, PASSWORD, token) == [], where
    nagios = suite.run("--nagios", checks=("http",))
    assert leaks(nagios.stdout.str(), API_KEY, PASSWORD, token) == []
    assert "'***'" in nagios.stdout.str()


def test_a_secret_in_an_exception_reaches_no_log(suite, monkeypatch):
    monkeypatch.setenv("OPSCHECK_T_TOKEN", "s3cr3t")
    monkeypatch.setenv("OPSCHECK_T_TOKEN2", "s3cr3t-prod")
    suite.inventory('[[components]]\nname = "api"\nkind = "http"\nurl = "http://127.0.0.1:1"\n'
                    'api_key_env = "OPSCHECK_T_TOKEN"\n[[components]]\nname = "api2"\n'
                    'kind = "http"\nurl = "http://127.0.0.1:1"\n'
                    'api_key_env = "OPSCHECK_T_TOKEN2"\n')
    suite.pytester.makepyfile(test_leaky="""
        import logging, os
        import pytest

        def secret():
            return os.environ["OPSCHECK_T_TOKEN2"] + "/" + os.environ["OPSCHECK_T_TOKEN"]

        @pytest.mark.standard
        @pytest.mark.files
        def test_raises():
            raise RuntimeError(f"server said: bad token {secret()!r}")

        @pytest.mark.standard
        @pytest.mark.files
        def test_asserts():
            assert False, f"token {secret()}"

        @pytest.mark.standard
        @pytest.mark.files
        def test_logs():
            logging.getLogger("client").warning("sending token %s", secret())
            raise ConnectionError(OSError(f"refused for {secret()}"))
    """)
    result = suite.run_files("--debug=debug.log", "--log-file=run.log", "--log-level=DEBUG",
                             "--log-cli-level=WARNING", "-rA", "--tb=long")
    result.assert_outcomes(failed=3)
    debug = (suite.path / "debug.log").read_text()
    assert """excinfo=<ExceptionInfo RuntimeError("server said: bad token '***/***'")""" in debug
    assert "sending token ***/***" in (suite.path / "run.log").read_text()
    for where, text in outputs(result, suite.path).items():
        assert "s3cr3t" not in text, where
        assert "-prod" not in text, where  # the longer secret masked whole, not "***-prod"


PG_NAMES = """
[[components]]
name = "wave-postgres"
kind = "postgres"
dsn = "postgresql://postgres@127.0.0.1:{port}/postgres"
password_env = "OPSCHECK_T_PG_PASSWORD"

[[probes]]
name = "password-echo"
component = "wave-postgres"
query = "SELECT current_setting('application_name') || 'postgres'"
critical = 1
tier = "critical"
"""


@pytest.fixture(scope="module")
def pg_default_password() -> Iterator[PostgresServer]:
    """PostgreSQL whose password is the image default: ``postgres``."""
    tmp = make_owned_tempdir("opscheck-pg-", "postgres")
    server = PostgresServer(tmp, password="postgres")
    try:
        yield server.start()
    finally:
        server.stop()
        shutil.rmtree(tmp, ignore_errors=True)


def test_a_secret_equal_to_a_name_masks_no_name(suite, monkeypatch, pg_default_password):
    monkeypatch.setenv("OPSCHECK_T_PG_PASSWORD", "postgres")
    suite.inventory(PG_NAMES.format(port=pg_default_password.port))
    reports = suite.path / "reports"
    result = suite.run("-m", "critical", "--report-dir", str(reports), "--metrics-out",
                       str(reports / "opscheck.prom"), checks=("postgres", "probes"))
    result.stdout.fnmatch_lines([
        "opscheck WARNING: the secret in OPSCHECK_T_PG_PASSWORD is equal to or inside the names "
        "'postgres', 'wave-postgres': it is masked in messages but names are shown whole; use "
        "a long random secret"])
    # the secret is masked where it is not a name: the probe's answer and query
    result.stdout.fnmatch_lines(["probe password-echo on wave-postgres: returned "
                                 "'opscheck[*][*][*]', not a number; query: SELECT *'[*][*][*]'"])
    # names, everywhere: the tally, the JSON summary's ids and fields, Prometheus's labels
    result.stdout.fnmatch_lines(["wave-postgres (postgres): 1 passed, 1 failed, 1 skipped"])
    summary = json.loads((reports / "summary.json").read_text())
    checks = {c["id"].rpartition("::")[2]: c for c in summary["checks"]}
    assert set(checks) == {"test_postgres_answers_select_1[wave-postgres]",
                           "test_postgres_replica_streaming[wave-postgres]",
                           "test_probe[wave-postgres:password-echo]"}
    assert {(c["component"], c["kind"]) for c in checks.values()} == {
        ("wave-postgres", "postgres")}
    assert list(summary["totals"]["component"]) == ["wave-postgres"]
    assert "returned 'opscheck***'" in checks["test_probe[wave-postgres:password-echo]"]["message"]
    prom = (reports / "opscheck.prom").read_text()
    assert 'kind="postgres"' in prom and 'component="wave-postgres"' in prom
    assert "test_postgres_answers_select_1[wave-postgres]" in prom
    assert "***" not in prom
    junit = (reports / "junit.xml").read_text()
    assert '<property name="kind" value="postgres"' in junit
    assert "test_postgres_answers_select_1[wave-postgres]" in junit


def test_a_long_secret_cut_short_in_a_message_shows_no_part(suite, http_server, monkeypatch):
    token = "eyJhbGciOiJIUzI1NiJ9." + "A1b2C3d4" * 12  # longer than any excerpt
    monkeypatch.setenv("OPSCHECK_T_API_KEY", token)
    server = http_server().route("/token", handler=lambda r: Route(
        body=r.headers.get("x-api-key", "") + " was your key"))
    suite.inventory(f'[[components]]\nname = "tok"\nkind = "http"\nurl = "{server.url}/token"\n'
                    'api_key_env = "OPSCHECK_T_API_KEY"\n[[components.expect_json]]\n'
                    'path = "status"\n')
    result = suite.run("-m", "critical", checks=("http",))
    result.assert_outcomes(passed=1, failed=1)
    result.stdout.fnmatch_lines(["*tok */token answered 200: body is not JSON (starts '*** was "
                                 "your key'); expected JSON with status:present"])
    assert "eyJhbGci" not in result.stdout.str()


def test_a_secret_with_a_trailing_newline_is_masked_in_the_clients_repr(suite, http_server,
                                                                        monkeypatch):
    monkeypatch.setenv("OPSCHECK_T_API_KEY", "s3cr3t-newline-value\n")  # read from a file
    server = http_server().route("/health", json={})
    suite.inventory(f'[[components]]\nname = "nl"\nkind = "http"\nurl = "{server.url}/health"\n'
                    'api_key_env = "OPSCHECK_T_API_KEY"\n')
    result = suite.run("-m", "critical", checks=("http",))
    result.assert_outcomes(failed=1)
    result.stdout.fnmatch_lines([f"nl unreachable at {server.url}/health: InvalidHeader: *header "
                                 "value: '***'"])
    assert "s3cr3t" not in result.stdout.str()
