"""Bad inventories: each gives exit 4 and one line naming the file, the key and the fix."""

from __future__ import annotations

import pytest


def escape(pattern: str) -> str:
    """fnmatch reads "[0]" as a character class; match brackets literally."""
    return pattern.replace("[", "[[]")


HOST = '[[components]]\nname = "h"\nkind = "host"\n'

BAD = {
    "toml_syntax": ('[[components]\nname = "h"\n',
                    "*inventory.toml: TOML syntax error: *(at line 1, column *); fix the syntax*"),
    "unknown_key": (HOST + 'moutns = ["/"]\n',
                    "*inventory.toml: components[0] (h).moutns: unknown key 'moutns'; "
                    "allowed keys here: *mounts*"),
    "unknown_table": ('[sytem]\nname = "x"\n',
                      "*inventory.toml: sytem: unknown table 'sytem'; allowed: *system*"),
    "wrong_type": (HOST + 'mounts = "/"\n',
                   "*inventory.toml: components[0] (h).mounts: input should be a valid list "
                   "(got '/'); fix the value's type"),
    "wrong_type_number": (HOST + 'cpu_sample = "fast"\n',
                          "*components[0] (h).cpu_sample: input should be a valid number*"),
    "warning_beyond_critical": (HOST + "[components.thresholds.disk]\nwarning = 90\n",
                                "*components[0] (h).thresholds.disk: warning 90% is beyond "
                                "critical 85% for direction 'above'; set warning at or below "
                                "critical"),
    "warning_beyond_critical_below": (
        HOST + '[components.thresholds.memory]\ndirection = "below"\nwarning = 10\ncritical = 20\n',
        "*thresholds.memory: warning 10% is beyond critical 20% for direction 'below'; "
        "set warning at or above critical"),
    "inline_secret": (HOST + 'password = "hunter2"\n',
                      "*inventory.toml: components[0].password: secret written inline; *"
                      "password_env = *"),
    "inline_secret_in_url": (HOST.replace('"host"', '"host"\nspec = "ssh://u:hunter2@127.0.0.1"'),
                             "*components[0].spec: secret written inline*"),
    "unknown_kind": ('[[components]]\nname = "h"\nkind = "hots"\n',
                     "*inventory.toml: components[0] (h).kind: unknown kind 'hots'; use one of *"),
    "missing_kind": ('[[components]]\nname = "h"\n',
                     "*components[0] (h).kind: missing; add kind = one of *"),
    "duplicate_name": (HOST + HOST, "*inventory.toml: components[1] (h).name: duplicate component "
                       "name 'h' (also components[0]); give each component a unique name"),
    "bad_name": ('[[components]]\nname = "my host"\nkind = "host"\n',
                 "*components[0] (my host).name: name 'my host' must start with*"),
    "components_not_array": ('[components]\nname = "h"\n',
                             "*inventory.toml: components: must be an array of tables*"),
}


@pytest.mark.parametrize("case", BAD)
def test_bad_inventory_is_a_one_line_usage_error(suite, case):
    text, line = BAD[case]
    suite.inventory(text)
    result = suite.run("--collect-only")
    assert result.ret == pytest.ExitCode.USAGE_ERROR
    result.stderr.fnmatch_lines([f"ERROR: {escape(line)}"])
    assert "Traceback" not in result.stdout.str() + result.stderr.str()


def test_missing_inventory_file_names_the_fix(suite):
    result = suite.run("--collect-only")  # the suite fixture wrote no inventory
    assert result.ret == pytest.ExitCode.USAGE_ERROR
    result.stderr.fnmatch_lines(["ERROR: *inventory.toml: inventory file not found; pass "
                                 "--inventory PATH or set OPSCHECK_INVENTORY*"])


def test_unset_secret_variable_is_a_usage_error(suite, monkeypatch):
    monkeypatch.delenv("OPSCHECK_TEST_UNSET", raising=False)
    suite.inventory('[[components]]\nname = "r"\nkind = "redis"\nurl = "redis://127.0.0.1:1"\n'
                    'password_env = "OPSCHECK_TEST_UNSET"\n')
    result = suite.run("--collect-only")
    assert result.ret == pytest.ExitCode.USAGE_ERROR
    result.stderr.fnmatch_lines([escape(
        "ERROR: *inventory.toml: components[0] (r)*: environment variable OPSCHECK_TEST_UNSET "
        "(named by password_env) is not set; export OPSCHECK_TEST_UNSET before running, or "
        "remove password_env")])


def test_partial_threshold_keeps_the_default_levels(suite):
    from opscheck.inventory import load

    path = suite.inventory(HOST + "[components.thresholds.disk]\ncritical = 95\n")
    disk = load(path).get("h").thresholds.disk
    assert (disk.warning, disk.critical, disk.direction, disk.unit) == (75, 95, "above", "%")


def test_relative_paths_resolve_against_the_inventory_folder(suite):
    from opscheck.inventory import load

    inventory = load(suite.inventory(HOST))
    assert inventory.resolve_path("db/x.sqlite") == suite.path / "db/x.sqlite"
    assert inventory.resolve_path("/abs") .as_posix() == "/abs"
    assert inventory.get("h").timeout == inventory.system.timeout == 3.0


def test_inventory_from_environment_variable(suite, monkeypatch):
    other = suite.path / "other.toml"
    other.write_text('[system]\nname = "from-env"\n' + HOST)
    monkeypatch.setenv("OPSCHECK_INVENTORY", str(other))
    result = suite.run("--collect-only", inventory=False)
    result.stdout.fnmatch_lines(["opscheck inventory: *other.toml (env OPSCHECK_INVENTORY); "
                                 "system from-env*"])


def test_a_default_level_is_switched_off_with_false(suite):
    from opscheck.inventory import load

    path = suite.inventory(HOST + "[components.thresholds.swap]\nwarning = false\n")
    swap = load(path).get("h").thresholds.swap
    assert (swap.warning, swap.critical) == (None, 80)
    assert swap.state(79) == "ok"


def test_true_is_no_level(suite):
    suite.inventory(HOST + "[components.thresholds.memory]\nwarning = true\n")
    result = suite.run("--collect-only")
    assert result.ret == pytest.ExitCode.USAGE_ERROR
    result.stderr.fnmatch_lines([escape("ERROR: *components[0] (h).thresholds.memory.warning: "
                                        "a level is a number, or false to switch it off")])


def test_false_switches_a_level_off_everywhere_levels_are_written():
    from pydantic import TypeAdapter

    from opscheck.components.prometheus import PromQuery
    from opscheck.thresholds import Level

    assert TypeAdapter(Level).validate_python(False) is None
    assert TypeAdapter(Level).validate_python(0) == 0.0  # zero stays a level
    query = PromQuery(name="q", expr="up", warning=False, critical=1)
    assert (query.warning, query.critical) == (None, 1.0)
