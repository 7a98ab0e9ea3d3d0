"""Levels: a level that can never fire is refused at load, naming its key."""

from __future__ import annotations

import pytest

from opscheck.inventory import InventoryError
from opscheck.suite import load

HOST = '[[components]]\nname = "h"\nkind = "host"\n'
SQLITE = '[[components]]\nname = "db"\nkind = "sqlite"\npath = "x.db"\n'
PROM = '[[components]]\nname = "p"\nkind = "prometheus"\nurl = "http://127.0.0.1:1"\n'
PLACES = {
    "threshold": (HOST + "[components.thresholds.disk]\n{level} = {value}\n",
                  "components[0] (h).thresholds.disk.{level}"),
    "probe": (SQLITE + '[[probes]]\nname = "n"\ncomponent = "db"\nquery = "SELECT 1"\n'
              "{level} = {value}\n", "probes"),
    "promql": (PROM + '[[components.queries]]\nname = "q"\nexpr = "up"\n{level} = {value}\n',
               "components[0] (p).queries.0.{level}"),
}


@pytest.mark.parametrize("value", ["nan", "inf", "-inf", "+nan"])
@pytest.mark.parametrize("level", ["warning", "critical"])
@pytest.mark.parametrize("place", sorted(PLACES))
def test_a_non_finite_level_is_a_usage_error_naming_the_key(tmp_path, place, level, value):
    text, key = PLACES[place]
    path = tmp_path / "inventory.toml"
    path.write_text(text.format(level=level, value=value))
    with pytest.raises(InventoryError) as raised:
        load(path)
    message = str(raised.value)
    assert message.startswith(f"{path}: {key.format(level=level)}"), message
    assert "a level is a finite number" in message and "\n" not in message


def test_a_nan_critical_level_stops_the_run_in_one_line(suite):
    suite.inventory(HOST + "[components.thresholds.disk]\ncritical = nan\n")
    result = suite.run("-m", "critical")
    assert result.ret == 4
    result.stderr.fnmatch_lines(["ERROR: *inventory.toml: components?0? (h).thresholds.disk."
                                 "critical: a level is a finite number, not nan; *"])
    assert "Traceback" not in result.stderr.str()
