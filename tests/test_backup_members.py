"""Backup sets of dated folders whose members each have a format (the Agentic Factory's
nightly ``backups/factory/YYYY-MM-DD/``, AF:551-600), made by the real tools: the sqlite3
backup API, ``pg_dump | gzip``, a redis-server's BGSAVE, a copied folder. Then broken: a
member missing, one truncated, a folder too old, a copy short of rows; and the same folders
in (emulated) S3."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import pytest
from backup_data import (
    DAY,
    HOUR,
    pg_dump,
    pg_source,
    redis_rdb,
    set_age,
    sqlite_backup,
    sqlite_source,
    truncate,
)
from test_backup_s3_emulated import inventory as aws_inventory

from opscheck.targets.backup import scratch

MEMBERS = """
[[components.members]]
path = "orchestrator.db"
format = "sqlite"
source = "orchestrator-db"
tables = ["tests"]
[[components.members]]
path = "timescaledb.sql.gz"
format = "pg_plain"
source = "factory-timescaledb"
tables = ["stories"]
[[components.members]]
path = "redis-dump.rdb"
format = "redis_rdb"
[[components.members]]
path = "agent-memory"
format = "folder"
"""


def folder_set(name: str, where: str, extra: str = "", members: str = MEMBERS) -> str:
    return (f'[[components]]\nname = "{name}"\nkind = "backup"\ndir = "{where}"\n'
            'pattern = "[0-9][0-9][0-9][0-9]-[0-9][0-9]-[0-9][0-9]"\nformat = "folder"\n'
            f"max_age_hours = 26\nkeep_min = 3\nretention_days = 32\n{extra}{members}")


class Factory:
    """The live sources and the dated folders backup.sh writes (AF:559-590)."""

    def __init__(self, root: Path, postgres, redis) -> None:
        self.root, self.postgres, self.redis = root, postgres, redis
        self.db = pg_source(postgres, rows=80)
        self.orchestrator = sqlite_source(root / "orchestrator.db", rows=120)
        self.backups = root / "backups"
        self.memory = root / "memory"
        self.memory.mkdir()
        (self.memory / "2026-12-01.md").write_text("# kev\nshipped the url shortener\n")

    def night(self, day: str, age_hours: float) -> Path:
        folder = self.backups / day
        folder.mkdir(parents=True)
        sqlite_backup(self.orchestrator, folder / "orchestrator.db")
        plain = pg_dump(self.postgres, self.db, folder / "timescaledb.sql", "plain")
        subprocess.run(["gzip", "-9", str(plain)], check=True, timeout=60)
        redis_rdb(self.redis, folder / "redis-dump.rdb")
        shutil.copytree(self.memory, folder / "agent-memory")
        for path in folder.rglob("*"):
            set_age(path, age_hours * HOUR)
        set_age(folder, age_hours * HOUR)
        return folder

    def inventory(self, extra: str = "") -> str:
        return (f'[[components]]\nname = "factory-timescaledb"\nkind = "postgres"\n'
                f'dsn = "{self.postgres.dsn_for(self.db)}"\n'
                f'[[components]]\nname = "orchestrator-db"\nkind = "sqlite"\n'
                f'path = "{self.orchestrator}"\n'
                + folder_set("factory-backup", str(self.backups), extra))


@pytest.fixture
def factory(tmp_path, postgres_server_session, redis_server) -> Factory:
    made = Factory(tmp_path, postgres_server_session, redis_server)
    for i, day in enumerate(("2026-11-29", "2026-11-30", "2026-12-01")):
        made.night(day, age_hours=(2 - i) * 24 + 1)
    return made


def run(suite, *args: str):
    return suite.run("-m", "critical or standard or deep", "-k", "backup", "-rA",
                     "--timeout=120", *args, checks=("backup",))


def test_healthy_folders_pass_every_member_check(suite, factory):
    suite.inventory(factory.inventory(f'scratch_dir = "{factory.root}"\n'))
    result = run(suite, "-k", "member")
    # 4 members × present, not truncated, readable; restores: sqlite and pg_dump compared,
    # the RDB and the folder have no restore beyond their read-through
    result.assert_outcomes(passed=14, skipped=2)
    result.stdout.fnmatch_lines_random([
        "PASSED *test_backup_member_restores[[]factory-backup:orchestrator.db[]]",
        "PASSED *test_backup_member_restores[[]factory-backup:timescaledb.sql.gz[]]",
        "SKIPPED * factory-backup redis-dump.rdb: format redis_rdb has no restore beyond the "
        "standard read-through",
    ])
    assert scratch.DB_PREFIX not in factory.postgres.psql("SELECT datname FROM pg_database")
    assert not list(factory.root.glob("opscheck-restore-*"))


def test_a_missing_member_a_truncated_one_and_an_expired_folder_fail(suite, factory):
    newest = factory.backups / "2026-12-01"
    (newest / "redis-dump.rdb").unlink()
    truncate(newest / "timescaledb.sql.gz", keep=0.4)
    old = factory.night("2026-10-20", age_hours=40 * 24)
    set_age(newest, HOUR)
    suite.inventory(factory.inventory())
    result = run(suite, "-m", "not deep")
    result.stdout.fnmatch_lines_random([
        "factory-backup newest backup 2026-12-01 has no redis-dump.rdb (a redis_rdb member). "
        "Action: Check the backup job's step for it (its log), and run the job by hand",
        "factory-backup timescaledb.sql.gz size vs previous folder (2026-12-01 *, 2026-11-30 "
        "*) *% ≤ critical 50%. Action: It was probably cut short*",
        "factory-backup: timescaledb.sql.gz unreadable as pg_plain: EOFError: *",
        f"factory-backup keeps 1 backup(s) past its retention of 32 d; oldest {old.name} is "
        "40.0 d old. Action: *",
        "factory-backup: 2026-12-01 has no redis-dump.rdb",
    ])
    outcomes = result.parseoutcomes()
    assert outcomes["failed"] == 5, result.stdout.str()


def test_a_folder_too_old_fails_freshness(suite, factory):
    for i, day in enumerate(("2026-12-01", "2026-11-30", "2026-11-29")):  # no run since
        set_age(factory.backups / day, (30 + 24 * i) * HOUR)               # yesterday
    suite.inventory(factory.inventory())
    result = run(suite, "-m", "critical", "-k", "is_fresh")
    result.assert_outcomes(failed=1)
    result.stdout.fnmatch_lines(["factory-backup newest backup age (2026-12-01) 30 h ≥ critical "
                                 "26 h. Action: *"])


def test_a_member_short_of_rows_fails_its_restore(suite, factory, tmp_path):
    newest = factory.backups / "2026-12-01"
    thin = sqlite_source(tmp_path / "thin.db", rows=40)
    (newest / "orchestrator.db").unlink()
    sqlite_backup(thin, newest / "orchestrator.db")
    suite.inventory(factory.inventory())
    result = run(suite, "-m", "deep", "-k", "orchestrator")
    result.assert_outcomes(failed=1)
    result.stdout.fnmatch_lines(["factory-backup: orchestrator.db holds fewer rows than "
                                 "allowed: table tests restored 40 rows vs 120 live*"])


ONE = '[[components.members]]\npath = "orchestrator.db"\nformat = "sqlite"\n'


@pytest.mark.parametrize(("members", "message"), [
    ('[[components.members]]\npath = "../etc/passwd"\nformat = "file"\n',
     "must lie inside the backup folder"),
    ('[[components.members]]\npath = "x.db"\nformat = "sqlite"\nsource = "factory-backup"\n',
     "source 'factory-backup' is a backup component; name the sqlite component"),
    ('[[components.members]]\npath = "x"\nformat = "zip"\n', "format 'zip' is not a member"),
    (ONE + ONE, "'orchestrator.db' is listed twice"),
    (ONE + 'tables = ["tests"]\n', "tables need the live source; set source"),
])
def test_bad_members_are_usage_errors(suite, tmp_path, members, message):
    suite.inventory(folder_set("factory-backup", str(tmp_path), members=members))
    result = suite.run("-m", "critical", checks=("backup",))
    assert result.ret == 4
    assert message in result.stderr.str(), result.stderr.str()


def test_members_need_a_set_of_folders(suite, tmp_path):
    suite.inventory(folder_set("factory-backup", str(tmp_path), members=ONE)
                    .replace('format = "folder"', 'format = "tar"'))
    result = suite.run("-m", "critical", checks=("backup",))
    assert result.ret == 4
    result.stderr.fnmatch_lines(["*members: only a set of folders holds members, and format "
                                 "is tar; set format = \"folder\" or remove members*"])


def test_members_of_folders_in_emulated_s3(suite, moto_server, factory):
    """The same folders uploaded to a bucket: a member seen (or missed) in the listing, and
    read through after the folder is downloaded into scratch."""
    s3 = moto_server.client("s3")
    s3.create_bucket(Bucket="factory-backups")
    for i, folder in enumerate(sorted(factory.backups.iterdir())):
        with moto_server.aged((2 - i) * DAY + HOUR):
            for path in sorted(p for p in folder.rglob("*") if p.is_file()):
                if folder.name == "2026-12-01" and path.name == "redis-dump.rdb":
                    continue  # the newest night lost its Redis copy
                s3.put_object(Bucket="factory-backups", Body=path.read_bytes(),
                              Key=f"nightly/{folder.name}/{path.relative_to(folder)}")
    entry = folder_set("factory-s3", "s3://factory-backups/nightly/",
                       'aws = "td-aws"\n').replace('source = "orchestrator-db"\n'
                                                   'tables = ["tests"]\n', "").replace(
        'source = "factory-timescaledb"\ntables = ["stories"]\n', "")
    suite.inventory(aws_inventory(moto_server.url, entry))
    result = suite.run("-m", "critical or standard", "-k", "member", "-rA", checks=("backup",))
    result.assert_outcomes(passed=9, failed=2, skipped=1)
    result.stdout.fnmatch_lines_random([
        "factory-s3 newest backup 2026-12-01 has no redis-dump.rdb (a redis_rdb member). *",
        "*factory-s3: 2026-12-01 has no redis-dump.rdb",
        "PASSED *test_backup_member_readable[[]factory-s3:timescaledb.sql.gz[]]",
        "PASSED *test_backup_member_present[[]factory-s3:agent-memory[]]",
    ])
