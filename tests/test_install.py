"""Install anywhere: the built wheel, installed into a fresh environment with the runtime lock,
run as the `opscheck` command from an empty folder against a real Redis and a SQLite file.

Slow (a build and a fresh install): marked ``slow``, run on the main Python only.
"""

from __future__ import annotations

import os
import re
import shutil
import sqlite3
import subprocess
import sys
import tarfile
import zipfile
from pathlib import Path

import pytest
from servers import RedisServer

REPO = Path(__file__).resolve().parents[1]
pytestmark = pytest.mark.slow


@pytest.fixture(scope="session")
def dist(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The wheel and the sdist, built with one command (make dist's) from a copy of the
    checkout's tree: a build writes its metadata into the source folder, and two xdist
    workers building the checkout itself at once broke each other's build."""
    source = tmp_path_factory.mktemp("source") / "opscheck"
    shutil.copytree(REPO, source, symlinks=True, ignore=shutil.ignore_patterns(
        ".git", ".venv*", "build", "dist", "*.egg-info", ".tox", ".mypy_cache", ".ruff_cache",
        ".hypothesis", "mutants"))
    for local in (".venv/bin/python", "build/lib/stale.py", "dist/old.whl", "reports/x.html"):
        (source / local).parent.mkdir(parents=True, exist_ok=True)  # a working checkout's
        (source / local).write_text("")  # local state, which no artefact may carry
    out = tmp_path_factory.mktemp("dist")
    subprocess.run([sys.executable, "-m", "build", "--no-isolation", "--outdir", str(out),
                    str(source)], check=True, capture_output=True, timeout=300)
    return out


@pytest.fixture(scope="session")
def installed(dist: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A fresh virtual environment with the runtime lock and the wheel: its bin folder."""
    venv = tmp_path_factory.mktemp("venv")
    subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True, timeout=120)
    pip = [str(venv / "bin" / "python"), "-m", "pip", "install", "--quiet"]
    subprocess.run([*pip, "--require-hashes", "--no-deps", "-r",
                    str(REPO / "requirements" / "runtime.txt")], check=True, timeout=600)
    wheel = next(dist.glob("*.whl"))
    subprocess.run([*pip, "--no-deps", str(wheel)], check=True, timeout=300)
    subprocess.run([str(venv / "bin" / "python"), "-m", "pip", "check"], check=True,
                   timeout=120)
    return venv / "bin"


@pytest.fixture
def stack(tmp_path: Path):
    """A real redis-server and a SQLite file, and an inventory naming them."""
    server = RedisServer(tmp_path / "redis").start()
    db = tmp_path / "stories.db"
    with sqlite3.connect(db) as conn:
        conn.execute("CREATE TABLE stories (id INTEGER PRIMARY KEY)")
    inventory = tmp_path / "etc" / "demo inventory.toml"  # a path with a space in it
    inventory.parent.mkdir()
    inventory.write_text(f'[system]\nname = "demo"\ntimeout = 2\n\n'
                         f'[[components]]\nname = "bus"\nkind = "redis"\n'
                         f'url = "redis://127.0.0.1:{server.port}/0"\n\n'
                         f'[[components]]\nname = "stories"\nkind = "sqlite"\npath = "{db}"\n')
    yield server, inventory
    server.stop()


def opscheck(bin_dir: Path, *args: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("OPSCHECK_", "PYTEST_"))
           and k not in ("PYTHONPATH", "VIRTUAL_ENV")}
    env["OPSCHECK_STATE_DIR"] = str(cwd / "state")
    return subprocess.run([str(bin_dir / "opscheck"), *args], cwd=cwd, env=env, text=True,
                          capture_output=True, timeout=120)


@pytest.fixture
def empty(tmp_path: Path) -> Path:
    folder = tmp_path / "empty"
    folder.mkdir()
    return folder


def test_the_wheel_carries_the_suite_and_nothing_of_the_checkout(dist):
    names = zipfile.ZipFile(next(dist.glob("*.whl"))).namelist()
    for needed in ("opscheck/cli.py", "opscheck/suite.ini", "opscheck/inventory.toml",
                   "opscheck/kinds.py",
                   "opscheck/checks/redis/test_availability.py", "opscheck/fixtures/components.py",
                   "opscheck/remediations/plugin.py", "opscheck/profiles/wave.toml",
                   "opscheck/targets/redis.py"):
        assert needed in names, needed
    tops = {n.split("/")[0] for n in names}
    assert tops == {"opscheck", next(n.split("/")[0] for n in names if ".dist-info" in n)}
    assert not [n for n in names if "/tests/" in n or n.startswith(("tests/", "bench/"))]
    entry = next(n for n in names if n.endswith("entry_points.txt"))
    assert "opscheck = opscheck.cli:main" in zipfile.ZipFile(
        next(dist.glob("*.whl"))).read(entry).decode()


def test_the_sdist_holds_the_source_and_no_local_state(dist):
    with tarfile.open(next(dist.glob("*.tar.gz"))) as sdist:
        names = sdist.getnames()
    root = names[0].split("/")[0]
    inside = {n.removeprefix(root + "/") for n in names}
    for needed in ("pyproject.toml", "README.md", "CHANGELOG.md", "requirements/lock.txt",
                   "opscheck/checks/redis/test_availability.py"):
        assert needed in inside, needed
    assert not [n for n in inside if n.startswith((".venv", "reports/", "build/", "dist/"))
                or "__pycache__" in n]


def test_installed_command_runs_the_critical_tier_from_an_empty_folder(installed, stack, empty):
    _, inventory = stack
    done = opscheck(installed, "-m", "critical", "--inventory", str(inventory), cwd=empty)
    assert done.returncode == 0, done.stdout[-2000:] + done.stderr[-2000:]
    assert "bus (redis): 1 passed, 2 skipped" in done.stdout  # no persistence, not a replica
    assert "stories (sqlite): 1 passed" in done.stdout
    assert sorted(p.name for p in empty.iterdir()) == ["state"]  # nothing else written here


def test_with_no_inventory_named_the_installed_command_checks_this_host(installed, empty):
    """The embedded default (the package's inventory.toml: this host), named in the header."""
    done = opscheck(installed, "-m", "critical", cwd=empty)
    assert done.returncode == 0, done.stdout[-2000:] + done.stderr[-2000:]
    assert "this-host (host): 2 passed" in done.stdout
    assert re.search(r"opscheck inventory: \S+/site-packages/opscheck/inventory\.toml "
                     r"\(default\); system this-host", done.stdout), done.stdout[:2000]
    nagios = opscheck(installed, "-m", "critical", "--nagios", cwd=empty)  # a job missing
    assert nagios.returncode == 0  # its --inventory is not read as the stack's OK:
    assert nagios.stdout.startswith(
        "OPSCHECK OK - 2 ok (this-host, default inventory: this machine)"), nagios.stdout


def test_both_spellings_of_a_path_option_and_a_second_cron_run(installed, stack, empty):
    _, inventory = stack
    metrics = empty / "out" / "opscheck.prom"
    for spelling in (["--inventory", str(inventory)], [f"--inventory={inventory}"]):
        for _ in range(2):  # the second run finds the file of the first
            done = opscheck(installed, "-q", "-m", "critical", *spelling, "--metrics-out",
                            str(metrics), cwd=empty)
            assert done.returncode == 0, done.stdout[-2000:] + done.stderr[-2000:]
    assert 'opscheck_check_state{' in metrics.read_text()


def test_installed_command_exit_codes_and_nagios_lines(installed, stack, empty):
    server, inventory = stack
    bad = empty / "bad.toml"
    bad.write_text('[[components]]\nname = "x"\nkind = "redis"\nurl = "redis://h:99999"\n')
    done = opscheck(installed, "-m", "critical", "--inventory", str(bad), cwd=empty)
    assert done.returncode == 4 and "bad.toml: components[0] (x)" in done.stderr
    assert "Traceback" not in done.stderr + done.stdout
    ok = opscheck(installed, "-m", "critical", "--nagios", "--inventory", str(inventory),
                  cwd=empty)
    assert ok.returncode == 0, ok.stdout
    assert ok.stdout.startswith("OPSCHECK OK - 2 ok, 2 skipped (demo)"), ok.stdout
    nothing = opscheck(installed, "-m", "critical and deep", "--nagios", "--inventory",
                       str(inventory), cwd=empty)
    assert nothing.returncode == 3 and nothing.stdout.startswith("OPSCHECK UNKNOWN"), nothing
    server.stop()
    down = opscheck(installed, "-m", "critical", "--nagios", "--inventory", str(inventory),
                    cwd=empty)
    assert down.returncode == 2 and down.stdout.startswith("OPSCHECK CRITICAL"), down.stdout


def test_a_site_check_folder_is_collected_with_the_suites_rules(installed, stack, empty):
    _, inventory = stack
    site = empty.parent / "site-checks"
    site.mkdir()
    (site / "test_mine.py").write_text(
        "import pytest\n\n@pytest.mark.critical\n@pytest.mark.redis\n"
        "def test_bus_knows_its_db(redis_component):\n"
        "    \"\"\"A site's own check.\"\"\"\n"
        "    assert redis_component.client.dbsize() >= 0\n")
    done = opscheck(installed, "-m", "critical", "--inventory", str(inventory), "--checks",
                    str(site), cwd=empty)
    assert done.returncode == 0, done.stdout[-2000:]
    assert "bus (redis): 2 passed, 2 skipped" in done.stdout, done.stdout[-2000:]
    (site / "test_unmarked.py").write_text("def test_no_tier():\n    assert True\n")
    done = opscheck(installed, "--inventory", str(inventory), "--checks", str(site), cwd=empty)
    assert done.returncode == 4 and "test_no_tier: no tier marker" in done.stderr + done.stdout


def test_every_sub_command_of_the_installed_command(installed, stack, empty):
    _, inventory = stack
    valid = opscheck(installed, "validate", str(inventory), cwd=empty)
    assert valid.returncode == 0 and "valid: system demo, 2 component(s)" in valid.stdout
    listed = opscheck(installed, "list", "--inventory", str(inventory), cwd=empty)
    assert listed.returncode == 0
    assert any(line.split()[:5] == ["bus", "redis", "3", "6", "0"]
               for line in listed.stdout.splitlines()), listed.stdout
    told = opscheck(installed, "explain", "test_redis_memory_used", "--inventory",
                    str(inventory), cwd=empty)
    assert told.returncode == 0 and "memory: warning 75%, critical 90% (above)" in told.stdout
    copy = empty / "etc" / "wave.toml"
    made = opscheck(installed, "init", "wave", str(copy), cwd=empty)
    assert made.returncode == 0 and copy.read_text().startswith("#")
    again = opscheck(installed, "init", "wave", str(copy), cwd=empty)
    assert again.returncode == 4 and "--force" in again.stderr
    version = opscheck(installed, "--version", cwd=empty)
    assert version.returncode == 0 and version.stdout.startswith("opscheck, version ")
    module = subprocess.run([str(installed / "python"), "-m", "opscheck", "validate",
                             str(inventory)], cwd=empty, capture_output=True, text=True,
                            timeout=120)
    assert module.returncode == 0, module.stderr


RECIPES = REPO / "docs" / "recipes"


def _with_command(text: str, bin_dir: Path, inventory: Path) -> str:
    """A recipe with the installed command and the test's inventory in place of /etc's."""
    return (text.replace("/usr/local/bin/opscheck", str(bin_dir / "opscheck"))
            .replace("/etc/opscheck/prod.toml", f"'{inventory}'"))


def test_the_systemd_recipe_verifies(installed, tmp_path):
    units = tmp_path / "units"
    units.mkdir()
    for name in ("opscheck-critical.service", "opscheck-critical.timer",
                 "opscheck-alert@.service"):
        text = _with_command((RECIPES / name).read_text(), installed, tmp_path / "prod.toml")
        (units / name).write_text(text.replace("User=opscheck\n", ""))
    done = subprocess.run(["systemd-analyze", "verify", "--man=no",
                           *sorted(str(p) for p in units.iterdir())], capture_output=True,
                          text=True, timeout=60, cwd=units)
    assert done.returncode == 0, done.stderr
    assert "OnFailure=opscheck-alert@%n.service" in (units / "opscheck-critical.service"
                                                     ).read_text()


def test_the_nrpe_commands_run_from_another_folder(installed, stack, empty):
    _, inventory = stack
    lines = [line.split("=", 1)[1] for line in (RECIPES / "nrpe.cfg").read_text().splitlines()
             if line.startswith("command[")]
    assert len(lines) == 2
    env = {k: v for k, v in os.environ.items() if not k.startswith(("OPSCHECK_", "PYTEST_"))}
    env["OPSCHECK_STATE_DIR"] = str(empty / "state")
    for line in lines:
        done = subprocess.run(_with_command(line, installed, inventory), shell=True, cwd="/",
                              env=env, capture_output=True, text=True, timeout=120)
        assert done.returncode == 0, done.stdout + done.stderr
        assert done.stdout.startswith("OPSCHECK OK - ") and done.stdout.count("\n") == 1


def test_only_the_plugins_a_run_needs_are_loaded(installed, stack, empty):
    """A site check records which report plugins the run imported."""
    _, inventory = stack
    site = empty.parent / "probe-modules"
    site.mkdir()
    seen = empty.parent / "modules.txt"
    (site / "test_modules.py").write_text(
        "import sys\nimport pytest\n\n@pytest.mark.critical\n@pytest.mark.redis\n"
        "def test_record_modules(redis_component):\n"
        "    \"\"\"Records the plugins this run imported.\"\"\"\n"
        f"    open({str(seen)!r}, 'w').write(' '.join(sorted(m for m in sys.modules if m in "
        "('pytest_html', 'allure_pytest', 'xdist', 'jinja2'))))\n")
    plain = opscheck(installed, "-m", "critical", "--inventory", str(inventory), "--checks",
                     str(site), cwd=empty)
    assert plain.returncode == 0, plain.stdout[-2000:]
    assert seen.read_text() == ""
    report = empty / "r" / "board.html"
    asked = opscheck(installed, "-m", "critical", "--inventory", str(inventory), "--checks",
                     str(site), "--report-html", str(report), cwd=empty)
    assert asked.returncode == 0, asked.stdout[-2000:]
    assert seen.read_text() == "jinja2 pytest_html" and "opscheck: demo" in report.read_text()
