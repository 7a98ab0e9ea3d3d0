"""The inventory loader's errors and lookups, in-process (opscheck.inventory.parse/load):
each error one line naming the file, the key and the fix; the end-to-end exit 4 is in
test_inventory."""

from __future__ import annotations

import tomllib
from pathlib import Path

import pytest

from opscheck import inventory
from opscheck.tomlfile import InventoryError

PATH = Path("/etc/opscheck/inventory.toml")
HOST = '[[components]]\nname = "h"\nkind = "host"\n'
REDIS = ('[[components]]\nname = "{name}"\nkind = "redis"\nurl = "redis://127.0.0.1:1"\n'
         'password_env = "{var}"\n')


def error(text: str) -> str:
    with pytest.raises(InventoryError) as caught:
        inventory.parse(tomllib.loads(text), PATH)
    return str(caught.value)


def test_a_component_entry_that_is_not_a_table_names_its_index():
    assert error("components = [1]\n") == (
        f"{PATH}: components[0]: must be a table with name and kind")


def test_an_unknown_key_in_a_nested_table_names_the_full_key_and_the_allowed_ones():
    assert error(HOST + "[components.thresholds.disk]\nwarnin = 80\n") == (
        f"{PATH}: components[0] (h).thresholds.disk.warnin: unknown key 'warnin'; allowed keys "
        "here: action, critical, direction, unit, warning")


def test_an_unknown_key_at_the_top_of_a_component_lists_the_kinds_keys():
    message = error(HOST + "moutns = 1\n")
    assert message.startswith(f"{PATH}: components[0] (h).moutns: unknown key 'moutns'; "
                              "allowed keys here: ")
    assert "mounts" in message and "thresholds" in message


@pytest.mark.parametrize(("timeout", "bound"), [
    ("0", "greater than 0 (got 0)"), ("-1", "greater than 0 (got -1)"),
    ("600.5", "less than or equal to 600 (got 600.5)")])
def test_the_system_timeout_outside_its_bounds_says_the_bound(timeout, bound):
    assert error(f"[system]\ntimeout = {timeout}\n") == (
        f"{PATH}: system.timeout: input should be {bound}; set a value within the bound")


@pytest.mark.parametrize("timeout", ["0.001", "600"])
def test_the_system_timeout_bounds_are_open_at_zero_and_closed_at_600(timeout):
    inv = inventory.parse(tomllib.loads(f"[system]\ntimeout = {timeout}\n"), PATH)
    assert inv.system.timeout == float(timeout)


def test_a_value_of_the_wrong_type_says_so_and_shows_it():
    assert error('[system]\ntimeout = "soon"\n') == (
        f"{PATH}: system.timeout: input should be a valid number, unable to parse string as a "
        "number (got 'soon'); fix the value's type")


def test_one_problem_is_shown_and_the_others_counted():
    assert error(HOST + 'mounts = 1\ncpu_sample = "x"\n').endswith(
        "fix the value's type (and 1 more problem)")
    assert error(HOST + 'mounts = 1\ncpu_sample = "x"\ndescription = 3\n').endswith(
        "fix the value's type (and 2 more problems)")


def test_a_missing_required_key_says_add_it():
    assert error('[[components]]\nkind = "host"\n') == (
        f"{PATH}: components[0].name: required key 'name' is missing; add it")


def test_a_kind_that_is_not_a_string_is_an_unknown_kind():
    assert error('[[components]]\nname = "h"\nkind = 3\n').startswith(
        f"{PATH}: components[0] (h).kind: unknown kind 3; use one of aws, backup, ")


def test_an_empty_system_name_says_name_it():
    assert error('[system]\nname = " "\n') == (
        f"{PATH}: system.name: name is empty; name the system (it labels every report)")


def test_one_unset_variable_is_the_error_of_its_key(monkeypatch):
    monkeypatch.delenv("OPSCHECK_T_UNSET1", raising=False)
    assert error(REDIS.format(name="r", var="OPSCHECK_T_UNSET1")) == (
        f"{PATH}: components[0] (r): environment variable OPSCHECK_T_UNSET1 (named by "
        "password_env) is not set; export OPSCHECK_T_UNSET1 before running, or remove "
        "password_env")


def test_every_unset_variable_is_named_in_one_error(monkeypatch):
    for var in ("OPSCHECK_T_UNSET1", "OPSCHECK_T_UNSET2"):
        monkeypatch.delenv(var, raising=False)
    assert error(REDIS.format(name="r", var="OPSCHECK_T_UNSET1")
                 + REDIS.format(name="s", var="OPSCHECK_T_UNSET2")) == (
        f"{PATH}: 2 environment variables are not set: OPSCHECK_T_UNSET1 (used by "
        "components[0] (r).password_env), OPSCHECK_T_UNSET2 (used by components[1] "
        "(s).password_env); export OPSCHECK_T_UNSET1 OPSCHECK_T_UNSET2 before running, or "
        "remove what uses them")


def test_one_variable_used_twice_is_one_variable_not_set(monkeypatch):
    monkeypatch.delenv("OPSCHECK_T_UNSET1", raising=False)
    assert error(REDIS.format(name="r", var="OPSCHECK_T_UNSET1")
                 + REDIS.format(name="s", var="OPSCHECK_T_UNSET1")).endswith(
        ": 1 environment variable is not set: OPSCHECK_T_UNSET1 (used by components[0] "
        "(r).password_env), OPSCHECK_T_UNSET1 (used by components[1] (s).password_env); "
        "export OPSCHECK_T_UNSET1 before running, or remove what uses it")


def test_a_plugin_table_is_allowed_only_when_a_plugin_declares_it():
    assert error("[remediation]\n").startswith(
        f"{PATH}: remediation: unknown table 'remediation'; allowed: components, probes, system")


def test_lookups_by_kind_and_name_and_the_names_never_masked(tmp_path):
    inv = inventory.parse(tomllib.loads(
        HOST + '[[components]]\nname = "f"\nkind = "files"\n'
               '[[components]]\nname = "h2"\nkind = "host"\n'), tmp_path / "inventory.toml")
    assert [c.name for c in inv.of_kind("host")] == ["h", "h2"]
    assert [c.name for c in inv] == ["h", "f", "h2"]
    assert inv.get("f").kind == "files" and inv.get("nope") is None
    names = inv.names()
    assert {"this-host", "h", "f", "h2", "host", "redis", "disk", "memory"} <= names


def test_paths_resolve_against_the_inventory_folder_unless_absolute(tmp_path, monkeypatch):
    monkeypatch.setenv("HOME", str(tmp_path / "home"))
    inv = inventory.parse({}, tmp_path / "site" / "inventory.toml")
    assert inv.resolve_path("backups") == tmp_path / "site" / "backups"
    assert inv.resolve_path("/var/backups") == Path("/var/backups")
    assert inv.resolve_path("~/backups") == tmp_path / "home" / "backups"


def test_an_inventory_without_tables_is_this_host_with_the_default_timeout():
    inv = inventory.parse({}, PATH)
    assert (inv.system.name, inv.system.timeout, inv.components) == ("this-host", 3.0, [])
    assert inv.section("probes") is None


def test_load_reads_the_file_and_names_it_in_errors(tmp_path):
    path = tmp_path / "inventory.toml"
    path.write_text(HOST)
    assert [c.name for c in inventory.load(path)] == ["h"]
    path.write_text("components = [1]\n")
    with pytest.raises(InventoryError, match=r"inventory.toml: components\[0\]: must be a "):
        inventory.load(str(path))


def test_an_unknown_key_in_a_list_of_tables_lists_that_tables_keys():
    assert error('[[components]]\nname = "w"\nkind = "http"\nurl = "http://127.0.0.1:1/"\n'
                 '[[components.expect_json]]\npath = "a"\nequal = 1\n') == (
        f"{PATH}: components[0] (w).expect_json.0.equal: unknown key 'equal'; allowed keys "
        "here: absent, equals, not_empty, path, present")


def test_a_key_the_models_cannot_place_points_to_the_readme():
    assert inventory._explain(inventory.System, {
        "type": "extra_forbidden", "msg": "extra", "loc": ("nope", "x"), "input": 1}) == (
        "unknown key 'x'; allowed keys here: see the README")


def test_a_validator_written_with_assert_shows_its_message_alone():
    assert inventory._explain(inventory.System, {
        "type": "assertion_error", "msg": "Assertion failed, x must be y", "loc": ("a",),
        "input": 1}) == "x must be y"


def test_an_unset_variable_with_its_own_message_is_the_error_of_its_key(monkeypatch):
    monkeypatch.delenv("OPSCHECK_T_UNSET1", raising=False)
    assert error('[[components]]\nname = "f"\nkind = "files"\n'
                 'exists = ["${OPSCHECK_T_UNSET1}/x"]\n') == (
        f"{PATH}: components[0] (f).exists: path '${{OPSCHECK_T_UNSET1}}/x' uses environment "
        "variable OPSCHECK_T_UNSET1, which is not set; export OPSCHECK_T_UNSET1 or write the "
        "path in full")


def test_an_unset_variable_of_a_nested_key_is_reported_under_its_table(monkeypatch):
    monkeypatch.delenv("OPSCHECK_T_UNSET1", raising=False)
    assert error(HOST + '[[components.commands]]\nname = "c"\nrun = ["true"]\n'
                 'env = { TOKEN = "OPSCHECK_T_UNSET1" }\n') == (
        f"{PATH}: components[0] (h).commands[c].env: environment variable OPSCHECK_T_UNSET1 "
        "(named by commands[c].env.TOKEN) is not set; export OPSCHECK_T_UNSET1 before running, "
        "or remove commands[c].env.TOKEN")


KINDS = ("aws, backup, docker, files, gpu, host, http, nats, postgres, prometheus, queue, "
         "redis, sqlite, tcp")
REMEDIATION = {"remediation": "opscheck.remediations.config:Remediation"}


@pytest.mark.parametrize(("text", "message"), [
    ('[components]\nname = "h"\n', "components: must be an array of tables: write each "
                                   "component under its own [[components]] header"),
    ('[[components]]\nname = "h"\n', f"components[0] (h).kind: missing; add kind = one of {KINDS}"),
    ('[[components]]\nname = "h"\nkind = "hots"\n',
     f"components[0] (h).kind: unknown kind 'hots'; use one of {KINDS}"),
    (HOST + HOST, "components[1] (h).name: duplicate component name 'h' (also components[0]); "
                  "give each component a unique name"),
    (HOST + 'password = "x"\n', "components[0].password: secret written inline; the inventory "
     "never holds secrets: name an environment variable instead (password_env = "
     "\"MY_PASSWORD\") and export it"),
])
def test_each_component_error_names_the_file_the_key_and_the_fix(text, message):
    assert error(text) == f"{PATH}: {message}"


def test_a_missing_inventory_says_how_to_name_one():
    with pytest.raises(InventoryError) as caught:
        inventory.load("/nonexistent/inventory.toml")
    assert str(caught.value) == ("/nonexistent/inventory.toml: inventory file not found; pass "
                                 "--inventory PATH or set OPSCHECK_INVENTORY to an existing file")


def test_a_plugins_table_is_validated_and_kept_under_its_name(tmp_path):
    path = tmp_path / "inventory.toml"
    path.write_text(HOST + "[remediation]\nbudget = 2\n")
    inv = inventory.load(path, REMEDIATION)
    assert inv.section("remediation").budget == 2
    path.write_text("[remediation]\nbudget = 0\n")
    with pytest.raises(InventoryError) as caught:
        inventory.load(path, REMEDIATION)
    assert str(caught.value) == (f"{path}: remediation.budget: input should be greater than or "
                                 "equal to 1 (got 0); set a value within the bound")


def test_a_plugins_table_resolves_its_paths_against_the_inventory_folder(tmp_path):
    path = tmp_path / "inventory.toml"
    path.write_text('[remediation]\nstate = "s.sqlite"\n[system]\nemergency_stop = "STOP"\n')
    section = inventory.load(path, REMEDIATION).section("remediation")
    assert section.state == str(tmp_path / "s.sqlite")
    assert section.emergency_stop == str(tmp_path / "STOP")  # the system's, as the default


def test_the_names_never_masked_include_each_components_items_and_thresholds(tmp_path):
    inv = inventory.parse(tomllib.loads(
        '[[components]]\nname = "w"\nkind = "http"\nurl = "http://127.0.0.1:1/"\n'
        '[[components.expect_json]]\npath = "status"\nequals = "ok"\n'
        '[[probes]]\nname = "queue-depth"\ncomponent = "db"\nquery = "select 1"\n'
        'critical = 5\n'
        '[[components]]\nname = "db"\nkind = "sqlite"\npath = "x.db"\n'), tmp_path / "i.toml")
    names = inv.names()
    assert {"w", "db", "this-host", "http", "sqlite"} <= names
    assert "queue-depth" in names  # a probe's name


def load_error(path: Path) -> str:
    with pytest.raises(InventoryError) as raised:
        inventory.load(path)
    return str(raised.value)


def test_a_path_that_cannot_be_opened_says_so_and_what_to_check(tmp_path):
    loop = tmp_path / "inventory.toml"
    loop.symlink_to(tmp_path / "other.toml")
    (tmp_path / "other.toml").symlink_to(loop)  # a loop: open fails, and not as "not found"
    assert load_error(loop) == (f"{loop}: cannot read the inventory (Too many levels of "
                                "symbolic links); check the path and its permissions")


def test_a_file_that_fails_while_read_says_so_and_what_to_check():
    mem = Path("/proc/self/mem")  # a regular file whose first read fails (EIO)
    assert load_error(mem) == (f"{mem}: cannot read the inventory (Input/output error); "
                               "check the path and its permissions")
