"""NATS checks against a real nats-server on loopback: healthy passes; each fault fails."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import nats  # noqa: F401 - imported once here, so in-process runs reuse one module
import pytest
import requests  # noqa: F401 - likewise
from servers import free_port

PASSWORD = "nats-pass-7d1e"
ROOT = Path(__file__).resolve().parents[1]


def nats_inventory(suite, url: str, extra: str = "", timeout: float = 1) -> None:
    suite.inventory(f'[system]\ntimeout = {timeout}\n[[components]]\nname = "factory-nats"\n'
                    f'kind = "nats"\nurl = "{url}"\n{extra}\n')


def test_healthy_server_connects_and_reports_healthy(suite, nats_server):
    nats_inventory(suite, nats_server.url, f'monitor_url = "{nats_server.monitor_url}"')
    result = suite.run("-rA", checks=("nats",))
    result.assert_outcomes(passed=2, skipped=1)
    result.stdout.fnmatch_lines_random([
        "PASSED *::test_nats_connects[[]factory-nats[]]",
        "PASSED *::test_nats_monitor_healthz[[]factory-nats[]]",
        "SKIPPED *factory-nats does not set jetstream = true"])


def test_jetstream_enabled_passes(suite, nats_server_factory):
    server = nats_server_factory(jetstream=True)
    nats_inventory(suite, server.url, f'monitor_url = "{server.monitor_url}"\njetstream = true')
    result = suite.run("-m", "standard", checks=("nats",))
    result.assert_outcomes(passed=2)


def test_jetstream_expected_but_disabled_fails(suite, nats_server):
    nats_inventory(suite, nats_server.url, f'monitor_url = "{nats_server.monitor_url}"\n'
                   "jetstream = true")
    result = suite.run("-k", "jetstream", checks=("nats",))
    result.assert_outcomes(failed=1)
    result.stdout.fnmatch_lines(["factory-nats: JetStream is not enabled (no responder for "
                                 "$JS.API); expected JetStream enabled. Action: start "
                                 "nats-server with JetStream (-js)*"])


def test_server_down_fails_once_then_could_not_run(suite):
    url = f"nats://127.0.0.1:{free_port()}"
    nats_inventory(suite, url, "jetstream = true")
    result = suite.run(checks=("nats",))
    result.assert_outcomes(failed=1, errors=1, skipped=1)  # no monitor_url: skipped
    result.stdout.fnmatch_lines_random([
        f"factory-nats unreachable at {url}: ConnectionError: *Connect call failed*",
        "factory-nats (nats): 1 failed, 1 could not run, 1 skipped"])


def test_listener_that_never_answers_fails_within_timeout_plus_one_second(suite, silent_server):
    url = f"nats://127.0.0.1:{silent_server.port}"
    nats_inventory(suite, url, timeout=1)
    result = suite.run("-m", "critical", checks=("nats",))
    result.assert_outcomes(failed=1)
    result.stdout.fnmatch_lines([f"factory-nats unreachable at {url}: TimeoutError: no NATS "
                                 "greeting within 1 s"])
    assert silent_server.connection_count == 1, "the silent server was waited on twice"


def test_monitoring_endpoint_down_fails_healthz_only(suite, nats_server):
    monitor = f"http://127.0.0.1:{free_port()}"
    nats_inventory(suite, nats_server.url, f'monitor_url = "{monitor}"')
    result = suite.run("-m", "not deep", checks=("nats",))
    result.assert_outcomes(passed=1, failed=1, skipped=1)
    result.stdout.fnmatch_lines([f"factory-nats monitoring {monitor}/healthz unreachable: "
                                 "ConnectionError: connection refused"])


def test_password_auth_passes_and_a_wrong_password_is_refused(suite, nats_server_factory,
                                                             monkeypatch):
    server = nats_server_factory(extra_args=["--user", "factory", "--pass", PASSWORD])
    monkeypatch.setenv("OPSCHECK_TEST_NATS_PASSWORD", PASSWORD)
    auth = 'user = "factory"\npassword_env = "OPSCHECK_TEST_NATS_PASSWORD"'
    nats_inventory(suite, server.url, auth)
    suite.run("-m", "critical", checks=("nats",)).assert_outcomes(passed=1)
    monkeypatch.setenv("OPSCHECK_TEST_NATS_PASSWORD", PASSWORD + "-wrong")
    result = suite.run("-m", "critical", checks=("nats",))
    result.assert_outcomes(failed=1)
    result.stdout.fnmatch_lines(["factory-nats unreachable at *: *uthorization*iolation*"])
    assert PASSWORD not in result.stdout.str() + result.stderr.str()


@pytest.mark.parametrize(("extra", "message"), [
    ('url = "http://127.0.0.1:4222"', "url 'http://127.0.0.1:4222' is not a nats:// or tls:// "
     "URL with a host*"),
    ('url = "nats://x:0"', "url 'nats://x:0' has port 0*"),
    ('url = "nats://x:4222"\nmonitor_url = "localhost:8222"',
     "monitor_url 'localhost:8222' is not an http:// or https:// URL with a host*"),
    ('url = "nats://x:4222"\nuser = "factory"',
     "user/password auth needs both user and password_env; set both or neither"),
])
def test_bad_nats_inventory_is_a_usage_error(suite, extra, message):
    suite.inventory(f'[[components]]\nname = "factory-nats"\nkind = "nats"\n{extra}\n')
    result = suite.run("--collect-only", checks=("nats",))
    assert result.ret == pytest.ExitCode.USAGE_ERROR
    result.stderr.fnmatch_lines([f"ERROR: *inventory.toml: components[[]0[]] (factory-nats)*: "
                                 f"{message}"])


def test_monitor_answering_html_fails_jetstream_in_one_line(suite, nats_server_factory,
                                                             http_server):
    server = nats_server_factory(jetstream=True)
    page = http_server().route("/jsz", body="<html><body>Welcome</body></html>")
    nats_inventory(suite, server.url, f'monitor_url = "{page.url}"\njetstream = true')
    result = suite.run("-k", "jetstream", checks=("nats",))
    result.assert_outcomes(failed=1)
    result.stdout.fnmatch_lines([f"factory-nats {page.url}/jsz answered 200: body is not JSON "
                                 "(starts '<html><body>Welcome</body></html>'); expected the "
                                 "monitoring endpoint's JetStream JSON*"])
    assert "Traceback" not in result.stdout.str()
    assert "ValueError" not in result.stdout.str()


def test_importing_the_nats_fixture_does_not_import_asyncio():
    code = ("import sys; import opscheck.targets.nats; "
            "assert 'asyncio' not in sys.modules, 'asyncio imported at module level'")
    done = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True,
                          text=True, timeout=30, check=False)
    assert done.returncode == 0, done.stderr
