"""Command probes and processes matched by command line: each inventory entry one check, at
the entry's own tier (``tier = "critical"`` runs under ``-m critical``).

A command probe runs the operator's command exactly as written (argv, or ``sh -c`` with
``shell = true``) within its deadline, and judges its exit status, its stdout and stderr
against patterns, its stdout as JSON, and a number read from it against levels.
"""

import pytest

from opscheck.commands import excerpt
from opscheck.errors import CheckFailed


@pytest.mark.host
def test_command_answers(host_component, command, command_limit, measure):
    """A command probe's answer is as expected: exit status, output patterns, JSON, number
    (``[[components.commands]]``; the tier is the entry's)."""
    ran = host_component.command(command, command_limit.seconds)
    where = f"{host_component}: command {command.name} (`{command.shown}`)"
    action = f" Action: {command.action}" if command.action else ""
    if ran.timed_out:
        pytest.fail(f"{where} took longer than {command_limit.seconds:g} s and was killed with "
                    f"its process group ({command_limit.fix}); {excerpt(ran)}.{action}",
                    pytrace=False)
    try:
        problems = command.problems(ran)
        number = command.number(ran) if command.value or command.value_path else None
    except CheckFailed as exc:
        problems, number = [str(exc)], None
    if problems:
        pytest.fail(f"{where} {'; '.join(problems)}; {excerpt(ran)}.{action}", pytrace=False)
    if number is not None:
        measure(f"command {command.name}", number, command.threshold())


@pytest.mark.host
def test_process_command_line_running(host_component, cmdline):
    """Processes whose command line matches a pattern (``pgrep -f`` sense) number between
    the entry's min and max (``[[components.process_commands]]``)."""
    found = host_component.command_lines(cmdline.pattern)
    shown = "; ".join(f"{pid} {line[:160]}" for pid, line in found[:5])
    action = f". Action: {cmdline.action}" if cmdline.action else ""
    assert len(found) >= cmdline.min, (
        f"{host_component}: {len(found)} process(es) with a command line matching "
        f"/{cmdline.pattern}/, expected at least {cmdline.min}{action}")
    assert cmdline.max is None or len(found) <= cmdline.max, (
        f"{host_component}: {len(found)} processes with a command line matching "
        f"/{cmdline.pattern}/ ({shown}), expected at most {cmdline.max}{action}")
