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
    "system_name_control": ('[system]\nname = "prod\\u001b[2J"\n',
                            "*inventory.toml: system.name: name 'prod\\x1b[2J' holds a control "
                            "character; remove it from the value"),
    "bad_name": ('[[components]]\nname = "my host"\nkind = "host"\n',
                 "*components[0] (my host).name: name 'my host' must start with*"),
    "components_not_array": ('[components]\nname = "h"\n',
                             "*inventory.toml: components: must be an array of tables*"),
    # nesting: the parser recurses per level; both are one line, never a RecursionError
    "deep_inline_table": (HOST + "description = " + "{a = " * 330 + "1" + "}" * 330 + "\n",
                          "*inventory.toml: tables or arrays nested more than 16 levels deep; "
                          "flatten them"),
    "deep_array": (HOST + "mounts = " + "[" * 500 + "]" * 500 + "\n",
                   "*inventory.toml: tables or arrays nested more than 16 levels deep; "
                   "flatten them"),
    "nested_too_deep": (HOST + "description = " + "[" * 20 + "]" * 20 + "\n",
                        "*inventory.toml: components[0].description* nested more than 16 "
                        "levels deep; flatten it"),
    # accepted at load but failing at run time, before: now refused at load
    "host_spec_scheme": (HOST + 'spec = "bogus://x"\n',
                         "*components[0] (h).spec: spec 'bogus://x' is not a testinfra host "
                         "spec; write BACKEND://HOST with a backend of local, ssh, *"),
    "host_spec_no_host": (HOST + 'spec = "ssh://"\n',
                          "*components[0] (h).spec: spec 'ssh://' names no host*"),
    "empty_mount": (HOST + 'mounts = [""]\n',
                    "*components[0] (h).mounts: '' is not a mount point; write absolute *"),
    "relative_mount": (HOST + 'mounts = ["var"]\n',
                       "*components[0] (h).mounts: 'var' is not a mount point*"),
    "bad_socket": (HOST + 'sockets = ["tcp://localhost:22"]\n',
                   "*components[0] (h).sockets: 'tcp://localhost:22' is not a socket spec "
                   "('localhost' is not an IP address)*"),
    "empty_sqlite_path": ('[[components]]\nname = "db"\nkind = "sqlite"\npath = ""\n',
                          "*components[0] (db).path: path is empty; write the database file's "
                          "path"),
    "empty_queue_root": ('[[components]]\nname = "q"\nkind = "queue"\nroot = ""\n',
                         "*components[0] (q).root: an empty path names no file*"),
    "empty_backup_dir": ('[[components]]\nname = "b"\nkind = "backup"\ndir = " "\n'
                         'format = "tar"\n', "*components[0] (b).dir: dir is empty*"),
    "empty_parse_entry": ('[[components]]\nname = "f"\nkind = "files"\nparse = [""]\n',
                          "*components[0] (f).parse: *"),
    "header_crlf": ('[[components]]\nname = "w"\nkind = "http"\nurl = "http://127.0.0.1:1"\n'
                    'api_key_env = "HOME"\napi_key_header = "X-Key\\r\\nX-Evil: 1"\n',
                    "*components[0] (w).api_key_header: api_key_header 'X-Key\\r\\nX-Evil: 1' "
                    "is not an HTTP header name*"),
    "prefix_newline": ('[[components]]\nname = "w"\nkind = "http"\nurl = "http://127.0.0.1:1"\n'
                       'api_key_prefix = "Bearer\\n"\n',
                       "*components[0] (w).api_key_prefix: api_key_prefix 'Bearer\\n' holds a "
                       "control character*"),
    "url_with_space": ('[[components]]\nname = "w"\nkind = "http"\n'
                       'url = "http://127.0.0.1:1/a b"\n',
                       "*components[0] (w).url: url 'http://127.0.0.1:1/a b' holds a space or "
                       "control character*"),
    "url_broken_ipv6": ('[[components]]\nname = "w"\nkind = "http"\nurl = "http://[::1"\n',
                        "*components[0] (w).url: url 'http://[::1' has a host that cannot be "
                        "read*"),
    "control_in_item": (HOST + 'processes = ["nginx\\u001b[31m"]\n',
                        "*components[0] (h): processes 'nginx\\x1b[31m' holds a control "
                        "character; remove it from the entry"),
    # inline secrets in every shape a URL or connection string can carry one
    "redis_url_query_password": (
        '[[components]]\nname = "r"\nkind = "redis"\nurl = "redis://127.0.0.1:1/0?password=x"\n',
        "*components[0].url: secret written inline*"),
    "dsn_password_tab": (
        '[[components]]\nname = "p"\nkind = "postgres"\ndsn = "host=db password\\t=x"\n',
        "*components[0].dsn: secret written inline*"),
    "uri_encoded_password": (
        '[[components]]\nname = "p"\nkind = "postgres"\n'
        'dsn = "postgresql://u@127.0.0.1/db?%70assword=x"\n',
        "*components[0].dsn: secret written inline*"),
    "nats_token_user": ('[[components]]\nname = "n"\nkind = "nats"\nurl = "nats://TOKEN@127.0.0.1"\n',
                        "*components[0].url: secret written inline*"),
    "http_api_key_query": ('[[components]]\nname = "w"\nkind = "http"\n'
                           'url = "http://127.0.0.1:1/h?api_key=x"\n',
                           "*components[0].url: secret written inline*"),
    "http_token_query": ('[[components]]\nname = "w"\nkind = "http"\n'
                         'url = "http://127.0.0.1:1/h?a=1&token=x"\n',
                         "*components[0].url: secret written inline*"),
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
                                        "a level is a number, a range such as \"10:20\", or "
                                        "false to switch it off")])


def test_false_switches_a_level_off_everywhere_levels_are_written():
    from pydantic import TypeAdapter

    from opscheck.components.prometheus import PromQuery
    from opscheck.thresholds import Level

    assert TypeAdapter(Level).validate_python(False) is None
    assert TypeAdapter(Level).validate_python(0) == 0.0  # zero stays a level
    query = PromQuery(name="q", expr="up", warning=False, critical=1)
    assert (query.warning, query.critical) == (None, 1.0)


def test_a_byte_order_mark_is_accepted(suite):
    from opscheck.inventory import load

    suite.inventory_path.write_bytes(b"\xef\xbb\xbf" + HOST.encode())
    assert load(suite.inventory_path).get("h").kind == "host"


def test_a_fifo_is_refused_at_once_not_waited_on(suite):
    os = pytest.importorskip("os")
    os.mkfifo(suite.inventory_path)  # no writer: reading it would wait forever
    result = suite.pytester.runpytest_subprocess(*suite.args((), ("--collect-only",)),
                                                 timeout=60)
    assert result.ret == pytest.ExitCode.USAGE_ERROR
    result.stderr.fnmatch_lines(["ERROR: *inventory.toml: the inventory file is a FIFO, not a "
                                 "regular file; pass --inventory PATH or set OPSCHECK_INVENTORY*"])


def test_a_folder_or_device_is_refused(suite):
    result = suite.run("--collect-only", "--inventory", "/dev/zero")
    assert result.ret == pytest.ExitCode.USAGE_ERROR
    result.stderr.fnmatch_lines(["ERROR: /dev/zero: the inventory file is a device, not a regular "
                                 "file*"])
    result = suite.run("--collect-only", "--inventory", str(suite.path))
    result.stderr.fnmatch_lines(["ERROR: *: the inventory file is a folder, not a regular file*"])


def test_a_file_over_the_size_limit_is_refused(suite):
    suite.inventory(HOST + "# " + "x" * (1 << 20) + "\n")
    result = suite.run("--collect-only")
    assert result.ret == pytest.ExitCode.USAGE_ERROR
    result.stderr.fnmatch_lines(["ERROR: *inventory.toml: the inventory file is larger than 1 "
                                 "MiB; it cannot be one: check the path"])


def test_a_file_that_is_not_utf8_names_the_byte(suite):
    suite.inventory_path.write_bytes(HOST.encode() + b'description = "caf\xe9"\n')
    result = suite.run("--collect-only")
    assert result.ret == pytest.ExitCode.USAGE_ERROR
    result.stderr.fnmatch_lines(["ERROR: *inventory.toml: the inventory file is not UTF-8 text "
                                 "(byte 59 is 0xe9); save it as UTF-8"])


def test_control_characters_in_keys_are_escaped_and_cannot_forge_a_line(suite):
    # a quoted key holding a newline, a fake error line and a colour code
    suite.inventory(HOST + '"x\\nERROR: all good\\u001b[32m" = 1\n')
    result = suite.run("--collect-only")
    assert result.ret == pytest.ExitCode.USAGE_ERROR
    err = result.stderr.str()
    assert "\x1b" not in err and "\nERROR: all good" not in err
    lines = [line for line in err.splitlines() if line.strip()]
    assert len(lines) == 1, lines
    assert "unknown key 'x\\nERROR: all good\\x1b[32m'" in lines[0]
    assert "components[0] (h).x\\nERROR: all good\\x1b[32m: " in lines[0]


def test_control_characters_in_a_file_name_are_escaped(suite):
    odd = suite.path / "inv\x1b[31m\rERROR.toml"
    odd.write_text("[sytem]\n")
    result = suite.run("--collect-only", "--inventory", str(odd), inventory=False)
    assert result.ret == pytest.ExitCode.USAGE_ERROR
    assert "\x1b" not in result.stderr.str() and "\r" not in result.stderr.str()
    result.stderr.fnmatch_lines(["ERROR: *inv\\x1b[[]31m\\rERROR.toml: sytem: unknown table*"])


def test_every_unset_variable_is_reported_at_once(suite, monkeypatch):
    for var in ("OPSCHECK_U1", "OPSCHECK_U2", "OPSCHECK_U3"):
        monkeypatch.delenv(var, raising=False)
    suite.inventory('[[components]]\nname = "r"\nkind = "redis"\nurl = "redis://127.0.0.1:1"\n'
                    'password_env = "OPSCHECK_U1"\nusername_env = "OPSCHECK_U2"\n'
                    '[[components]]\nname = "q"\nkind = "queue"\nroot = "${OPSCHECK_U3}/queue"\n'
                    '[[components]]\nname = "f"\nkind = "files"\n'
                    'parse = ["${OPSCHECK_U3}/state.json"]\n')
    result = suite.run("--collect-only")
    assert result.ret == pytest.ExitCode.USAGE_ERROR
    result.stderr.fnmatch_lines([escape(
        "ERROR: *inventory.toml: 3 environment variables are not set: OPSCHECK_U1 (used by "
        "components[0] (r).password_env), OPSCHECK_U2 (used by components[0] (r).username_env), "
        "OPSCHECK_U3 (used by components[1] (q).root), OPSCHECK_U3 (used by components[2] "
        "(f).parse); export OPSCHECK_U1 OPSCHECK_U2 OPSCHECK_U3 before running, or remove what "
        "uses them")])


def test_a_waivers_fifo_is_refused_at_once(suite):
    os = pytest.importorskip("os")
    suite.inventory(HOST)
    os.mkfifo(suite.path / "waivers.toml")
    result = suite.pytester.runpytest_subprocess(
        *suite.args((), ("--collect-only", "--waivers=waivers.toml")), timeout=60)
    assert result.ret == pytest.ExitCode.USAGE_ERROR
    result.stderr.fnmatch_lines(["ERROR: *waivers.toml: the waivers file is a FIFO, not a regular "
                                 "file; fix --waivers, OPSCHECK_WAIVERS or opscheck_waivers"])


def test_a_file_name_with_control_characters_is_escaped_in_the_header(suite):
    odd = suite.path / "inv\x1b[31m.toml"
    odd.write_text(HOST)
    result = suite.run("--collect-only", "--inventory", str(odd), inventory=False)
    assert "\x1b" not in result.stdout.str()
    result.stdout.fnmatch_lines(["opscheck inventory: *inv\\x1b[[]31m.toml (command line*"])
