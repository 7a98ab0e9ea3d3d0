"""Log signals on real log files (rotated, compressed, every timestamp format), on a real
journal (journal files written by systemd-journal-remote, read by journalctl -u) and on a
real container's logs (podman's Engine API). Each judgement seen passing and failing.

This machine runs no systemd-journald (PID 1 is not systemd), so the host's own journal
cannot be written; the journal tests read journal files through ``journal_directory``
(``journalctl -D``), which is how a collected or remote journal is read too.
"""

from __future__ import annotations

import datetime as dt
import gzip
import os
import shutil
import subprocess
import time
from pathlib import Path

import docker
import pytest

from opscheck.components.host import HostComponent
from opscheck.targets.host import HostTarget

JOURNAL_REMOTE = "/lib/systemd/systemd-journal-remote"


def stamp(age: float) -> str:
    """A Python-logging timestamp ``age`` seconds ago (ages are taken from the moment the
    line is written: a long self-test run must not age the fixtures)."""
    return dt.datetime.fromtimestamp(time.time() - age).strftime("%Y-%m-%d %H:%M:%S,%f")[:-3]


def write_log(path: Path, entries: list[tuple[float, str]], mtime_age: float | None = None,
              opener=open) -> Path:
    """Python-logging lines, oldest first; a text without an age is a continuation line."""
    with opener(path, "wt") as f:
        for age, text in entries:
            f.write(f"{stamp(age)} app {text}\n" if age is not None else f"{text}\n")
    if mtime_age is None:
        mtime_age = min(a for a, _ in entries if a is not None)
    when = time.time() - mtime_age
    os.utime(path, (when, when))
    return path


@pytest.fixture
def logs(tmp_path) -> Path:
    """app.log with a traceback, app.log.1 (plain) and app.log.2.gz (compressed), rotated."""
    write_log(tmp_path / "app.log.2.gz", [(9000, "ERROR oldest"), (8000, "INFO x")],
              opener=gzip.open)
    write_log(tmp_path / "app.log.1", [(6000, "ERROR older"), (3000, "ERROR rotated"),
                                       (700, "INFO started")])
    write_log(tmp_path / "app.log", [(250, "ERROR fresh"), (120, "INFO heartbeat"),
                                     (60, "WARNING request failed"),
                                     (None, "Traceback (most recent call last):"),
                                     (None, "ValueError: ERROR inside a traceback")])
    return tmp_path


def host(signals: str) -> str:
    return f'[[components]]\nname = "box"\nkind = "host"\n{signals}'


def signal(name: str, body: str) -> str:
    return f'[[components.logs]]\nname = "{name}"\n{body}\n'


def run(suite, *args):
    return suite.run("-m", "critical or standard or deep", "-k", "log_signal", *args)


def test_counts_follow_rotation_into_plain_and_compressed_siblings(suite, logs):
    log = logs / "app.log"
    suite.inventory(host(
        signal("errors-10m", f'files = ["{log}"]\npattern = "ERROR"\nwindow = "10m"\n'
               'critical = 3')
        + signal("errors-1h", f'files = ["{log}"]\npattern = "ERROR"\nwindow = "1h"\n'
                 'warning = 3\ncritical = 10')
        + signal("errors-3h", f'files = ["{logs}/*.log"]\npattern = "ERROR"\nwindow = "3h"\n'
                 'critical = 5\naction = "grep ERROR logs/orchestrator.log (SRO:257)"')))
    result = run(suite)
    result.assert_outcomes(passed=2, failed=1, warnings=1)
    result.stdout.fnmatch_lines_random([
        # 10 min: the fresh line and the traceback's (dated by its stamped line), no sibling
        "*box log errors-1h: lines matching /ERROR/ in the last 1h of */app.log 3 lines ≥ "
        "warning 3 lines*",
        # 3 h: into app.log.1 and app.log.2.gz; the glob does not count the siblings twice
        "box log errors-3h: lines matching /ERROR/ in the last 3h of */*.log 5 lines ≥ "
        "critical 5 lines. Action: grep ERROR logs/orchestrator.log (SRO:257); newest: "
        "'ValueError: ERROR inside a traceback'",
    ])


def test_newest_match_age_catches_a_stopped_heartbeat(suite, logs):
    log = logs / "app.log"
    suite.inventory(host(
        signal("heartbeat", f'files = ["{log}"]\npattern = "heartbeat"\ntype = "newest"\n'
               'window = "10m"\nwarning = 1\ncritical = 5')
        + signal("stopped", f'files = ["{log}"]\npattern = "heartbeat"\ntype = "newest"\n'
                 'window = "1h"\ncritical = 1\nage_unit = "min"')
        + signal("never", f'files = ["{log}"]\npattern = "agent kev online"\ntype = "newest"\n'
                 'window = "5m"\ncritical = 5')))
    result = run(suite)
    result.assert_outcomes(failed=2, passed=1, warnings=1)
    result.stdout.fnmatch_lines_random([
        "*ThresholdWarning: box log heartbeat: newest line matching /heartbeat/ age 2* min ≥ "
        "warning 1 min*",
        "box log stopped: newest line matching /heartbeat/ age 2* min ≥ critical 1 min",
        "box: log never: no line matching /agent kev online/ in the last 5m of */app.log "
        "(5 line(s) in the window)",
    ])


def test_absent_and_present(suite, logs):
    log = logs / "app.log"
    suite.inventory(host(
        signal("oom", f'files = ["{log}"]\npattern = "request failed"\ntype = "absent"\n'
               'window = "5m"\naction = "nvidia-smi (AF:368)"')
        + signal("started", f'files = ["{log}"]\npattern = "started"\ntype = "present"\n'
                 'window = "15m"')
        + signal("checkpoint", f'files = ["{log}"]\npattern = "Checkpoint level"\n'
                 'type = "present"\nwindow = "1h"')
        + signal("no-oom-10s", f'files = ["{log}"]\npattern = "request failed"\n'
                 'type = "absent"\nwindow = "10s"')))
    result = run(suite)
    result.assert_outcomes(passed=2, failed=2)
    result.stdout.fnmatch_lines_random([
        "box: log oom: 1 line(s) matching /request failed/ in the last 5m of */app.log, "
        "expected none; newest: '* app WARNING request failed'. Action: nvidia-smi (AF:368)",
        "box: log checkpoint: no line matching /Checkpoint level/ in the last 1h of */app.log "
        "(7 line(s) in the window), expected at least one",
    ])


def test_lines_without_timestamps_are_refused_unless_dated_by_mtime(suite, tmp_path):
    log = tmp_path / "plain.log"
    log.write_text("starting\nERROR one\nERROR two\n")
    suite.inventory(host(
        signal("refused", f'files = ["{log}"]\npattern = "ERROR"\ncritical = 1')
        + signal("by-mtime", f'files = ["{log}"]\npattern = "ERROR"\ntimestamp = "mtime"\n'
                 'window = "5m"\ncritical = 2')))
    result = run(suite)
    result.assert_outcomes(failed=1, errors=1)  # refused: could not run (an error)
    result.stdout.fnmatch_lines_random([
        "box: log refused: no line of */plain.log has a iso timestamp, so the window cannot be "
        "decided; set timestamp to the log's format (iso, syslog, epoch, clf), or timestamp = "
        "\"mtime\"*",
        "box log by-mtime: lines matching /ERROR/ in the last 5m of */plain.log 2 lines ≥ "
        "critical 2 lines*",
    ])
    old = time.time() - 600  # older than the window: none of its lines count
    os.utime(log, (old, old))
    result = run(suite, "-k", "by-mtime")
    result.assert_outcomes(passed=1)


def test_syslog_epoch_and_common_log_format_timestamps(suite, tmp_path):
    at = time.time()
    now = dt.datetime.fromtimestamp(at)
    syslog, epoch, clf = tmp_path / "syslog", tmp_path / "epoch.log", tmp_path / "access.log"
    old, new = now - dt.timedelta(hours=2), now - dt.timedelta(seconds=30)
    syslog.write_text(f"{old:%b %e %H:%M:%S} host litellm[1]: model swap\n"
                      f"{new:%b %e %H:%M:%S} host litellm[1]: model swap\n")
    epoch.write_text(f"{at - 7200:.3f} swap\n{at - 30:.3f} swap\n{at - 20:.3f} swap\n")
    utc = dt.datetime.fromtimestamp(at - 10, dt.UTC)
    clf.write_text(f'127.0.0.1 - - [{utc:%d/%b/%Y:%H:%M:%S} +0000] "GET / HTTP/1.1" 503 0\n')
    suite.inventory(host(
        signal("syslog", f'files = ["{syslog}"]\ntimestamp = "syslog"\npattern = "swap"\n'
               'window = "1h"\ncritical = 2')
        + signal("epoch", f'files = ["{epoch}"]\ntimestamp = "epoch"\npattern = "swap"\n'
                 'window = "1h"\ncritical = 2')
        + signal("clf", f'files = ["{clf}"]\ntimestamp = "clf"\npattern = "\\" 50[0-9] "\n'
                 'window = "1m"\ncritical = 1')))
    result = run(suite)
    result.assert_outcomes(passed=1, failed=2)
    result.stdout.fnmatch_lines_random([
        "box log epoch: lines matching /swap/ in the last 1h of */epoch.log 2 lines ≥ "
        "critical 2 lines*",
        "box log clf: lines matching /\" 50[[]0-9] / in the last 1m of */access.log 1 lines ≥ "
        "critical 1 lines*",
    ])


def test_a_window_reaching_past_max_read_could_not_run(suite, tmp_path):
    log = write_log(tmp_path / "busy.log", [(30 - i / 1000, "x" * 100) for i in range(2000)])
    suite.inventory(host(signal("busy", f'files = ["{log}"]\npattern = "ERROR"\n'
                                 'window = "1h"\ncritical = 1\nmax_read = 65536')))
    result = run(suite)
    result.assert_outcomes(errors=1)  # could not run: an error, not a failure
    result.stdout.fnmatch_lines(["box: log busy: the last 1h of */busy.log reach back more than "
                                 "max_read 65536 bytes; raise max_read or shorten the window*"])


def test_missing_log_file_fails(suite, tmp_path):
    suite.inventory(host(signal("gone", f'files = ["{tmp_path}/nothing*.log"]\n'
                                 'pattern = "x"\ntype = "absent"')))
    result = run(suite)
    result.assert_outcomes(failed=1)
    result.stdout.fnmatch_lines(["box: log gone: no log file matches */nothing*.log*"])


def test_a_large_log_is_read_from_its_end_only_as_far_as_the_window(tmp_path):
    """64 MB of lines over a day; a 5-minute window reads the last block or two."""
    log = tmp_path / "big.log"
    line, now = "x" * 200, time.time()
    with log.open("w") as f:
        for i in range(300_000):
            when = dt.datetime.fromtimestamp(now - 86400 + i * 0.288)
            f.write(f"{when:%Y-%m-%d %H:%M:%S},000 app INFO {line}\n")
    component = HostComponent(name="box", logs=[{
        "name": "recent", "files": [str(log)], "pattern": "INFO", "window": "5m",
        "critical": 10**9}])
    tally = HostTarget.open(component).log_tally(component.logs[0])
    spent = time.time() - now  # writing the log moved the window past its newest lines
    assert log.stat().st_size > 60_000_000
    assert (300 - spent) / 0.288 - 5 <= tally.matched <= 300 / 0.288 + 1, (tally.matched, spent)
    assert tally.bytes_read < 1_048_576, tally.bytes_read


# ---------------------------------------------------------------------------- the journal
@pytest.fixture
def journal(tmp_path) -> Path:
    """Journal files holding entries of units litellm and llama-inference, written by the
    real systemd-journal-remote from journal export format."""
    if not Path(JOURNAL_REMOTE).exists():
        pytest.fail(f"{JOURNAL_REMOTE} missing: run scripts/install-servers")
    entries = [("litellm", 7200, "cache_hit model=old"), ("litellm", 120, "cache_hit"),
               ("litellm", 60, "request ok"), ("litellm", 5, "cache_hit"),
               ("llama-inference", 30, "CUDA error: out of memory"),
               ("llama-inference", 20, "swapping model")]
    export, now = [], time.time()
    for i, (unit, age, message) in enumerate(entries):
        usec = int((now - age) * 1e6)
        export.append(f"__CURSOR=c{i}\n__REALTIME_TIMESTAMP={usec}\n__MONOTONIC_TIMESTAMP="
                      f"{usec}\n_BOOT_ID=6f0c3e1b2a4d4e5f8a9b0c1d2e3f4a5b\n_SYSTEMD_UNIT="
                      f"{unit}.service\nSYSLOG_IDENTIFIER={unit}\n_HOSTNAME=dreamteam\n"
                      f"MESSAGE={message}\n")
    source = tmp_path / "entries.export"
    source.write_text("\n".join(export) + "\n")
    folder = tmp_path / "journal"
    folder.mkdir()
    subprocess.run([JOURNAL_REMOTE, f"--output={folder}/remote.journal", str(source)],
                   check=True, capture_output=True, timeout=30)
    return folder


def test_journal_of_a_unit_counted_in_its_window(suite, journal):
    where = f'journal_directory = "{journal}"'
    suite.inventory(host(
        signal("cache-hits", f'unit = "litellm"\n{where}\npattern = "cache_hit"\n'
               'window = "10m"\ndirection = "below"\ncritical = 0')
        + signal("cuda-oom", f'unit = "llama-inference"\n{where}\npattern = "out of memory"\n'
                 'type = "absent"\nwindow = "10m"\ntier = "critical"')
        + signal("swaps", f'unit = "llama-inference"\n{where}\npattern = "swapping model"\n'
                 'window = "1h"\nwarning = 1\ncritical = 21')
        + signal("no-hits", f'unit = "litellm"\n{where}\npattern = "cache_hit"\n'
                 'type = "present"\nwindow = "3s"')))
    result = run(suite)
    result.assert_outcomes(passed=2, failed=2, warnings=1)
    result.stdout.fnmatch_lines_random([
        "box: log cuda-oom: 1 line(s) matching /out of memory/ in the last 10m of journal of "
        "llama-inference, expected none; newest: '* dreamteam llama-inference: CUDA error: "
        "out of memory'",
        "*ThresholdWarning: box log swaps: lines matching /swapping model/ in the last 1h of "
        "journal of llama-inference 1 lines ≥ warning 1 lines*",
        "box: log no-hits: no line matching /cache_hit/ in the last 3s of journal of litellm "
        "(0 line(s) in the window), expected at least one",
    ])
    assert "cache_hit model=old" not in result.stdout.str()


def test_journal_that_cannot_be_read_could_not_run(suite, tmp_path):
    suite.inventory(host(signal("bad", f'unit = "litellm"\njournal_directory = '
                                f'"{tmp_path}/nothing"\npattern = "x"\ntype = "absent"')))
    result = run(suite)
    result.assert_outcomes(errors=1)  # could not run: an error, not a failure
    result.stdout.fnmatch_lines(["box: log bad: journalctl exited 1: *"])


# ---------------------------------------------------------------------------- containers
def test_container_logs_through_the_engine_api(suite, podman_service):
    image = podman_service.import_tiny_image()
    client = docker.DockerClient(base_url=podman_service.base_url, timeout=30)
    try:
        container = client.containers.create(
            image, name="wave-orchestrator", network_mode="none", command=[
                "/bin/sh", "-c", "echo Checkpoint level: 2; echo Emergency stop detected >&2; "
                "exec sleep 3600"])
        container.start()
        deadline = time.monotonic() + 10
        while b"Emergency" not in client.api.logs("wave-orchestrator") and \
                time.monotonic() < deadline:
            time.sleep(0.1)
    finally:
        client.close()
    suite.inventory(f"""
[[components]]
name = "wave-docker"
kind = "docker"
base_url = "{podman_service.base_url}"
[[components.logs]]
name = "checkpoint-level"
container = "wave-orchestrator"
pattern = "Checkpoint level"
type = "present"
window = "10m"
[[components.logs]]
name = "emergency-stop"
container = "wave-orchestrator"
pattern = "Emergency stop detected"
type = "absent"
window = "10m"
[[components.logs]]
name = "gone"
container = "wave-nothing"
pattern = "x"
type = "absent"
""")
    result = suite.run("-k", "container_log_signal", checks=("docker",))
    result.assert_outcomes(passed=1, failed=2)
    result.stdout.fnmatch_lines_random([
        "wave-docker: log emergency-stop: 1 line(s) matching /Emergency stop detected/ in the "
        "last 10m of container wave-orchestrator logs, expected none; newest: '*Z Emergency "
        "stop detected'",
        "wave-docker: log gone: container wave-nothing does not exist",
    ])


@pytest.mark.parametrize(("body", "message"), [
    ('files = ["/var/log/x.log"]\nunit = "x"\npattern = "x"\ntype = "absent"',
     "needs one source: files"),
    ('files = ["/var/log/x.log"]\npattern = "x"\ntype = "absent"\ncritical = 1',
     "(absent) takes no levels"),
    ('files = ["/var/log/x.log"]\npattern = "x"\ntype = "newest"\nwindow = "5m"\ncritical = 10',
     "level 10 min reaches past the window 5m"),
    ('files = ["/var/log/x.log"]\npattern = "x"\ntype = "count"', "needs warning or critical"),
    ('files = ["/var/log/x.log"]\npattern = "x("\ntype = "absent"', "is not a regular"),
    ('files = ["/var/log/x.log"]\npattern = "x"\ntype = "absent"\ntimestamp = "rfc"',
     "timestamp 'rfc' is not one of iso, syslog, epoch, clf, mtime"),
    ('files = ["/var/log/x.log"]\npattern = "x"\ntype = "absent"\nwindow = "5 min"',
     "is not a duration"),
    ('container = "x"\npattern = "x"\ntype = "absent"', "container logs are read from a docker"),
])
def test_bad_log_signal_is_a_usage_error(suite, body, message):
    suite.inventory(host(signal("bad", body)))
    result = run(suite)
    assert result.ret == 4, result.stdout.str()
    assert "components[0] (box)" in result.stderr.str()
    assert message in result.stderr.str()


def test_gzip_is_needed_only_for_compressed_siblings():
    assert shutil.which("gzip"), "gzip reads the .gz siblings"


def test_a_log_under_the_host_users_home(suite, tmp_path, monkeypatch):
    """``~/.mcp/logs/server.log`` (TD:160): ``~/`` is the host user's $HOME, there."""
    home = tmp_path / "home"
    (home / ".mcp" / "logs").mkdir(parents=True)
    write_log(home / ".mcp" / "logs" / "server.log", [(30, "ERROR tool call failed")])
    monkeypatch.setenv("HOME", str(home))
    suite.inventory(host(signal("mcp", 'files = ["~/.mcp/logs/server.log"]\npattern = "ERROR"\n'
                                'window = "1h"\nwarning = 1')))
    result = run(suite)
    result.assert_outcomes(passed=1, warnings=1)
    result.stdout.fnmatch_lines(["*box log mcp: lines matching /ERROR/ in the last 1h of "
                                 "~/.mcp/logs/server.log 1 lines ≥ warning 1 lines*"])
