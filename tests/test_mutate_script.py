"""scripts/mutate's arithmetic: the score per module, equivalent mutants left out, a timeout
counted as killed, a survivor's verdict forgotten for --keep (no mutmut run here)."""

from __future__ import annotations

import importlib.machinery
import importlib.util
import json
import tomllib

from conftest import REPO


def script():
    loader = importlib.machinery.SourceFileLoader("mutate_script", str(REPO / "scripts/mutate"))
    spec = importlib.util.spec_from_loader("mutate_script", loader)
    module = importlib.util.module_from_spec(spec)
    loader.exec_module(module)
    return module


def test_the_score_is_killed_over_mutants_less_equivalent_ones():
    mutate = script()
    codes = {"opscheck.a.x_f__mutmut_1": 1, "opscheck.a.x_f__mutmut_2": 0,
             "opscheck.a.x_f__mutmut_3": 36, "opscheck.a.x_f__mutmut_4": 0,
             "opscheck.b.xǁCǁm__mutmut_1": 33, "opscheck.b.xǁCǁm__mutmut_2": 1}
    rows = mutate.table(codes, {"opscheck.a.x_f__mutmut_4": "same output"})
    assert rows == [("opscheck.a", "4", "1", "2", "66.7"), ("opscheck.b", "2", "0", "1", "50.0")]


def test_keep_forgets_the_survivors_verdicts_and_keeps_the_kills(tmp_path, monkeypatch):
    mutate = script()
    monkeypatch.setattr(mutate, "MUTANTS", tmp_path)
    meta = tmp_path / "opscheck" / "a.py.meta"
    meta.parent.mkdir()
    meta.write_text(json.dumps({"exit_code_by_key": {"k1": 1, "k2": 0, "k3": 33, "k4": 36}}))
    mutate.retry_survivors()
    assert json.loads(meta.read_text())["exit_code_by_key"] == {
        "k1": 1, "k2": None, "k3": None, "k4": 36}
    assert mutate.results() == {"k1": 1, "k2": None, "k3": None, "k4": 36}


def test_every_equivalent_mutant_is_excused_with_a_reason():
    data = tomllib.loads((REPO / "tests" / "mutation" / "equivalent.toml").read_text())
    for entry in data.get("equivalent", []):
        assert set(entry) == {"mutant", "reason"}, entry
        assert entry["mutant"].startswith("opscheck.") and len(entry["reason"]) > 20, entry
