"""Backup sets in S3, against emulated AWS (moto's server on loopback): the backup kind's
checks on ``dir = "s3://bucket/prefix/"`` with objects put, aged (moto's clock set back),
emptied, cut short and corrupted; downloads bounded by the scratch budget."""

from __future__ import annotations

import gzip
import hashlib
import io
import tarfile
import textwrap

import pytest

DAY, HOUR = 86400, 3600
CHECKS = ("backup",)
TIERS = ("-m", "critical or standard or deep")


def inventory(endpoint: str, *sets: str) -> str:
    return textwrap.dedent(f"""\
        [[components]]
        name = "td-aws"
        kind = "aws"
        region = "us-east-1"
        endpoint_url = "{endpoint}"
        timeout = 2
        """) + "".join(sets)


def s3_set(name: str, url: str, fmt: str, **extra: object) -> str:
    lines = ["[[components]]", f'name = "{name}"', 'kind = "backup"', f'dir = "{url}"',
             'aws = "td-aws"', f'format = "{fmt}"']
    lines += [f"{k} = {v!r}".replace("'", '"') for k, v in extra.items()]
    return "\n".join(lines) + "\n"


def tar_gz(files: dict[str, bytes]) -> bytes:
    """The same bytes for the same files (gzip's header time fixed): a manifest written
    from a second build matches the uploaded one, whichever second each was made in."""
    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode="w") as tar:
        for name, data in files.items():
            info = tarfile.TarInfo(name)
            info.size = len(data)
            tar.addfile(info, io.BytesIO(data))
    return gzip.compress(buffer.getvalue(), mtime=0)


HISTORY = {"evolution_history/cycle-1.json": b'{"cycle": 1, "ok": true}',
           "evolution_history/cycle-2.json": b'{"cycle": 2, "ok": true}',
           "config/settings.toml": b"[evolution]\ncycles = 1\n"}


@pytest.fixture
def bucket(moto_server):
    """A bucket ``t-developer-backups`` and a ``put(key, data, age=seconds)``."""
    s3 = moto_server.client("s3")
    s3.create_bucket(Bucket="t-developer-backups")

    def put(key: str, data: bytes, age: float = 0) -> None:
        with moto_server.aged(age):
            s3.put_object(Bucket="t-developer-backups", Key=key, Body=data)
    return put


def run(suite, moto_server, *sets: str, args=TIERS):
    suite.inventory(inventory(moto_server.url, *sets))
    return suite.run(*args, checks=CHECKS)


def daily_tars(put, count: int = 3, newest_age: float = HOUR) -> None:
    for i in range(count):
        put(f"daily/history-{i:02d}.tar.gz", tar_gz(HISTORY), newest_age + (count - 1 - i) * DAY)


def test_emulated_s3_healthy_set_passes_every_tier(suite, moto_server, bucket):
    daily_tars(bucket)
    bucket("daily/SHA256SUMS", "".join(
        f"{hashlib.sha256(tar_gz(HISTORY)).hexdigest()}  history-{i:02d}.tar.gz\n"
        for i in range(3)).encode())
    result = run(suite, moto_server, s3_set(
        "td-s3", "s3://t-developer-backups/daily", "tar", pattern="history-*.tar.gz",
        manifest="SHA256SUMS", keep_min=3, retention_days=30,
        expected_files=["evolution_history/*.json", "config/settings.toml"]))
    result.assert_outcomes(passed=8)  # fresh, not empty, not truncated, kept, retention,
    # checksums, readable, restores


def test_emulated_s3_stale_set_fails_freshness(suite, moto_server, bucket):
    daily_tars(bucket, newest_age=27 * HOUR)  # the job stopped 27 hours ago
    result = run(suite, moto_server, s3_set("td-s3", "s3://t-developer-backups/daily",
                                            "tar", max_age_hours=26), args=("-m", "critical"))
    result.assert_outcomes(passed=2, failed=1)
    result.stdout.fnmatch_lines(["td-s3 newest backup age (history-02.tar.gz) 27 h ≥ critical "
                                 "26 h. Action: Check the backup job*"])


def test_emulated_s3_empty_and_cut_short_newest_fail(suite, moto_server, bucket):
    daily_tars(bucket, count=2, newest_age=2 * DAY)
    bucket("daily/history-09.tar.gz", b"", HOUR)
    whole = tar_gz({**HISTORY, "padding.bin": bytes(range(256)) * 400})
    bucket("cut/history-01.tar.gz", whole, DAY)
    bucket("cut/history-02.tar.gz", whole[: len(whole) // 3], HOUR)  # killed midway
    result = run(suite, moto_server,
                 s3_set("td-empty", "s3://t-developer-backups/daily/", "tar"),
                 s3_set("td-cut", "s3://t-developer-backups/cut/", "tar"), args=TIERS)
    result.stdout.fnmatch_lines_random([
        "*td-empty newest backup history-09.tar.gz is empty: 0 bytes in 1 file(s), expected "
        "at least 1 bytes*",
        "td-cut newest backup size vs previous (history-02.tar.gz 335 B, previous "
        "history-01.tar.gz 1.0 kB) 33.3% ≤ critical 50%*",
        "td-cut: history-02.tar.gz cannot be extracted: EOFError: Compressed file ended "
        "before the end-of-stream marker was reached",
        "td-cut: history-02.tar.gz unreadable as tar: *",
        "td-empty: history-09.tar.gz cannot be extracted: ReadError: file could not be "
        "opened successfully:",
    ])
    assert "Traceback" not in result.stdout.str()


def test_emulated_s3_retention_and_keep_counts(suite, moto_server, bucket):
    daily_tars(bucket, count=2)
    bucket("daily/history-old.tar.gz", tar_gz(HISTORY), 40 * DAY)  # pruning stopped
    result = run(suite, moto_server, s3_set(
        "td-s3", "s3://t-developer-backups/daily/", "tar", retention_days=30, keep_min=4),
        args=("-k", "kept or past_retention"))
    result.assert_outcomes(failed=2)
    result.stdout.fnmatch_lines_random([
        "td-s3 keeps 1 backup(s) past its retention of 30 d; oldest history-old.tar.gz is "
        "40.0 d old*",
        "td-s3 keeps 3 backup(s) matching * in s3://t-developer-backups/daily/, expected at "
        "least 4*"])


def test_emulated_s3_folder_backups_are_first_level_prefixes(suite, moto_server, bucket):
    for day, age in (("2026-01-14", 2 * DAY), ("2026-01-15", 3 * HOUR)):
        for name, data in HISTORY.items():
            bucket(f"{day}/{name}", data, age)
    result = run(suite, moto_server, s3_set(
        "td-s3", "s3://t-developer-backups/", "folder", keep_min=2,
        expected_files=["evolution_history/cycle-*.json", "config/settings.toml"]))
    result.assert_outcomes(passed=6, skipped=2)  # no manifest, no retention_days
    result.stdout.fnmatch_lines(["*td-s3 has no manifest configured*"])
    bucket("2026-01-15/config/settings.toml", b"[evolution\ncycles = ", 3 * HOUR)  # broken
    result = run(suite, moto_server, s3_set(
        "td-s3", "s3://t-developer-backups/", "folder",
        expected_files=["evolution_history/cycle-*.json", "config/settings.toml"]),
        args=("-m", "deep"))
    result.assert_outcomes(failed=1)
    result.stdout.fnmatch_lines(["td-s3: 2026-01-15 in place: config/settings.toml does not "
                                 "parse*"])


def test_emulated_s3_restore_misses_an_expected_file(suite, moto_server, bucket):
    bucket("daily/history-01.tar.gz", tar_gz({"config/settings.toml": b"a = 1\n"}), HOUR)
    result = run(suite, moto_server, s3_set(
        "td-s3", "s3://t-developer-backups/daily", "tar",
        expected_files=["evolution_history/*.json"]), args=("-m", "deep"))
    result.assert_outcomes(failed=1)
    result.stdout.fnmatch_lines(["td-s3: history-01.tar.gz extracted (1 members): "
                                 "evolution_history/*.json*"])


def test_emulated_s3_checksum_mismatch_fails(suite, moto_server, bucket):
    daily_tars(bucket, count=2)
    bucket("daily/SHA256SUMS", f"{'0' * 64}  history-01.tar.gz\n".encode())
    result = run(suite, moto_server, s3_set(
        "td-s3", "s3://t-developer-backups/daily", "tar", pattern="history-*",
        manifest="SHA256SUMS"), args=("-k", "checksum"))
    result.assert_outcomes(failed=1)
    result.stdout.fnmatch_lines(["td-s3 checksum mismatch: history-00.tar.gz is not listed "
                                 "in the manifest (and 1 more)*"])


def test_emulated_s3_download_over_the_scratch_budget_stops_before_writing(suite, moto_server,
                                                                          bucket):
    big = gzip.compress(bytes(range(256)) * 8192, compresslevel=0)  # about 2 MB
    bucket("daily/history-01.gz", big, HOUR)
    result = run(suite, moto_server, s3_set("td-s3", "s3://t-developer-backups/daily", "gzip",
                                            scratch_budget_mb=1), args=("-k", "readable"))
    result.assert_outcomes(failed=1)
    result.stdout.fnmatch_lines(["td-s3: downloading history-01.gz from "
                                 "s3://t-developer-backups/daily/ needs 2.1 MB, over the "
                                 "scratch budget of 1.0 MB; raise scratch_budget_mb"])


def test_emulated_s3_missing_bucket_fails_freshness(suite, moto_server):
    result = run(suite, moto_server, s3_set("td-s3", "s3://no-such-bucket/daily", "tar"),
                 args=("-m", "critical"))
    result.assert_outcomes(failed=1, errors=2)
    result.stdout.fnmatch_lines_random([
        "td-s3 has no backup at all: bucket no-such-bucket does not exist. Action: *",
        "*could not run: td-s3 has no backup to check (bucket no-such-bucket does not exist)"])


def test_emulated_s3_unreachable_endpoint_fails_once(suite, aws_test_env, silent_server):
    suite.inventory(inventory(silent_server.url, s3_set("td-s3", "s3://t-developer-backups/",
                                                        "tar")).replace("timeout = 2",
                                                                        "timeout = 1"))
    result = suite.run("-m", "critical", checks=CHECKS)
    result.assert_outcomes(failed=1, errors=2)
    result.stdout.fnmatch_lines_random([
        "td-s3 unreachable at s3://t-developer-backups/*: TimeoutError: s3 list_objects_v2: *",
        "*could not run: td-s3 unreachable (TimeoutError: s3 list_objects_v2*"])


@pytest.mark.parametrize(("entry", "message"), [
    ('dir = "s3://t-developer-backups/"\nformat = "tar"',
     "aws: an s3:// set needs the aws component that reaches s3://t-developer-backups/"),
    ('dir = "s3://t-developer-backups/"\nformat = "tar"\naws = "nope"',
     "aws: 'nope' is no component of this inventory"),
    ('dir = "s3://t-developer-backups/"\nformat = "tar"\naws = "td-s3"',
     "aws: 'td-s3' is a backup component"),
    ('dir = "/backups"\nformat = "tar"\naws = "td-aws"', "aws: only for s3:// sets"),
    ('dir = "s3://X/"\nformat = "tar"\naws = "td-aws"', "'s3://X/' is not an S3 location"),
])
def test_bad_s3_backup_inventory_is_a_usage_error(suite, entry, message):
    suite.inventory(inventory("http://127.0.0.1:9") + '[[components]]\nname = "td-s3"\n'
                    'kind = "backup"\n' + entry + "\n")
    result = suite.run("--collect-only", checks=CHECKS)
    assert result.ret == 4
    assert message in result.stderr.str(), result.stderr.str()
