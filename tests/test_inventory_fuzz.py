"""Property-based fuzz of the inventory loader: whatever the file holds, loading it either
gives an inventory or one :class:`~opscheck.inventory.InventoryError` whose message is one
printable line naming the file (and the key, when a key is at fault). Never another
exception, never a traceback. Bounded (a few hundred examples) so the suite stays fast.
"""

from __future__ import annotations

import json
import math
import re
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from opscheck.inventory import InventoryError, load
from opscheck.kinds import KINDS, model_for
from opscheck.text import unsafe

FUZZ = settings(max_examples=150, deadline=None, database=None,
                suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture])

#: text with what hurts: control characters, escape sequences, quotes, URLs, variables
NASTY = st.one_of(
    st.text(max_size=30),
    st.sampled_from(["", " ", "\x1b[31m", "\r\nERROR: ok", "${OPSCHECK_FUZZ_UNSET}/x", "~/x",
                     "/", "..", "bogus://x", "ssh://", "http://[::1", "redis://:pw@h",
                     "http://h/?token=x", "host=h password\t=x", "\ufeff", "\u202e", "*.json",
                     "tcp://22", "local://", "nats://T@h", "-1", "nan"]),
)
SCALARS = st.one_of(NASTY, st.integers(-10**20, 10**20), st.booleans(),
                    st.floats(allow_nan=True, allow_infinity=True))
VALUES = st.recursive(SCALARS, lambda inner: st.one_of(
    st.lists(inner, max_size=3), st.dictionaries(NASTY, inner, max_size=3)), max_leaves=12)


def toml_value(value: object) -> str:
    """``value`` as a TOML inline value (JSON's string escapes are TOML's)."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float):
        if math.isnan(value):
            return "nan"
        if math.isinf(value):
            return "inf" if value > 0 else "-inf"
        return repr(value)
    if isinstance(value, int):
        return str(value)
    if isinstance(value, str):
        return json.dumps(value)
    if isinstance(value, list):
        return "[" + ", ".join(toml_value(v) for v in value) + "]"
    assert isinstance(value, dict)
    return "{" + ", ".join(f"{json.dumps(k)} = {toml_value(v)}" for k, v in value.items()) + "}"


@st.composite
def components(draw: st.DrawFn) -> str:
    """One [[components]] table: a real kind, some of its real keys, any values."""
    kind = draw(st.sampled_from(sorted(KINDS)))
    fields = sorted(model_for(kind).model_fields)
    keys = draw(st.lists(st.sampled_from(fields) | NASTY, max_size=4, unique=True))
    name = draw(st.sampled_from(["c", "c.1", ""]) | NASTY)
    lines = ["[[components]]", f"name = {json.dumps(name)}", f"kind = {json.dumps(kind)}"]
    lines += [f"{json.dumps(k)} = {toml_value(draw(VALUES))}" for k in keys
              if k not in ("name", "kind")]
    return "\n".join(lines) + "\n"


@st.composite
def inventories(draw: st.DrawFn) -> str:
    system = draw(st.dictionaries(st.sampled_from(["name", "timeout", "emergency_stop", "x"]),
                                  VALUES, max_size=3))
    head = "[system]\n" + "".join(f"{k} = {toml_value(v)}\n" for k, v in system.items())
    tables = draw(st.lists(components(), max_size=3))
    return head + "".join(tables)


def check(path: Path) -> None:
    """The property: an inventory, or one printable line naming the file (and a key)."""
    try:
        load(path)
    except InventoryError as exc:
        line = str(exc)
        assert "\n" not in line and "\r" not in line and not unsafe(line), line
        assert line.startswith(f"{path}: "), line
        if exc.key:
            assert f": {exc.key}: " in line, line
        else:  # only whole-file problems name no key
            assert re.search(r"TOML syntax|nested more than|environment variable|"
                             r"not UTF-8|larger than|regular file", line), line


@pytest.fixture
def path(tmp_path: Path) -> Path:
    return tmp_path / "inventory.toml"


@FUZZ
@given(source=inventories())
def test_any_inventory_loads_or_is_one_line_naming_the_key(path, source, monkeypatch):
    monkeypatch.delenv("OPSCHECK_FUZZ_UNSET", raising=False)
    path.write_text(source, encoding="utf-8")
    check(path)


@FUZZ
@given(data=st.binary(max_size=300) | st.text(max_size=300).map(str.encode))
def test_any_bytes_load_or_are_one_line(path, data):
    path.write_bytes(data)
    check(path)


@FUZZ
@given(depth=st.integers(1, 2000), opener=st.sampled_from(["[", "{a = ", "{a = ["]))
def test_any_nesting_loads_or_is_one_line(path, depth, opener):
    closer = "".join({"[": "]", "{": "}"}[c] for c in opener if c in "[{")[::-1]
    path.write_text('[[components]]\nname = "h"\nkind = "host"\ndescription = '
                    + opener * depth + "1" * ("=" in opener and "[" not in opener)
                    + closer * depth + "\n")
    check(path)
