"""Bad backup entries: each is exit 4 and one line naming the file, the key and the fix."""

from __future__ import annotations

import pytest

PG = '[[components]]\nname = "pg"\nkind = "postgres"\ndsn = "postgresql://u@127.0.0.1:1/x"\n'
SET = '[[components]]\nname = "b"\nkind = "backup"\ndir = "backups"\n'


def entry(**keys: str) -> str:
    return SET + "".join(f"{k} = {v}\n" for k, v in keys.items())


BAD = {
    "unknown_source": (PG + entry(format='"pg_custom"', source='"pg-live"'),
                       "*components[[]1] (b): source: no component named 'pg-live' in this "
                       "inventory; name the postgres component this set backs up"),
    "source_of_wrong_kind": (entry(format='"sqlite"', source='"pg"') + PG,  # any order
                             "*components[[]0] (b): source: 'pg' is a postgres component, but a "
                             "sqlite backup needs a sqlite one; fix source or format"),
    "source_for_files": (PG + entry(format='"tar"', source='"pg"'),
                         "*(b): source: format tar backs up files, not a live component; "
                         "remove source"),
    "unknown_format": (entry(format='"zip"'), "*(b).format: input should be 'pg_custom', *"),
    "missing_format": (entry(), "*(b).format: required key 'format' is missing; add it"),
    "pattern_with_folder": (entry(format='"tar"', pattern='"x/*.tar"'),
                            "*(b).pattern: 'x/*.tar' must be a file name or glob inside dir, "
                            "without '/'; put the folder in dir"),
    "bad_table": (PG + entry(format='"pg_custom"', source='"pg"', tables='["a; drop"]'),
                  "*(b).tables: table 'a; drop' is not a plain name; write table or "
                  "schema.table (letters, digits, _)"),
    "tables_without_source": (entry(format='"sqlite"', tables='["t"]'),
                              "*(b): tables: comparing row counts needs the live source; "
                              "set source"),
    "expected_files_on_a_dump": (entry(format='"pg_plain"', expected_files='["x"]'),
                                 "*(b): expected_files: only for format tar or folder*"),
    "keep_max_below_keep_min": (entry(format='"tar"', keep_min="5", keep_max="2"),
                                "*(b): keep_max 2 is below keep_min 5; raise keep_max or lower "
                                "keep_min"),
    "restore_dsn_for_files": (entry(format='"tar"', restore_dsn='"postgresql://u@127.0.0.1/x"'),
                              "*(b): restore_dsn: only for PostgreSQL dumps, not tar"),
    "negative_age": (entry(format='"tar"', max_age_hours="-1"),
                     "*(b).max_age_hours: input should be greater than 0*"),
    "ratio_above_one": (entry(format='"tar"', min_size_ratio="2"),
                        "*(b).min_size_ratio: input should be less than or equal to 1*"),
    "inline_password_in_restore_dsn": (
        entry(format='"pg_custom"', restore_dsn='"postgresql://u:hunter2@127.0.0.1/x"'),
        "*components[[]0].restore_dsn: secret written inline*"),
}


@pytest.mark.parametrize("case", BAD)
def test_bad_backup_entry_is_a_one_line_usage_error(suite, case):
    text, line = BAD[case]
    suite.inventory(text)
    result = suite.run("--collect-only", checks=("backup",))
    assert result.ret == pytest.ExitCode.USAGE_ERROR, result.stdout.str()[-2000:]
    result.stderr.fnmatch_lines([f"ERROR: {line}"])
    assert "Traceback" not in result.stdout.str() + result.stderr.str()


def test_unset_restore_password_variable(suite, monkeypatch):
    monkeypatch.delenv("OPSCHECK_TEST_UNSET", raising=False)
    suite.inventory(entry(format='"pg_custom"', restore_dsn='"postgresql://u@127.0.0.1/x"',
                          restore_password_env='"OPSCHECK_TEST_UNSET"'))
    result = suite.run("--collect-only", checks=("backup",))
    assert result.ret == pytest.ExitCode.USAGE_ERROR
    result.stderr.fnmatch_lines(["ERROR: *(b): environment variable OPSCHECK_TEST_UNSET (named "
                                 "by restore_password_env) is not set*"])


def test_paths_resolve_against_the_inventory_and_a_good_set_collects(suite):
    from opscheck.inventory import load

    path = suite.inventory(PG + entry(format='"pg_custom"', source='"pg"', tables='["s.t"]',
                                      scratch_dir='"scratch"'))
    backup = load(path).get("b")
    assert backup.dir == str(suite.path / "backups")
    assert backup.scratch_dir == str(suite.path / "scratch")
    result = suite.run("--collect-only", "-q", checks=("backup",))
    result.stdout.fnmatch_lines(["*test_backup_restores[[]b]*"])
