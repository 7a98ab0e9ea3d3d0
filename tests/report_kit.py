"""Helpers for the report self-tests: the mixed run, two more real servers, Chromium, PNG.

The mixed run is one real pytest run (a subprocess, two xdist workers) over the real host
checks and a few local checks, writing every report; it yields each state a report shows:
passed, warning, failed, could not run, skipped, remediated (by the real remediation
plugin), waived (by a waiver) and a check that leaks a configured secret everywhere.
"""

from __future__ import annotations

import datetime as dt
import os
import shutil
import struct
import subprocess
import sys
import tempfile
import textwrap
import zlib
from dataclasses import dataclass
from pathlib import Path

from servers import _ServerProcess, free_port, http_get, require_binary

from conftest import CHECKS, INI, PLUGIN_ARGS, REPO

SECRET = "s3cr3t-Report-Token-9731"
SECRET_VAR = "OPSCHECK_REPORT_SECRET"

LOCAL_CHECKS = '''
import logging
import os
import sys
from pathlib import Path

import pytest


@pytest.mark.critical
@pytest.mark.files
@pytest.mark.remediation("restart_service", component="flagger")
def test_flag_cleared():
    """The stuck-job flag is absent (a remediation removes it)."""
    assert not Path({flag!r}).exists(), "{flag} exists: a job is stuck"


@pytest.mark.standard
@pytest.mark.files
def test_nightly_export_present():
    """The nightly export file exists. Action: rerun the export job."""
    assert Path({export!r}).exists(), "nightly export missing. Action: rerun the export job"


@pytest.mark.standard
@pytest.mark.files
def test_checkpoints_when_configured():
    """A check with nothing to judge here skips, saying why."""
    pytest.skip("no checkpoint folder on this system")


@pytest.mark.standard
@pytest.mark.files
def test_login_with_configured_secret(request):
    """Leaks the configured secret into every channel a report reads; all must redact it."""
    secret = os.environ[{var!r}]
    print("stdout sees", secret)
    sys.stderr.write("stderr sees " + secret + "\\n")
    logging.getLogger("opscheck.test").warning("log sees %s", secret)
    request.node.user_properties.append(("token", {{"value": secret}}))
    assert secret == "wrong", f"login refused for password {{secret}}"
'''


def inventory(folder: Path, flag: Path, dead_port: int) -> str:
    """A system with a healthy-ish host, a dead one, a secret and a remediation allow-list."""
    return textwrap.dedent(f"""\
        [system]
        name = "report-demo"
        timeout = 2

        [[components]]
        name = "web-1"
        kind = "host"
        cpu_sample = 0.05
        thresholds.memory = {{ warning = 0.001, critical = 100 }}
        thresholds.disk = {{ warning = 0.0005, critical = 0.001 }}
        thresholds.cpu = {{ warning = 1000, critical = 1001 }}
        thresholds.swap = {{ warning = 1000, critical = 1001 }}
        thresholds.inodes = {{ warning = 1000, critical = 1001 }}

        [[components]]
        name = "db-1"
        kind = "host"
        spec = "ssh://nobody@127.0.0.1:{dead_port}"

        [[components]]
        name = "cache"
        kind = "redis"
        url = "redis://127.0.0.1:{dead_port}/0"
        password_env = "{SECRET_VAR}"

        [remediation]
        settle = 0
        confirm_delay = 0
        state = "{folder / 'remediation-state.sqlite'}"
        audit = "{folder / 'remediation-audit.jsonl'}"

        [[remediation.allow]]
        component = "flagger"
        action = "restart_service"
        params = {{ command = ["rm", "-f", "{flag}"] }}
        """)


def waivers(check: str, justification: str = "export job retired; OPS-42, owner: data team",
            days: int = 30) -> str:
    expires = dt.date.today() + dt.timedelta(days=days)
    return (f'[[waivers]]\ncheck = "{check}"\njustification = "{justification}"\n'
            f"expires = {expires.isoformat()}\n")


@dataclass
class Run:
    folder: Path
    ret: int
    stdout: str
    stderr: str

    @property
    def reports(self) -> Path:
        return self.folder / "reports"


def run_pytest(folder: Path, *args: str, timeout: float = 120) -> Run:
    """pytest with the opscheck plugins in ``folder`` (its own ini), as a subprocess."""
    (folder / "pytest.ini").write_text(INI)
    env = {**os.environ, "PYTHONPATH": str(REPO), SECRET_VAR: SECRET}
    env.pop("OPSCHECK_INVENTORY", None)
    done = subprocess.run([sys.executable, "-m", "pytest", *PLUGIN_ARGS,
                           "--inventory", str(folder / "inventory.toml"), *args],
                          cwd=folder, env=env, capture_output=True, text=True, timeout=timeout)
    return Run(folder, done.returncode, done.stdout, done.stderr)


def mixed_run(folder: Path, *extra: str) -> Run:
    """The run every report test reads: all states, every report, two xdist workers."""
    flag, dead = folder / "stuck.flag", free_port()
    flag.write_text("stuck\n")
    (folder / "inventory.toml").write_text(inventory(folder, flag, dead))
    (folder / "waivers.toml").write_text(waivers("test_local.py::test_nightly_export_present"))
    (folder / "test_local.py").write_text(LOCAL_CHECKS.format(
        flag=str(flag), export=str(folder / "export.csv"), var=SECRET_VAR))
    return run_pytest(
        folder, "-n", "2", "--dist", "loadfile", "--report-dir", "reports",
        "--metrics-out", "reports/opscheck.prom", "--waivers", "waivers.toml",
        "--remediate=apply", "-o", "log_level=INFO", *extra,
        str(CHECKS / "host" / "test_resources.py"), str(CHECKS / "host" / "test_services.py"),
        "test_local.py")


class Pushgateway(_ServerProcess):
    """prometheus-pushgateway on loopback, no persistence."""

    name = "pushgateway"

    def __init__(self, dir: str | Path) -> None:
        self.binary = require_binary("prometheus-pushgateway", "prometheus-pushgateway")
        super().__init__(dir)

    @property
    def url(self) -> str:
        return f"http://{self.host}:{self.port}"

    def _command(self) -> list[str]:
        return [self.binary, f"--web.listen-address={self.host}:{self.port}",
                f"--persistence.file={self.dir / 'pushgateway.data'}"]

    def _ready(self) -> bool:
        return http_get(f"{self.url}/-/ready", timeout=1.0)[0] == 200


class NodeExporter(_ServerProcess):
    """prometheus-node-exporter with only the textfile collector, reading ``textfiles``."""

    name = "node-exporter"

    def __init__(self, dir: str | Path, textfiles: Path) -> None:
        self.binary = require_binary("prometheus-node-exporter", "prometheus-node-exporter")
        self.textfiles = textfiles
        super().__init__(dir)

    def _command(self) -> list[str]:
        return [self.binary, f"--web.listen-address={self.host}:{self.port}",
                "--collector.disable-defaults", "--collector.textfile",
                f"--collector.textfile.directory={self.textfiles}"]

    def _ready(self) -> bool:
        return http_get(f"http://{self.host}:{self.port}/metrics", timeout=1.0)[0] == 200


def chromium(*args: str, timeout: float = 60) -> subprocess.CompletedProcess[str]:
    """Headless Chromium (Debian's package) with a throw-away profile, nothing networked."""
    binary = require_binary("chromium", "chromium")
    profile = tempfile.mkdtemp(prefix="opscheck-chromium-")
    try:
        return subprocess.run(
            [binary, "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic",
             "--no-first-run", "--disable-background-networking", "--disable-component-update",
             "--disable-sync", f"--user-data-dir={profile}", *args],
            capture_output=True, text=True, timeout=timeout)
    finally:
        shutil.rmtree(profile, ignore_errors=True)


def png_pixels(path: Path) -> tuple[int, int, list[bytes]]:
    """(width, height, rows of RGB(A) bytes) of an 8-bit RGB or RGBA PNG."""
    data = path.read_bytes()
    assert data[:8] == b"\x89PNG\r\n\x1a\n", f"{path} is not a PNG"
    pos, idat, header = 8, b"", b""
    while pos < len(data):
        length, kind = struct.unpack(">I4s", data[pos:pos + 8])
        body = data[pos + 8:pos + 8 + length]
        header = body if kind == b"IHDR" else header
        idat += body if kind == b"IDAT" else b""
        pos += 12 + length
    width, height, depth, colour = struct.unpack(">IIBB", header[:10])
    assert depth == 8 and colour in (2, 6), f"unsupported PNG: depth {depth}, colour {colour}"
    bpp = 3 if colour == 2 else 4
    raw, stride, rows, prev = zlib.decompress(idat), width * bpp, [], bytearray(width * bpp)
    for y in range(height):
        start = y * (stride + 1)
        kind, line = raw[start], bytearray(raw[start + 1:start + 1 + stride])
        for i in range(stride):
            a, b = line[i - bpp] if i >= bpp else 0, prev[i]
            c = prev[i - bpp] if i >= bpp else 0
            p = a + b - c
            pred = (0, a, b, (a + b) // 2,
                    a if abs(p - a) <= min(abs(p - b), abs(p - c)) else
                    b if abs(p - b) <= abs(p - c) else c)[kind]
            line[i] = (line[i] + pred) & 0xFF
        rows.append(bytes(line))
        prev = line
    return width, height, rows


def healthy_run(folder: Path) -> Run:
    """A run with nothing to report: this host's resources within generous levels."""
    (folder / "inventory.toml").write_text(textwrap.dedent("""\
        [system]
        name = "healthy-demo"

        [[components]]
        name = "web-1"
        kind = "host"
        cpu_sample = 0.05
        thresholds.memory = { warning = 99.5, critical = 99.9 }
        thresholds.disk = { warning = 99.5, critical = 99.9 }
        thresholds.cpu = { warning = 1000, critical = 1001 }
        thresholds.swap = { warning = 99.5, critical = 99.9 }
        thresholds.inodes = { warning = 99.5, critical = 99.9 }
        """))
    return run_pytest(folder, "--report-dir", "reports",
                      str(CHECKS / "host" / "test_resources.py"))


#: the banner's and the badges' colours (opscheck.reporting.board.COLOURS), as RGB
RGB = {state: bytes.fromhex(colour[1:]) for state, colour in {
    "passed": "#2e7d32", "warning": "#e65100", "failed": "#c62828",
    "could not run": "#6a1b9a", "skipped": "#757575", "remediated": "#1565c0",
    "waived": "#5d4037"}.items()}


def render(page: Path, png: Path) -> str:
    """A 1400×900 screenshot of ``page`` in headless Chromium, and its DOM once its scripts
    ran (what a reviewer's browser shows first)."""
    done = chromium(f"--screenshot={png}", "--window-size=1400,900",
                    "--virtual-time-budget=3000", page.as_uri())
    assert done.returncode == 0 and png.exists(), done.stderr[-2000:]
    dom = chromium("--dump-dom", "--window-size=1400,900", "--virtual-time-budget=3000",
                   page.as_uri())
    assert dom.returncode == 0, dom.stderr[-2000:]
    return dom.stdout


def _near(pixel: bytes, colour: bytes, tolerance: int = 8) -> bool:
    return all(abs(a - b) <= tolerance for a, b in zip(pixel, colour, strict=True))


def pixel_rows(png: Path) -> tuple[int, list[list[bytes]]]:
    """(width, rows of RGB pixels) of a PNG."""
    width, _height, rows = png_pixels(png)
    bpp = len(rows[0]) // width
    return width, [[row[i:i + 3] for i in range(0, len(row), bpp)] for row in rows]


def rows_of_colour(pixels: list[list[bytes]], colour: bytes, share: float = 0.5) -> list[int]:
    """The screen rows (y) at least ``share`` of which is ``colour``: a banner's."""
    return [y for y, row in enumerate(pixels)
            if sum(_near(p, colour) for p in row[::4]) >= share * len(row[::4])]


def first_badge(pixels: list[list[bytes]], below: int, x: range = range(24, 50, 2)) -> \
        tuple[int, str] | None:
    """(y, state) of the topmost state badge below row ``below``: a solid run of one
    state's colour across ``x`` (the State column's left end)."""
    for y in range(below, len(pixels)):
        for state, colour in RGB.items():
            if all(_near(pixels[y][i], colour) for i in x):
                return y, state
    return None
