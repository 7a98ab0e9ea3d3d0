"""A check that does not apply to a component's configuration is skipped, whether or not the
component answers: decided at collection (``@pytest.mark.applies``), before connecting."""

from __future__ import annotations

import json

from servers import free_port

DOWN = """\
[system]
timeout = 1

[[components]]
name = "api"
kind = "http"
url = "http://127.0.0.1:{port}/health"

[[components]]
name = "bus"
kind = "redis"
url = "redis://127.0.0.1:{port}"

[[components]]
name = "events"
kind = "nats"
url = "nats://127.0.0.1:{port}"
"""
NOT_APPLYING = {
    "test_http_certificate_days_left[api]": "api is not https",
    "test_http_refuses_anonymous[api]": "api does not set refuses_anonymous",
    "test_redis_refuses_strangers[bus]": "bus requires no password (require_password)",
    "test_nats_monitor_healthz[events]": "events sets no monitor_url",
    "test_nats_jetstream_enabled[events]": "events does not set jetstream = true",
}


def test_checks_that_do_not_apply_are_skipped_even_when_the_component_is_down(suite):
    suite.inventory(DOWN.format(port=free_port()))
    result = suite.run("-m", "critical or standard", "--report-json=s.json",
                       checks=("http", "redis", "nats"))
    checks = {c["id"].rpartition("::")[2]: c for c in
              json.loads((suite.path / "s.json").read_text())["checks"]}
    for name, reason in NOT_APPLYING.items():
        assert checks[name]["state"] == "skipped", checks[name]
        assert checks[name]["message"] == reason
    unknown = [n for n, c in checks.items() if c["state"] == "could not run"]
    assert not set(unknown) & set(NOT_APPLYING)
    assert result.ret == 1  # the checks that do apply failed or could not run


def test_a_check_that_applies_still_runs(suite):
    suite.inventory(DOWN.format(port=free_port()).replace(
        'url = "http://127.0.0.1:', 'refuses_anonymous = true\nurl = "http://127.0.0.1:'))
    result = suite.run("-k", "refuses_anonymous", "--report-json=s.json", checks=("http",))
    check = json.loads((suite.path / "s.json").read_text())["checks"][0]
    assert check["state"] in ("failed", "could not run"), check
    assert result.parseoutcomes().get("skipped", 0) == 0
