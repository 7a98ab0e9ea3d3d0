"""Numbers from HTTP answers against a real loopback server driven past each level: JSON
values (JMESPath: a number, a length, a filtered count or sum, a timestamp's age) and
/metrics pages read directly (series by name and labels, aggregates, a rate and a ratio over
two scrapes)."""

from __future__ import annotations

import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
import requests  # noqa: F401 - imported once here, so in-process runs reuse one module

from opscheck.readings.jsonquery import ValueProblem, evaluate
from opscheck.readings.jsonvalue import JsonValue
from opscheck.suite import load


def http(name: str, url: str, extra: str = "") -> str:
    return f'[[components]]\nname = "{name}"\nkind = "http"\nurl = "{url}"\n{extra}\n'


def run(suite, *components: str, args: tuple[str, ...] = ("-rA",)):
    suite.inventory("[system]\ntimeout = 2\n" + "".join(components))
    return suite.run("-m", "critical or standard", "-k",
                     "test_http_json_value or test_http_metric", *args, checks=("http",))


def iso(hours_ago: float) -> str:
    return (datetime.now(UTC) - timedelta(hours=hours_ago)).strftime("%Y-%m-%dT%H:%M:%SZ")


AGENTS = """
[[components.values]]
name = "collections"
query = "length(result.collections)"
direction = "below"
critical = 0
unit = "collections"
[[components.values]]
name = "agents-not-ok"
query = "agents[?status != 'ok']"
label = "name"
aggregate = "count"
critical = 1
unit = "agents"
action = "Restart the agent"
[[components.values]]
name = "progress"
type = "age"
query = "checkpoints"
value = "at"
label = "agent"
warning = 1
critical = 2
unit = "h"
tier = "critical"
"""


def test_json_values_pass_then_warn_then_fail_naming_the_entries(suite, http_server):
    server = http_server()
    healthy = {"result": {"collections": [{"name": "team_memory"}]},
               "agents": [{"name": "fe-dev", "status": "ok"}, {"name": "be-dev", "status": "ok"}],
               "checkpoints": [{"agent": "fe-dev", "at": iso(0.2)},
                               {"agent": "be-dev", "at": iso(3)},      # an old one ...
                               {"agent": "be-dev", "at": iso(0.1)}]}  # ... and its newest
    server.route("/api", json=healthy)
    result = run(suite, http("wave", f"{server.url}/api", AGENTS))
    result.assert_outcomes(passed=3)

    server.route("/api", json={**healthy, "checkpoints": [
        {"agent": "fe-dev", "at": iso(1.5)}, {"agent": "be-dev", "at": iso(0.1)}]})
    result = run(suite, http("wave", f"{server.url}/api", AGENTS))
    result.assert_outcomes(passed=3, warnings=1)
    result.stdout.fnmatch_lines(["*wave progress (oldest: fe-dev 1.5* h, be-dev 0.1* h) 1.5* h "
                                 "≥ warning 1 h (critical 2 h)"])  # *: the run's own delay

    server.route("/api", json={
        "result": {"collections": []},
        "agents": [{"name": "fe-dev", "status": "ok"}, {"name": "be-dev", "status": "stuck"},
                   {"name": "qa-dev", "status": "error"}],
        "checkpoints": [{"agent": "fe-dev", "at": iso(2.5)}, {"agent": "be-dev", "at": iso(0)}]})
    result = run(suite, http("wave", f"{server.url}/api", AGENTS))
    result.assert_outcomes(failed=3)
    result.stdout.fnmatch_lines_random([
        "wave collections 0 collections ≤ critical 0 collections",
        "wave agents-not-ok (counted: be-dev, qa-dev) 2 agents ≥ critical 1 agents. Action: "
        "Restart the agent",
        "wave progress (oldest: fe-dev 2.5* h, be-dev 0* h) 2.5* h ≥ critical 2 h (warning 1 "
        "h)",
    ])
    critical = suite.run("-m", "critical", "-k", "json_value", checks=("http",))
    critical.assert_outcomes(failed=1, deselected=critical.parseoutcomes()["deselected"])
    critical.stdout.fnmatch_lines(["*wave:progress*"])  # the entry's own tier


SPEND = """
[[components.values]]
name = "spend-today"
query = "sum([?to_epoch(startTime) >= start_of_day()].spend)"
timezone = "UTC"
warning = 30
critical = 50
unit = "USD"
"""


def test_a_filtered_sum_of_todays_spend_crosses_its_levels(suite, http_server):
    """LiteLLM /spend/logs (AF:647): today's entries only; LiteLLM writes naive UTC times."""
    server = http_server()
    now = datetime.now(UTC).replace(tzinfo=None)
    today = now.replace(hour=0, minute=0, second=1).isoformat()
    yesterday = (now - timedelta(days=1)).isoformat()

    def logs(*spends: float) -> list[dict]:
        return [{"startTime": yesterday, "spend": 400.0, "model": "opus"}] + [
            {"startTime": today, "spend": s, "model": "sonnet"} for s in spends]

    for spends, outcome in (((5.0, 10.0), {"passed": 1}), ((20.0, 15.5), {"passed": 1,
                                                                           "warnings": 1}),
                            ((30.0, 25.0), {"failed": 1})):
        server.route("/spend/logs", json=logs(*spends))
        result = run(suite, http("litellm-spend", f"{server.url}/spend/logs", SPEND))
        result.assert_outcomes(**outcome)
    result.stdout.fnmatch_lines(["*litellm-spend spend-today 55 USD ≥ critical 50 USD "
                                 "(warning 30 USD)"])


def test_times_are_never_misread(suite, http_server):
    """Naive text without a zone, milliseconds read as seconds, digits in a string, a
    boolean: each refused with the fix, never judged."""
    server = http_server()
    now = time.time()
    server.route("/a", json={"naive": "2026-01-01T10:00:00", "ms": now * 1000,
                             "digits": "20260101", "flag": True, "ok_ms": (now - 60) * 1000})
    entries = "".join(f'[[components.values]]\nname = "{n}"\ntype = "age"\nquery = "{q}"\n'
                      f"critical = 2\n{extra}\n" for n, q, extra in (
                          ("naive", "naive", ""), ("ms", "ms", ""), ("digits", "digits", ""),
                          ("flag", "flag", ""), ("ok-ms", "ok_ms", 'epoch_unit = "ms"')))
    result = run(suite, http("svc", f"{server.url}/a", entries))
    result.assert_outcomes(failed=4, passed=1)
    result.stdout.fnmatch_lines_random([
        "*svc naive: '2026-01-01T10:00:00' has no UTC offset; set timezone = \"UTC\" (or the "
        "zone the service writes in) on the entry",
        "*svc ms: * lies * years in the future: it is not epoch s: set epoch_unit (s, ms, us "
        "or ns)",
        "*svc digits: '20260101' is not an ISO 8601 time (digits in a string: if it is an "
        "epoch time, convert it with to_number())",
        "*svc flag: true is not a time (expected an ISO 8601 string or an epoch number)",
    ])


def test_no_value_fails_unless_it_means_zero_and_a_list_needs_an_aggregate(suite, http_server):
    server = http_server().route("/a", json={"items": [1, 2], "body": "<html>"})
    server.route("/html", body="<html>not json</html>")
    entries = """
[[components.values]]
name = "gone"
query = "spend.total"
critical = 10
[[components.values]]
name = "gone-is-zero"
query = "spend.total"
missing = "zero"
critical = 10
[[components.values]]
name = "list"
query = "items"
critical = 10
[[components.values]]
name = "text"
query = "body"
critical = 10
"""
    result = run(suite, http("svc", f"{server.url}/a", entries),
                 http("page", f"{server.url}/html", '[[components.values]]\nname = "n"\n'
                                                    'query = "n"\ncritical = 1\n'))
    result.assert_outcomes(failed=4, passed=1)
    result.stdout.fnmatch_lines_random([
        "*svc gone: 'spend.total' found nothing (null) in the body; expected a value (set "
        "missing = \"zero\" if none means 0)",
        "*svc list: 'items' gave a list of 2; set aggregate (max, min, sum, avg or count) to "
        "make it one value",
        "*svc text: '<html>' is not a number",
        f"*page {server.url}/html answered 200: body is not JSON (starts '<html>not "
        "json</html>'); expected a JSON body",
    ])


@pytest.mark.parametrize(("entry", "message"), [
    ('query = "a[?"', "values.0.query: query 'a[?' is not a JMESPath expression"),
    ('query = "sum_all(a)"', "calls sum_all(), which JMESPath does not have; use JMESPath's "
                             "functions or to_epoch, now, start_of_day"),
    ('query = "t"\ntype = "age"\ntimezone = "Mars/Olympus"',
     "timezone 'Mars/Olympus' is not a time zone"),
    ('query = "t"\ntype = "age"\nunit = "%"', "an age's unit is one of s, min, h, d, not '%'"),
    ('query = "t"\ncritical = "90"', "level '90' is text without ':'"),
])
def test_bad_values_are_usage_errors(suite, entry, message):
    suite.inventory(http("svc", "http://127.0.0.1:9/", f'[[components.values]]\nname = "v"\n'
                                                       f"{entry}\ncritical = 1\n"
                         if "critical" not in entry else
                         f'[[components.values]]\nname = "v"\n{entry}\n'))
    result = suite.run("-m", "standard", checks=("http",))
    assert result.ret == 4
    assert message in result.stderr.str(), result.stderr.str()


def test_recorded_qdrant_snapshot_list_counts_and_ages():
    """Recorded: Qdrant's GET /collections/{name}/snapshots answer (naive UTC times)."""
    doc = {"result": [{"name": "team_memory-1.snapshot", "creation_time": "2026-11-20T03:00:05",
                       "size": 1048576},
                      {"name": "team_memory-2.snapshot", "creation_time": "2026-11-27T03:00:04",
                       "size": 1049000}], "status": "ok", "time": 0.001}
    now = datetime(2026, 12, 1, 3, 0, tzinfo=UTC).timestamp()
    newest = JsonValue(name="newest", type="age", query="result", value="creation_time",
                       label="name", aggregate="min", timezone="UTC", critical=176)
    judged = evaluate(newest, doc, now=now)
    assert round(judged.value, 2) == 96.0  # four days
    kept = JsonValue(name="kept", query="length(result)", direction="below", critical=3)
    assert evaluate(kept, doc, now=now).value == 2
    with pytest.raises(ValueProblem, match="has no UTC offset"):
        evaluate(newest.model_copy(update={"timezone": None}), doc, now=now)


METRICS = """\
# HELP wave_agent_utilization_percent Agent utilisation
# TYPE wave_agent_utilization_percent gauge
wave_agent_utilization_percent{{agent="fe-dev"}} {fe}
wave_agent_utilization_percent{{agent="be-dev"}} {be}
wave_agent_utilization_percent{{agent="qa-dev"}} 12
# TYPE wave_cost_total_usd counter
wave_cost_total_usd {cost}
"""
SCRAPES = """
[[components.metrics]]
name = "agent-utilization"
series = "wave_agent_utilization_percent"
warning = 70
critical = 85
unit = "%"
action = "Agent saturated"
[[components.metrics]]
name = "be-dev-utilization"
series = "wave_agent_utilization_percent"
labels = { agent = "be-dev" }
critical = "5:90"
unit = "%"
[[components.metrics]]
name = "dev-agents-busy"
series = "wave_agent_utilization_percent"
match = { agent = "(fe|be)-dev" }
aggregate = "avg"
critical = 85
unit = "%"
[[components.metrics]]
name = "cost-exported"
series = "wave_cost_total_usd"
aggregate = "count"
direction = "below"
critical = 0
unit = "series"
"""


def test_metrics_page_series_past_each_level(suite, http_server):
    """WAVE: wave_agent_utilization_percent{agent="be-dev"} 91 fails a critical level of 85."""
    server = http_server()
    page = {"fe": 40, "be": 60, "cost": "12.5"}
    server.metrics(lambda: METRICS.format(**page))
    component = http("wave-orchestrator-metrics", f"{server.url}/metrics", SCRAPES)
    run(suite, component).assert_outcomes(passed=4)

    page["be"] = 75
    result = run(suite, component)
    result.assert_outcomes(passed=4, warnings=1)
    result.stdout.fnmatch_lines(['*agent-utilization (worst: wave_agent_utilization_percent'
                                 '{agent="be-dev"} 75%, *) 75% ≥ warning 70% (critical 85%). '
                                 "Action: Agent saturated"])

    page.update(be=91, fe=95)
    result = run(suite, component)
    result.assert_outcomes(passed=1, failed=3)
    result.stdout.fnmatch_lines_random([
        'wave-orchestrator-metrics agent-utilization (worst: '
        'wave_agent_utilization_percent{agent="fe-dev"} 95%, '
        'wave_agent_utilization_percent{agent="be-dev"} 91%, *) 95% ≥ critical 85% (warning '
        "70%). Action: Agent saturated",
        '* be-dev-utilization (worst: wave_agent_utilization_percent{agent="be-dev"} 91%) 91% '
        "outside critical 5:90%",
        "* dev-agents-busy (*) 93% ≥ critical 85%*",
    ])

    server.metrics("# a page without the cost counter\nup 1\n")
    result = run(suite, component)
    result.stdout.fnmatch_lines_random([
        "* cost-exported 0 series ≤ critical 0 series",
        "* agent-utilization: no series wave_agent_utilization_percent on the page; expected "
        "it exported*",
        '* be-dev-utilization: no series wave_agent_utilization_percent{agent="be-dev"}*',
    ])


class Counters:
    """A page whose counters grow with time: ``requests`` and ``failures`` per second."""

    def __init__(self, per_second: float, failures: float) -> None:
        self.start = time.monotonic()
        self.requests, self.failures = per_second, failures
        self.base = 1000.0

    def page(self) -> str:
        t = time.monotonic() - self.start
        return ("# TYPE litellm_proxy_total_requests_metric counter\n"
                f'litellm_proxy_total_requests_metric_total{{model="m"}} '
                f"{self.base + self.requests * t}\n"
                "# TYPE litellm_proxy_failed_requests_metric counter\n"
                f'litellm_proxy_failed_requests_metric_total{{model="m"}} '
                f"{self.base / 10 + self.failures * t}\n")


RATES = """
[[components.metrics]]
name = "requests-per-second"
series = "litellm_proxy_total_requests_metric_total"
rate = true
interval = 1
direction = "below"
critical = 50
unit = "req/s"
[[components.metrics]]
name = "error-rate"
series = "litellm_proxy_failed_requests_metric_total"
denominator = [{ series = "litellm_proxy_total_requests_metric_total" }]
rate = true
interval = 1
min_denominator = 20
scale = 100
critical = 5
unit = "%"
"""


def test_rate_and_ratio_over_two_scrapes(suite, http_server):
    """LiteLLM error rate > 5 % (AF:333) from its /metrics, without a Prometheus."""
    server = http_server()
    counters = Counters(per_second=100, failures=2)
    server.metrics(counters.page)
    component = http("litellm-metrics", f"{server.url}/metrics", RATES)
    run(suite, component).assert_outcomes(passed=2)
    scrapes = [r for r in server.requests if r.path == "/metrics"]
    assert len(scrapes) == 3  # the run's answer, then two scrapes shared by both entries

    counters.failures = 10
    result = run(suite, component)
    result.assert_outcomes(passed=1, failed=1)
    result.stdout.fnmatch_lines(["litellm-metrics error-rate 10% ≥ critical 5%"])

    counters.requests, counters.failures = 5, 1  # too few requests in a second to judge
    result = run(suite, component)
    result.assert_outcomes(failed=1, skipped=1)
    result.stdout.fnmatch_lines_random([
        "*litellm-metrics requests-per-second * req/s ≤ critical 50 req/s*",
        "SKIPPED*litellm_proxy_total_requests_metric_total is * (its increase over 1.* s), "
        "below min_denominator 20: too few to judge a ratio",
    ])


def test_a_reset_counter_counts_from_zero_and_garbage_is_no_page(suite, http_server):
    server = http_server()
    values = iter([500.0, 500.0, 30.0])  # the run's answer, then a reset between the scrapes
    server.metrics(lambda: f"# TYPE jobs counter\njobs_total {next(values)}\n")
    server.route("/text", body="<html>metrics moved</html>")
    result = run(suite, http("svc", f"{server.url}/metrics",
                             '[[components.metrics]]\nname = "jobs"\nseries = "jobs_total"\n'
                             'rate = true\ninterval = 1\nper = "min"\nwarning = 1000\n'
                             'critical = 5000\nunit = "jobs/min"\n'),
                 http("moved", f"{server.url}/text",
                      '[[components.metrics]]\nname = "up"\nseries = "up"\ncritical = 1\n'))
    result.assert_outcomes(passed=1, failed=1, warnings=1)
    result.stdout.fnmatch_lines_random([  # 30 jobs in about a second, not -470
        "*svc jobs (worst: jobs_total 1[78]* jobs/min) 1[78]* jobs/min ≥ warning 1000 "
        "jobs/min (critical 5000 jobs/min)",
        f"*moved {server.url}/text answered 200: the page is not Prometheus text *",
    ])


PROFILES = Path(__file__).resolve().parents[1] / "profiles"


def profile_entries(name: str, component: str, monkeypatch) -> dict:
    from test_profiles import raw, variables

    for var in variables(raw(PROFILES / name)):  # every variable the profile names
        monkeypatch.setenv(var, f"/tmp/opscheck-dummy-{var.lower()}")
    inventory = load(PROFILES / name)
    entry = inventory.get(component)
    return {v.name: v for v in entry.values}


def test_the_factory_profiles_spend_queries_on_an_answer_shaped_as_the_runbook_reads_it(
        monkeypatch):
    """AF:647 reads /spend/logs as a list of entries with startTime and spend (jq '.[] |
    select(.startTime > ...) | .spend'): yesterday's entries are left out, models split."""
    values = profile_entries("agentic-factory.toml", "litellm-spend", monkeypatch)
    now = datetime.now(UTC)
    today = now.replace(tzinfo=None).isoformat()
    earlier = (now - timedelta(days=2)).replace(tzinfo=None).isoformat()
    logs = [{"startTime": earlier, "spend": 90.0, "model": "anthropic/claude-opus-4"},
            {"startTime": today, "spend": 12.0, "model": "anthropic/claude-opus-4"},
            {"startTime": today, "spend": 14.5, "model": "anthropic/claude-sonnet-4"},
            {"startTime": today, "spend": 3.0, "model": "gemini/gemini-2.5-pro"},
            {"startTime": today, "spend": 1.25, "model": "groq/llama-3.3-70b"},
            {"startTime": today, "spend": 0.0, "model": "hosted_vllm/qwen"}]
    judged = {name: evaluate(entry, logs).value for name, entry in values.items()}
    assert judged == {"spend-today": 30.75, "frontier-spend-today": 26.5,
                      "mid-spend-today": 4.25}
    assert values["frontier-spend-today"].threshold().state(26.5) == "critical"


def test_the_factory_profiles_qdrant_entries_on_a_recorded_answer(monkeypatch):
    values = profile_entries("agentic-factory.toml", "qdrant-snapshots", monkeypatch)
    made = (datetime.now(UTC) - timedelta(hours=30)).strftime("%Y-%m-%dT%H:%M:%S")
    doc = {"result": [{"name": f"team_memory-{i}.snapshot", "creation_time": made,
                       "size": 1048576} for i in range(5)], "status": "ok", "time": 0.002}
    age = evaluate(values["newest-snapshot-age"], doc)
    assert 29.9 < age.value < 30.1 and values["newest-snapshot-age"].threshold().state(
        age.value) == "critical"
    kept = evaluate(values["snapshots-kept"], doc).value
    assert kept == 5 and values["snapshots-kept"].threshold().state(kept) == "warning"


def test_the_wave_profiles_agent_progress_reads_each_agents_newest_checkpoint(monkeypatch):
    entry = profile_entries("wave.toml", "wave-orchestrator-checkpoints",
                            monkeypatch)["agent-progress"]
    body = [{"agent": "fe-dev", "created_at": iso(3)}, {"agent": "fe-dev", "created_at": iso(0.5)},
            {"agent": "be-dev", "created_at": iso(1.5)}]
    judged = evaluate(entry, body)
    assert judged.value == 1.5 and entry.threshold().state(judged.value) == "warning"
    assert evaluate(entry, {"checkpoints": body}).value == 1.5  # wrapped in an object, too
    with pytest.raises(ValueProblem, match="'created_at' found nothing in"):
        evaluate(entry, {"items": body})  # another shape fails loudly
    for empty in ([], {"checkpoints": []}):  # no checkpoint yet (a fresh install): 0 h
        assert evaluate(entry, empty).value == 0
    for wrong in (None, {"checkpoints": None}):  # a null body is no list: it fails
        with pytest.raises(ValueProblem, match="'created_at' found nothing in"):
            evaluate(entry, wrong)
