"""CI gates, Nagios exit codes and waivers: the README's recipes, run for real (pytester)."""

from __future__ import annotations

import datetime as dt
import json
from fnmatch import fnmatchcase

import pytest
from report_kit import waivers
from servers import free_port

CHECKS = '''
import os

import pytest

from opscheck.connect import CouldNotRun
from opscheck.thresholds import Threshold

MEMORY = Threshold(warning=75, critical=90, unit="%", action="Check for leaks")


@pytest.fixture
def broken():
    raise CouldNotRun("could not run: app unreachable at 127.0.0.1:1")


@pytest.mark.standard
@pytest.mark.files
@pytest.mark.parametrize("used", [10, 80, 95], ids=["ok", "warning", "critical"])
def test_memory(measure, used):
    measure("memory used", used, MEMORY, component="app")


@pytest.mark.standard
@pytest.mark.files
def test_unknown(broken):
    pass


@pytest.mark.critical
@pytest.mark.files
def test_service_up():
    assert os.environ.get("SERVICE_DOWN") != "1", "app service down"


@pytest.mark.standard
@pytest.mark.files
def test_export_present():
    assert os.environ.get("EXPORT_OK") == "1", "nightly export missing"
'''


@pytest.fixture
def gates(suite, monkeypatch):
    monkeypatch.delenv("OPSCHECK_NAGIOS", raising=False)
    monkeypatch.delenv("OPSCHECK_WAIVERS", raising=False)
    suite.inventory('[system]\nname = "gate-demo"\n')
    suite.pytester.makepyfile(test_gates=CHECKS)
    return suite


@pytest.mark.parametrize(("select", "code", "line"), [
    ("memory and ok", 0, "OPSCHECK OK - 1 ok (gate-demo) | 'app memory used'=10%;75;90"),
    ("memory and (ok or warning)", 1, "OPSCHECK WARNING - 1 warning, 1 ok (gate-demo) | *"),
    ("memory", 2, "OPSCHECK CRITICAL - 1 failed, 1 warning, 1 ok (gate-demo) | *"),
    ("memory and ok or unknown", 3, "OPSCHECK UNKNOWN - 1 could not run, 1 ok (gate-demo) | *"),
    ("unknown or (memory and critical)", 2,
     "OPSCHECK CRITICAL - 1 failed, 1 could not run (gate-demo) | 'app memory used'=95%;75;90"),
    ("nothing_matches", 3, "OPSCHECK UNKNOWN - no checks ran (gate-demo)"),
])
def test_nagios_prints_one_status_line_and_exits_with_its_code(gates, select, code, line):
    result = gates.run_files("--nagios", "-k", select)
    assert result.ret == code
    assert fnmatchcase(result.stdout.lines[0], line), result.stdout.lines
    assert not [x for x in result.stdout.lines if "test session starts" in x or "passed" in x]


def test_nagios_long_output_names_each_problem_with_its_check_and_action_worst_first(gates):
    result = gates.run_files("--nagios", "-k", "memory or unknown")
    assert result.ret == 2
    assert result.stdout.lines[1:] == [
        "CRITICAL: test_memory[critical]: app memory used 95% ≥ critical 90% (warning 75%). "
        "Action: Check for leaks",
        "UNKNOWN: test_unknown: could not run: app unreachable at 127.0.0.1:1",
        "WARNING: test_memory[warning]: app memory used 80% ≥ warning 75% (critical 90%). "
        "Action: Check for leaks",
    ]


def test_nagios_lines_of_a_redis_that_is_down_name_each_check_and_the_component(suite):
    """A Redis that is down stops all its checks: each line says which check, and where
    (they read alike but for that: eight identical UNKNOWN lines before)."""
    suite.inventory(f'[system]\nname = "bus-demo"\ntimeout = 1\n\n[[components]]\n'
                    f'name = "bus"\nkind = "redis"\nurl = "redis://127.0.0.1:{free_port()}/0"\n')
    result = suite.run("--nagios", checks=("redis",))
    problems = result.stdout.lines[1:]
    assert result.ret == 2 and len(problems) >= 4, result.stdout.lines
    assert len(set(problems)) == len(problems)
    assert problems[0].startswith("CRITICAL: bus: test_redis_answers_ping[bus]: bus ")
    for line in problems[1:]:
        state, component, check, _ = line.split(": ", 3)
        assert (state, component) == ("UNKNOWN", "bus") and check.startswith("test_redis_")
        assert line.endswith("bus unreachable") or "could not run: bus unreachable" in line


def test_nagios_from_the_environment_variable(gates, monkeypatch):
    monkeypatch.setenv("OPSCHECK_NAGIOS", "1")
    result = gates.run_files("-k", "memory and ok")
    assert result.ret == 0 and len(result.stdout.lines) == 1


def test_bad_nagios_value_is_a_usage_error(gates, monkeypatch):
    monkeypatch.setenv("OPSCHECK_NAGIOS", "maybe")
    result = gates.run_files()
    assert result.ret == 4
    result.stderr.fnmatch_lines(["*env OPSCHECK_NAGIOS: bad value 'maybe' for nagios (use true "
                                 "or false)*"])


def test_gate_critical_tier_fails_only_on_a_critical_failure(gates, monkeypatch):
    assert gates.run_files("-m", "critical").ret == 0  # the standard failures do not count
    monkeypatch.setenv("SERVICE_DOWN", "1")
    result = gates.run_files("-m", "critical")
    assert result.ret == 1
    result.assert_outcomes(failed=1)


def test_strict_gate_fails_on_warnings(gates):
    select = ("-k", "memory and (ok or warning)")
    assert gates.run_files(*select).ret == 0
    strict = gates.run_files(*select, "-W", "error::opscheck.thresholds.ThresholdWarning")
    assert strict.ret == 1
    strict.assert_outcomes(passed=1, failed=1)


def test_gate_with_waivers_ignores_waived_failures(gates):
    (gates.path / "waivers.toml").write_text(waivers("test_export_present"))
    select = ("-k", "service or export", "--report-json", "summary.json")
    assert gates.run_files(*select).ret == 1
    waived = gates.run_files(*select, "--waivers", "waivers.toml")
    assert waived.ret == 0
    waived.assert_outcomes(passed=1, xfailed=1)
    states = {c["check"]: c["state"] for c in
              json.loads((gates.path / "summary.json").read_text())["checks"]}
    assert states == {"test_service_up": "passed", "test_export_present": "waived"}


def test_expired_waiver_fails_loudly_on_a_failing_check(gates):
    (gates.path / "waivers.toml").write_text(waivers("test_export_*", days=-1))
    result = gates.run_files("-k", "export", "--waivers", "waivers.toml", "--report-json", "s.json")
    assert result.ret == 1
    result.assert_outcomes(failed=1)
    yesterday = dt.date.today() - dt.timedelta(days=1)
    result.stdout.fnmatch_lines([
        "*opscheck: EXPIRED WAIVERS*",
        f"*test_export_present: waiver 'test_export_*' expired on {yesterday}; renew it with "
        "a new justification or remove it from *waivers.toml",
    ])
    (check,) = json.loads((gates.path / "s.json").read_text())["checks"]
    assert check["state"] == "failed" and check["waiver"]["expired"] is True
    assert check["message"] == (f"nightly export missing [waiver 'test_export_*' "
                                f"expired on {yesterday} (export job retired; OPS-42, owner: "
                                "data team)]")


def test_expired_waiver_fails_even_when_the_check_passes_now(gates, monkeypatch):
    monkeypatch.setenv("EXPORT_OK", "1")
    (gates.path / "waivers.toml").write_text(waivers("test_export_present", days=-3))
    result = gates.run_files("-k", "export", "--waivers", "waivers.toml")
    assert result.ret == 1
    result.stdout.fnmatch_lines(["*waiver 'test_export_present' expired on *; the check "
                                 "passes now: remove the waiver from *waivers.toml*"])


def test_a_waived_check_that_passes_passes_and_does_not_fail_the_run(gates, monkeypatch):
    monkeypatch.setenv("EXPORT_OK", "1")  # fixed before its waiver ran out
    (gates.path / "waivers.toml").write_text(waivers("test_export_present"))
    result = gates.run_files("-k", "export", "--waivers", "waivers.toml", "--report-json",
                             "s.json")
    assert result.ret == 0
    (check,) = json.loads((gates.path / "s.json").read_text())["checks"]
    assert check["state"] != "failed", check


def test_waiver_expiring_today_still_holds(gates):
    (gates.path / "waivers.toml").write_text(waivers("test_export_present", days=0))
    assert gates.run_files("-k", "export", "--waivers", "waivers.toml").ret == 0


@pytest.mark.parametrize(("text", "message"), [
    ('[[waivers]]\ncheck = "test_x"\nexpires = 2099-01-01\n',
     "waivers[0].justification: required key 'justification' is missing; add it"),
    ('[[waivers]]\ncheck = "test_x"\njustification = "  "\nexpires = 2099-01-01\n',
     "waivers[0].justification: justification is empty; say why the failure is accepted "
     "(a ticket, an owner)"),
    ('[[waivers]]\ncheck = "test_x"\njustification = "OPS-1"\nexpires = "next week"\n',
     "waivers[0].expires: input should be a valid date*"),
    ('[[waivers]]\ncheck = "test_x"\njustification = "OPS-1"\nexpires = 2099-01-01\n'
     'reason = "x"\n',
     "waivers[0].reason: unknown key 'reason'; allowed keys here: check, expires, "
     "justification"),
    ('[waivers]\ncheck = "test_x"\n', "waivers: must be an array of tables: [[waivers]]"),
    ('[[waiver]]\ncheck = "test_x"\njustification = "OPS-1"\nexpires = 2099-01-01\n',
     "waiver: unknown key; write each waiver under its own [[waivers]] header"),
    ("[[waivers]\n", "cannot read the waivers (*); fix the file"),
])
def test_bad_waivers_file_is_a_one_line_usage_error(gates, text, message):
    (gates.path / "waivers.toml").write_text(text)
    result = gates.run_files("--waivers", "waivers.toml")
    assert result.ret == 4
    result.stderr.fnmatch_lines([f"ERROR: *waivers.toml: {message.replace('[', '[[]')}"])


def test_missing_waivers_file_is_a_usage_error(gates, monkeypatch):
    monkeypatch.setenv("OPSCHECK_WAIVERS", "nowhere.toml")
    result = gates.run_files()
    assert result.ret == 4
    result.stderr.fnmatch_lines(["ERROR: *nowhere.toml: waivers file not found; fix --waivers, "
                                 "OPSCHECK_WAIVERS or opscheck_waivers"])


def test_pushgateway_must_be_an_http_url(gates):
    result = gates.run_files("--pushgateway", "ftp://127.0.0.1:1")
    assert result.ret == 4
    result.stderr.fnmatch_lines(["*command line --pushgateway: bad value 'ftp://127.0.0.1:1' for "
                                 "pushgateway (give the pushgateway's http:// or https:// URL)*"])


def test_unreachable_pushgateway_is_reported_and_the_textfile_still_written(gates):
    url = f"http://127.0.0.1:{free_port()}"
    result = gates.run_files("-k", "service", "--pushgateway", url, "--metrics-out", "m.prom")
    assert result.ret == 0  # the checks' verdict; a stale push is what alerts on a lost push
    result.stdout.fnmatch_lines([f"opscheck metrics: push to {url} failed: URLError: *"])
    assert "opscheck_check_state{" in (gates.path / "m.prom").read_text()


def test_report_paths_come_from_env_and_ini(gates, monkeypatch):
    monkeypatch.setenv("OPSCHECK_REPORT_JSON", "out/env.json")
    (gates.path / "pytest.ini").write_text(
        (gates.path / "pytest.ini").read_text() + "opscheck_report_junit = out/ini.xml\n")
    result = gates.run_files("-k", "service")
    assert result.ret == 0
    assert (gates.path / "out" / "env.json").exists() and (gates.path / "out" / "ini.xml").exists()
    result.stdout.fnmatch_lines(["*report_json=*out/env.json (env OPSCHECK_REPORT_JSON)*"])


def test_allure_results_folder_is_emptied_per_run_but_keeps_history(gates):
    folder = gates.path / "allure"
    (folder / "history").mkdir(parents=True)
    (folder / "history" / "history-trend.json").write_text("[]")
    (folder / "stale-result.json").write_text("{}")
    (folder / "notes.txt").write_text("not Allure's")
    assert gates.run_files("-k", "service", "--report-allure", "allure").ret == 0
    assert (folder / "history" / "history-trend.json").read_text() == "[]"
    assert not (folder / "stale-result.json").exists() and (folder / "notes.txt").exists()
    assert len(list(folder.glob("*-result.json"))) == 1


def test_nagios_output_redacts_a_configured_secret(gates, monkeypatch):
    monkeypatch.setenv("GATE_SECRET", "gate-s3cr3t-4417")
    gates.inventory('[system]\nname = "gate-demo"\n\n[[components]]\nname = "cache"\n'
                    'kind = "redis"\nurl = "redis://127.0.0.1:1/0"\npassword_env = "GATE_SECRET"\n')
    gates.pytester.makepyfile(test_leak='''
import os
import pytest

@pytest.mark.critical
@pytest.mark.redis
def test_auth():
    assert False, "AUTH refused for " + os.environ["GATE_SECRET"]
''')
    result = gates.run_files("--nagios", "test_leak.py")
    assert result.ret == 2
    assert result.stdout.lines[1] == "CRITICAL: test_auth: AUTH refused for ***"
    assert "gate-s3cr3t-4417" not in result.stdout.str() + result.stderr.str()


@pytest.mark.parametrize(("pattern", "waived"), [
    ("test_memory[critical]", ["critical"]),  # the docs' form: brackets are literal
    ("test_gates.py::test_memory[critical]", ["critical"]),
    ("test_memory[*]", ["critical"]),  # * any run of characters
    ("test_memory[?ritical]", ["critical"]),  # ? one character
    ("test_memory[c]", []),  # not a character class: no single-letter match
])
def test_a_waiver_names_a_parametrized_check_as_written(gates, pattern, waived):
    (gates.path / "waivers.toml").write_text(waivers(pattern))
    result = gates.run_files("-k", "memory", "--waivers", "waivers.toml", "--report-json",
                             "s.json")
    checks = json.loads((gates.path / "s.json").read_text())["checks"]
    states = {c["params"]: c["state"] for c in checks}
    assert sorted(p for p, s in states.items() if s == "waived") == waived, states
    assert result.ret == (0 if waived else 1)


@pytest.mark.parametrize("workers", [[], ["-n", "2"]], ids=["serial", "xdist"])
def test_a_waiver_matching_no_check_is_reported_and_fails_the_strict_gate(gates, workers):
    (gates.path / "waivers.toml").write_text(
        waivers("test_memroy[critical]") + waivers("test_export_present"))
    select = ("-k", "memory and ok", "--waivers", "waivers.toml", *workers)
    result = gates.run_files(*select)
    assert result.ret == 0  # it waives nothing, and the run is otherwise green
    result.stdout.fnmatch_lines([
        "*opscheck: WAIVERS MATCHING NO CHECK*",
        "waiver 'test_memroy[[]critical]' in *waivers.toml matches no collected check; fix its "
        "pattern (* and ? are wildcards, brackets are literal) or remove it"])
    assert "'test_export_present' in" not in result.stdout.str()  # deselected, yet it matches
    strict = gates.run_files(*select, "-W", "error::opscheck.thresholds.ThresholdWarning")
    assert strict.ret == 1
    strict.stdout.fnmatch_lines(["waiver 'test_memroy[[]critical]' * (strict gate: this fails "
                                 "the run)"])
