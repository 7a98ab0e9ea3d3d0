"""Command probes and processes by command line, on real commands and real processes.

Every command here really runs through testinfra's local backend (and one through its
docker backend, ``docker exec`` into a container of a real podman service): a slow one
killed with its process group at the deadline, one that floods its output, one that exits
non-zero with JSON on stdout, numbers read from output, a secret passed by name.
"""

from __future__ import annotations

import os
import random
import subprocess
import sys
import time
from pathlib import Path

import pytest

SECRET = "cmd-Secret-5be1c9"


def host(entries: str, spec: str = "local://") -> str:
    return f'[[components]]\nname = "box"\nkind = "host"\nspec = "{spec}"\n{entries}'


def run(suite, *args):
    return suite.run("-m", "critical or standard or deep", "-k", "command", *args)


def command(name: str, body: str) -> str:
    return f'[[components.commands]]\nname = "{name}"\n{body}\n'


def test_command_that_answers_as_expected_passes(suite, tmp_path):
    suite.inventory(host(
        command("argv", f'run = ["pwd"]\ncwd = "{tmp_path}"\nstdout_matches = "^{tmp_path}$"')
        + command("pipeline", 'run = "printf \'a\\\\nb\\\\nb\\\\n\' | grep -c b"\nshell = true\n'
                  'value = "first"\ncritical = 3')
        + command("stderr", 'run = "echo all good >&2"\nshell = true\n'
                  'stderr_matches = "good"\nstderr_not_matches = "error"')))
    result = run(suite)
    result.assert_outcomes(passed=3)


def test_exit_status_and_output_patterns_fail_with_the_output(suite):
    suite.inventory(host(
        command("exit", 'run = ["sh", "-c", "echo Overall: DEGRADED; exit 3"]\n'
                'action = "python -m src.cli health-check (SRO:205)"')
        + command("out", 'run = ["echo", "monitor: stale"]\nstdout_matches = "monitor: healthy"')
        + command("err", 'run = "echo Traceback boom >&2"\nshell = true\n'
                  'stderr_not_matches = "Traceback"')))
    result = run(suite)
    result.assert_outcomes(failed=3)
    result.stdout.fnmatch_lines_random([
        "box: command exit (`sh -c 'echo Overall: DEGRADED; exit 3'`) exited 3 (expected 0); "
        "stdout: Overall: DEGRADED. Action: python -m src.cli health-check (SRO:205)",
        "box: command out (`echo 'monitor: stale'`) stdout does not match /monitor: healthy/; "
        "stdout: monitor: stale.",
        "box: command err (*) stderr matches /Traceback/: 'Traceback'; stderr: Traceback boom.",
    ])


def test_non_zero_exit_with_json_on_stdout_is_judged_by_its_json(suite):
    report = ('printf \'{\\"overall\\": \\"%s\\", \\"checks\\": {\\"redis\\": \\"ok\\"}}\' %s; '
              'exit 1')
    suite.inventory(host(
        command("degraded", f'run = "{report % ("DEGRADED", "")}"\nshell = true\n'
                'expect_exit = [0, 1]\n[[components.commands.expect_json]]\npath = "overall"\n'
                'equals = "HEALTHY"\n[[components.commands.expect_json]]\npath = "checks.redis"\n'
                'equals = "ok"')
        + command("healthy", f'run = "{report % ("HEALTHY", "")}"\nshell = true\n'
                  'expect_exit = [0, 1]\n[[components.commands.expect_json]]\npath = "overall"\n'
                  'equals = "HEALTHY"')
        + command("strict", f'run = "{report % ("HEALTHY", "")}"\nshell = true\n'
                  '[[components.commands.expect_json]]\npath = "overall"\nequals = "HEALTHY"')))
    result = run(suite)
    result.assert_outcomes(passed=1, failed=2)
    result.stdout.fnmatch_lines_random([
        "box: command degraded (*) stdout JSON 'overall' is 'DEGRADED', expected 'HEALTHY'; "
        "stdout: {\"overall\": \"DEGRADED\"*",
        "box: command strict (*) exited 1 (expected 0); stdout: *HEALTHY*",
    ])


def test_numbers_read_from_output_are_held_against_levels(suite):
    suite.inventory(host(
        command("daily-cost", 'run = ["echo", "Daily cost: $92.50 / $100.00 daily"]\n'
                'value = \'\\$(?P<value>[0-9.]+) /\'\nwarning = 80\ncritical = 90\nunit = "USD"\n'
                'action = "pause (SRO:286)"')
        + command("json-cost", 'run = ["echo", "{\\"cost\\": {\\"today\\": 12.5}}"]\n'
                  'value_path = "cost.today"\nwarning = 10\ncritical = 20\nunit = "USD"')
        + command("no-number", 'run = ["echo", "no digits here"]\nvalue = "first"\n'
                  'critical = 1')))
    result = run(suite)
    result.assert_outcomes(passed=1, failed=2, warnings=1)
    result.stdout.fnmatch_lines_random([
        "box command daily-cost 92.5 USD ≥ critical 90 USD (warning 80 USD). Action: pause*",
        "*ThresholdWarning: box command json-cost 12.5 USD ≥ warning 10 USD (critical 20 USD)*",
        "box: command no-number (*) no number in 'no digits here'; stdout: no digits here.",
    ])


def _alive(marker: str) -> list[int]:
    pids = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit() and int(entry.name) != os.getpid():
            try:
                if marker.encode() in (entry / "cmdline").read_bytes():
                    pids.append(int(entry.name))
            except OSError:
                continue
    return pids


def test_slow_command_is_killed_with_its_whole_process_group_at_the_deadline(suite):
    a, b = (f"{random.randint(100000, 999999)}.{i}" for i in range(2))
    # a background child, and a child that ignores SIGTERM: only the -k KILL ends it
    script = f"sleep {a} & (trap '' TERM; exec sleep {b}) & wait"
    suite.inventory("[system]\ntimeout = 1\n" + host(command("slow", f'run = "{script}"\n'
                                                              'shell = true')))
    result = run(suite)
    result.assert_outcomes(failed=1)
    result.stdout.fnmatch_lines(["box: command slow (*) took longer than 1 s and was killed "
                                 "with its process group (raise the entry's timeout); "
                                 "no output."])
    deadline = time.monotonic() + 5
    while (_alive(f"sleep {a}") or _alive(f"sleep {b}")) and time.monotonic() < deadline:
        time.sleep(0.1)
    assert not _alive(f"sleep {a}") and not _alive(f"sleep {b}"), "a child outlived the check"


def test_a_timeout_past_pytest_timeouts_limit_is_kept_under_it(suite):
    suite.inventory(host(command("long", 'run = ["sleep", "30"]\ntimeout = 600')))
    result = run(suite, "--timeout=4")
    result.assert_outcomes(failed=1)
    result.stdout.fnmatch_lines(["box: command long (`sleep 30`) took longer than 3.4 s and was "
                                 "killed with its process group (it is kept under "
                                 "pytest-timeout's 4 s: run with --timeout=706); no output."])


def test_command_that_floods_its_output_is_capped(suite):
    suite.inventory(host(command(
        "flood", 'run = ["sh", "-c", "yes ERROR | head -n 20000000; echo DONE"]\n'
        'timeout = 60\nmax_output = 65536\nstdout_matches = "DONE"')))
    result = run(suite)
    result.assert_outcomes(failed=1)
    line = next(x for x in result.stdout.lines if x.startswith("box: command flood"))
    assert "exited" not in line  # it ran to its end: 120 MB read, 64 KiB kept
    assert "stdout (first 65536 bytes) does not match /DONE/" in line
    assert line.endswith(" [cut].") and len(line) < 1000


def test_secret_passed_by_name_reaches_the_command_and_is_redacted(suite, monkeypatch):
    monkeypatch.setenv("BOX_TOKEN", SECRET)
    suite.inventory(host(command(
        "token", 'run = "echo token=$TOKEN; exit 1"\nshell = true\nenv = { TOKEN = "BOX_TOKEN" }')))
    result = run(suite)
    result.assert_outcomes(failed=1)
    result.stdout.fnmatch_lines(["box: command token (*) exited 1 (expected 0); "
                                 "stdout: token=***."])
    assert SECRET not in result.stdout.str() + result.stderr.str()


def test_each_command_runs_at_its_own_tier(suite):
    suite.inventory(host(command("fast", 'run = ["true"]\ntier = "critical"')
                         + command("slowish", 'run = ["true"]')))
    result = suite.run("-m", "critical", "-k", "command_answers", "-v")
    assert result.parseoutcomes()["passed"] == 1 and result.ret == 0
    result.stdout.fnmatch_lines(["*test_command_answers?box:fast? PASSED*"])
    assert "slowish" not in result.stdout.str()


@pytest.mark.parametrize(("entries", "spec", "message"), [
    (command("pipe", 'run = "journalctl -u x | grep -c hit"'), "local://",
     "holds shell operators (| ; & < > ( )); set shell = true"),
    (command("env", 'run = ["env"]\nenv = { T = "OPSCHECK_UNSET_VAR" }'), "local://",
     "environment variable OPSCHECK_UNSET_VAR (named by env.T) is not set"),
    (command("env", 'run = ["env"]\nenv = { T = "HOME" }'), "ssh://ops@127.0.0.1",
     "env passes values from opscheck's own environment, which only reaches local:// hosts"),
    (command("num", 'run = ["true"]\ncritical = 1'), "local://",
     "warning/critical need value"),
    (command("re", 'run = ["true"]\nvalue = "cost: ([0-9]+)"\ncritical = 1'), "local://",
     "has no group named value"),
    (command("a", 'run = ["true"]') + command("a", 'run = ["false"]'), "local://",
     "two commands entries are named 'a'"),
])
def test_bad_command_entry_is_a_usage_error(suite, entries, spec, message, monkeypatch):
    monkeypatch.delenv("OPSCHECK_UNSET_VAR", raising=False)
    suite.inventory(host(entries, spec))
    result = run(suite)
    assert result.ret == 4, result.stdout.str()
    assert "components[0] (box)" in result.stderr.str()
    assert message in result.stderr.str()


@pytest.fixture
def agent():
    """A process started with a known command line (the coding-loops monitor agent's)."""
    proc = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(120)",
                             "coding-loops/agents/monitor_agent.py"])
    yield proc
    proc.kill()
    proc.wait()


def cmdline(pattern: str, extra: str = "") -> str:
    return f"[[components.process_commands]]\npattern = '{pattern}'\n{extra}\n"


def test_process_matched_by_its_command_line(suite, agent):
    suite.inventory(host(
        cmdline(r"coding-loops/agents/monitor_agent\.py", 'name = "monitor"\nmax = 1')
        + cmdline(r"coding-loops/agents/pm_agent\.py",
                  'name = "pm"\naction = "python3 coding-loops/agents/pm_agent.py & (CL:34)"')
        + cmdline(r"monitor_agent\.py", 'name = "too-many"\nmin = 0\nmax = 0')))
    result = suite.run("-k", "process_command_line", "-v")
    result.assert_outcomes(passed=1, failed=2)
    result.stdout.fnmatch_lines_random([
        "*test_process_command_line_running?box:monitor? PASSED*",
        "*box: 0 process(es) with a command line matching /coding-loops/agents/pm_agent\\.py/, "
        "expected at least 1. Action: python3 coding-loops/agents/pm_agent.py & (CL:34)",
        f"*box: 1 processes with a command line matching /monitor_agent\\.py/ ({agent.pid} *"
        "coding-loops/agents/monitor_agent.py), expected at most 0",
    ])


def test_command_and_process_match_inside_a_podman_container(suite, podman_service,
                                                              monkeypatch):
    """testinfra's docker:// backend (``docker exec``) into a container of a real podman."""
    image = podman_service.import_tiny_image(binaries=(
        "/bin/sh", "/bin/sleep", "/bin/cat", "/usr/bin/timeout", "/usr/bin/head",
        "/usr/bin/tr", "/bin/ls"))
    podman_service.podman("run", "-d", "--name", "wave-dozzle", "--network", "none", image,
                          "/bin/sh", "-c", "exec sleep 3600")
    for key, value in podman_service.env.items():
        monkeypatch.setenv(key, value)
    monkeypatch.setenv("DOCKER_HOST", podman_service.base_url)
    suite.inventory(host(
        command("docker-sock", 'run = ["ls", "-la", "/var/run/docker.sock"]\n'
                'action = "mount the socket into wave-dozzle (WV:400)"')
        + command("shell", 'run = "cat /proc/1/cmdline | tr \'\\\\000\' \' \'"\nshell = true\n'
                  'stdout_matches = "sleep 3600"')
        + cmdline("^sleep 3600$", 'name = "sleeper"\nmax = 1'), spec="docker://wave-dozzle"))
    result = suite.run("-m", "standard", "-k", "command", "-v")
    result.assert_outcomes(passed=2, failed=1)
    result.stdout.fnmatch_lines_random([
        "*test_command_answers?box:shell? PASSED*",
        "*test_process_command_line_running?box:sleeper? PASSED*",
        "box: command docker-sock (`ls -la /var/run/docker.sock`) exited 2 (expected 0); "
        "stderr: ls: cannot access '/var/run/docker.sock': No such file or directory. "
        "Action: mount the socket into wave-dozzle (WV:400)",
    ])


def test_relative_cwd_is_the_inventory_folder_on_local_hosts(suite):
    (suite.path / "scripts").mkdir()
    script = suite.path / "scripts" / "health-check.sh"
    script.write_text("#!/bin/sh\necho all services healthy\n")
    script.chmod(0o755)
    suite.inventory(host(command("script", 'run = ["./scripts/health-check.sh"]\ncwd = "."\n'
                                 'stdout_matches = "healthy"')))
    result = run(suite)
    result.assert_outcomes(passed=1)
