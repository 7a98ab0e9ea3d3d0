"""The kind registry is the one place a kind is declared: everything else agrees with it."""

from __future__ import annotations

import ast
import subprocess
import sys
from pathlib import Path

import pytest

from opscheck.components import Component
from opscheck.kinds import KINDS, model_for, target_for

REPO = Path(__file__).resolve().parents[1]
NOT_KINDS = {"probes"}  # check folders that are not a kind: the inventory's [[probes]]


def _modules(folder: str) -> set[str]:
    return {p.stem if p.is_file() else p.name for p in (REPO / folder).iterdir()
            if not p.name.startswith("_") and (p.suffix == ".py" or (p / "__init__.py").exists())}


@pytest.mark.parametrize("kind", sorted(KINDS))
def test_each_registered_kind_has_its_model_target_and_checks(kind):
    model = model_for(kind)
    assert issubclass(model, Component) and model.model_fields["kind"].default == kind
    target = target_for(kind)
    assert callable(getattr(target, "open", None)), f"{target} has no open(component)"
    checks = REPO / KINDS[kind].checks
    files = sorted(checks.glob("test_*.py"))
    assert files, f"{checks} holds no test_*.py checks"
    fixture = f"{kind}_component"
    uses = [f for f in files if fixture in f.read_text()]
    assert uses, f"no check under {checks} asks for the {fixture} fixture"


def test_every_model_target_and_check_folder_is_registered():
    assert _modules("opscheck/components") == set(KINDS)
    assert _modules("opscheck/targets") == set(KINDS)
    folders = {p.name for p in (REPO / "checks").iterdir()
               if p.is_dir() and p.name != "__pycache__"}
    assert folders - NOT_KINDS == set(KINDS)


def test_each_check_is_marked_with_the_kind_of_its_folder():
    for kind in KINDS:
        for path in (REPO / KINDS[kind].checks).glob("test_*.py"):
            tree = ast.parse(path.read_text())
            for fn in (n for n in tree.body if isinstance(n, ast.FunctionDef)
                       and n.name.startswith("test_")):
                marks = {ast.unparse(d) for d in fn.decorator_list}
                assert f"pytest.mark.{kind}" in marks, f"{path.name}::{fn.name} lacks its kind"


def test_models_and_targets_import_without_pytest():
    names = [KINDS[k].model.partition(":")[0] for k in KINDS]
    names += [KINDS[k].target.partition(":")[0] for k in KINDS]
    names += ["opscheck.inventory", "opscheck.probes", "opscheck.thresholds", "opscheck.errors",
              "opscheck.secrets", "opscheck.suite", "opscheck.remediations.config",
              "opscheck.remediations.runner"]
    code = (f"import importlib, sys\nfor n in {names!r}: importlib.import_module(n)\n"
            "print(sorted(m for m in sys.modules if m == 'pytest' or m.startswith('_pytest')))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         check=True, timeout=120).stdout
    assert out.strip() == "[]"


def test_adding_a_kind_takes_the_four_files_and_one_line_the_contributor_page_says():
    """The tcp kind is the contributor page's example: no production file but its own four
    and the registry names it."""
    own = {"opscheck/components/tcp.py", "opscheck/targets/tcp.py", "checks/tcp/__init__.py",
           "checks/tcp/test_tcp.py"}
    page = (REPO / "docs" / "adding-a-kind.md").read_text()
    assert "four new files and one line" in page
    assert all(f"opscheck:source {path}" in page for path in own - {"checks/tcp/__init__.py"})
    assert all((REPO / path).exists() for path in own)
    mentions = set()
    for folder in ("opscheck", "fixtures", "checks", "remediations"):
        for path in (REPO / folder).rglob("*.py"):
            if path.is_relative_to(REPO / "opscheck" / "checks") or \
                    path.is_relative_to(REPO / "opscheck" / "fixtures") or \
                    path.is_relative_to(REPO / "opscheck" / "remediations"):
                continue  # the same files, seen through opscheck/'s links
            text = path.read_text()
            if "TcpComponent" in text or "TcpTarget" in text or "tcp_component" in text \
                    or '("tcp",' in text:
                mentions.add(str(path.relative_to(REPO)))
    assert mentions == own - {"checks/tcp/__init__.py"} | {"opscheck/kinds.py"}
