"""The aws kind against emulated AWS: moto's server on loopback (tests/servers/moto.py).

Every test here drives the emulator into a state (an alarm set to ALARM, datapoints put
below a level, an ECS service short of tasks, a clock set back) and runs the real checks
against it. What moto does not emulate is said in docs/aws.md. No test reaches AWS: every
component's endpoint_url is the loopback emulator (and AWS_ENDPOINT_URL too, for any
component that would leave it out), credentials are fake and in the environment only, and
the instance metadata service is off.
"""

from __future__ import annotations

import pytest
from aws_kit import ALARMS, alarm, aws, cost_answer, put, run

# --------------------------------------------------------------------------- reachability

def test_emulated_aws_api_answers(suite, moto_server):
    result = run(suite, aws(moto_server.url), "-k", "api_answers")
    result.assert_outcomes(passed=1)


# --------------------------------------------------------------------------- alarms



def test_emulated_alarm_ok_passes_and_alarm_fails(suite, moto_server):
    alarm(moto_server, "EvolutionFailure", "OK")
    run(suite, aws(moto_server.url, ALARMS), "-k", "alarm").assert_outcomes(passed=1)
    alarm(moto_server, "EvolutionFailure", "ALARM", "Threshold Crossed: 1 datapoint [65.0]")
    result = run(suite, aws(moto_server.url, ALARMS), "-k", "alarm")
    result.assert_outcomes(failed=1)
    result.stdout.fnmatch_lines(["td-aws alarm EvolutionFailure in ALARM since * UTC "
                                 "(Threshold Crossed: 1 datapoint ?65.0?). Action: "
                                 "notify-oncall*"])


def test_emulated_missing_alarm_fails(suite, moto_server):
    result = run(suite, aws(moto_server.url, ALARMS), "-k", "alarm")
    result.assert_outcomes(failed=1)
    result.stdout.fnmatch_lines(["td-aws has no CloudWatch alarm named 'EvolutionFailure' "
                                 "in us-east-1; expected it to exist*"])


def test_emulated_insufficient_data_could_not_run_or_warns_as_configured(suite, moto_server):
    alarm(moto_server, "EvolutionFailure", "INSUFFICIENT_DATA", "Unchecked: Initial alarm "
          "creation")
    result = run(suite, aws(moto_server.url, ALARMS), "-k", "alarm")
    result.assert_outcomes(errors=1)
    result.stdout.fnmatch_lines(["*could not run: td-aws alarm EvolutionFailure in "
                                 "INSUFFICIENT_DATA since * CloudWatch has too little data*"])
    warned = ALARMS + 'insufficient_data = "warning"\n'
    result = run(suite, aws(moto_server.url, warned), "-k", "alarm")
    result.assert_outcomes(passed=1, warnings=1)
    result.stdout.fnmatch_lines(["*ThresholdWarning: td-aws alarm EvolutionFailure in "
                                 "INSUFFICIENT_DATA*too little data to evaluate it*"])


PREFIX = """
[[components.alarms]]
prefix = "td-"
min_alarms = 2
"""


def test_emulated_alarm_prefix_fails_on_any_alarm_and_on_too_few(suite, moto_server):
    alarm(moto_server, "td-high-cost", "OK")
    result = run(suite, aws(moto_server.url, PREFIX), "-k", "alarm")
    result.assert_outcomes(failed=1)
    result.stdout.fnmatch_lines(["td-aws has 1 CloudWatch alarms named td-… in us-east-1, "
                                 "expected at least 2"])
    alarm(moto_server, "td-security", "ALARM", "Threshold Crossed")
    alarm(moto_server, "other-alarm", "ALARM")  # not selected by the prefix
    result = run(suite, aws(moto_server.url, PREFIX), "-k", "alarm")
    result.assert_outcomes(failed=1)
    result.stdout.fnmatch_lines(["td-aws alarm td-security in ALARM since * (Threshold "
                                 "Crossed)"])
    assert "other-alarm" not in result.stdout.str()


def test_emulated_alarm_runs_at_its_own_tier(suite, moto_server):
    alarm(moto_server, "EvolutionFailure", "OK")
    alarm(moto_server, "HighCost", "ALARM")
    text = aws(moto_server.url, ALARMS + '[[components.alarms]]\nalarm = "HighCost"\n')
    result = run(suite, text, "-m", "critical", "-k", "alarm")
    result.assert_outcomes(passed=1)  # HighCost is standard: not selected
    result = run(suite, text, "-m", "standard", "-k", "alarm")
    result.assert_outcomes(failed=1)


# --------------------------------------------------------------------------- metrics

SUCCESS = """
[[components.metrics]]
name = "evolution-success-rate"
namespace = "TDev"
metric = "EvolutionSuccessRate"
statistic = "Average"
period = 3600
direction = "below"
warning = 85
critical = 70
unit = "%"
action = "Check logs for failures (TD:50)"
"""


@pytest.mark.parametrize(("values", "outcome", "line"), [
    ((90, 100), {"passed": 1}, None),
    ((80, 82), {"passed": 1, "warnings": 1},
     "*ThresholdWarning: td-aws evolution-success-rate (EvolutionSuccessRate Average over "
     "3600 s) 81% ≤ warning 85% (critical 70%)*"),
    ((60, 70), {"failed": 1},
     "td-aws evolution-success-rate (EvolutionSuccessRate Average over 3600 s) 65% ≤ "
     "critical 70% (warning 85%). Action: Check logs for failures (TD:50)"),
], ids=["within", "warning", "critical"])
def test_emulated_metric_statistic_against_its_levels(suite, moto_server, values, outcome,
                                                      line):
    put(moto_server, "EvolutionSuccessRate", *values)
    put(moto_server, "EvolutionSuccessRate", 0, minutes_ago=90)  # before the period: unseen
    result = run(suite, aws(moto_server.url, SUCCESS), "-k", "metric")
    result.assert_outcomes(**outcome)
    if line:
        result.stdout.fnmatch_lines([line])


def test_emulated_metric_dimensions_select_the_series(suite, moto_server):
    query = SUCCESS + 'dimensions = { Agent = "planner" }\n'
    put(moto_server, "EvolutionSuccessRate", 50, dimensions={"Agent": "research"})
    put(moto_server, "EvolutionSuccessRate", 95, dimensions={"Agent": "planner"})
    run(suite, aws(moto_server.url, query), "-k", "metric").assert_outcomes(passed=1)
    put(moto_server, "EvolutionSuccessRate", 10, dimensions={"Agent": "planner"})
    run(suite, aws(moto_server.url, query), "-k", "metric").assert_outcomes(failed=1)


def test_emulated_metric_window_judges_its_worst_period(suite, moto_server):
    query = SUCCESS.replace("period = 3600", "period = 600\nwindow = 3600")
    put(moto_server, "EvolutionSuccessRate", 95, minutes_ago=5)
    put(moto_server, "EvolutionSuccessRate", 40, minutes_ago=35)  # an earlier bad period
    result = run(suite, aws(moto_server.url, query), "-k", "metric")
    result.assert_outcomes(failed=1)
    result.stdout.fnmatch_lines(["td-aws evolution-success-rate (EvolutionSuccessRate Average "
                                 "over 600 s, worst of 2 periods in 3600 s) 40% ≤ critical "
                                 "70%*"])


@pytest.mark.parametrize(("missing", "outcome", "line"), [
    ("could-not-run", {"errors": 1}, "*could not run: td-aws evolution-success-rate: no "
     "datapoint of TDev EvolutionSuccessRate in the last 3600 s (is the metric still sent?)"),
    ("fail", {"failed": 1}, "td-aws evolution-success-rate: no datapoint of TDev "
     "EvolutionSuccessRate in the last 3600 s, expected at least one"),
    ("ok", {"passed": 1}, None),
])
def test_emulated_metric_without_data_as_configured(suite, moto_server, missing, outcome,
                                                    line):
    query = SUCCESS + f'missing_data = "{missing}"\n'
    result = run(suite, aws(moto_server.url, query), "-k", "metric")
    result.assert_outcomes(**outcome)
    if line:
        result.stdout.fnmatch_lines([line])


SECURITY = """
[[components.metrics]]
name = "security-gate-failures"
namespace = "TDev"
metric = "SecurityGateFailures"
statistic = "Sum"
period = 300
critical = 1
missing_data = "ok"
tier = "critical"
"""


def test_emulated_sum_over_five_minutes_pages_at_critical_tier(suite, moto_server):
    text = aws(moto_server.url, SECURITY)
    run(suite, text, "-m", "critical", "-k", "metric").assert_outcomes(passed=1)
    put(moto_server, "SecurityGateFailures", 1, minutes_ago=1)
    result = run(suite, text, "-m", "critical", "-k", "metric")
    result.assert_outcomes(failed=1)
    result.stdout.fnmatch_lines(["td-aws security-gate-failures (SecurityGateFailures Sum "
                                 "over 300 s) 1 ≥ critical 1"])


# --------------------------------------------------------------------------- cost

DAILY = """
[[components.costs]]
name = "daily-cost"
critical = 100
warning = 80
action = "python scripts/cost_analysis.py --breakdown (TD:252)"
"""


@pytest.mark.parametrize(("amount", "outcome", "line"), [
    ("42.17", {"passed": 1}, None),
    ("85", {"passed": 1, "warnings": 1}, "*ThresholdWarning: td-aws daily-cost*85 USD ≥ "
     "warning 80 USD*"),
    ("123.456", {"failed": 1}, "td-aws daily-cost (UnblendedCost on *, estimated) 123.456 USD "
     "≥ critical 100 USD (warning 80 USD). Action: python scripts/cost_analysis.py*"),
], ids=["within", "warning", "critical"])
def test_emulated_daily_cost_against_its_levels(suite, moto_server, amount, outcome, line):
    moto_server.costs(cost_answer(amount))
    result = run(suite, aws(moto_server.url, DAILY), "-k", "cost")
    result.assert_outcomes(**outcome)
    if line:
        result.stdout.fnmatch_lines([line])


def test_emulated_cost_explorer_without_a_figure_could_not_run(suite, moto_server):
    """moto tracks no cost: unless told, it answers an empty ResultsByTime."""
    result = run(suite, aws(moto_server.url, DAILY), "-k", "cost")
    result.assert_outcomes(errors=1)
    result.stdout.fnmatch_lines(["*could not run: td-aws Cost Explorer gave no UnblendedCost "
                                 "for *"])
