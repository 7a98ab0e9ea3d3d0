"""The docs site's reference, generated from the code so that it cannot drift.

Pages under ``docs/`` hold markers that the MkDocs hook (``docs/hooks.py``) replaces with
what this module renders, at every build:

- ``<!-- opscheck:kind NAME -->``: the kind's keys (from its model's fields and their
  ``description``), its thresholds (levels, unit, direction and action, from the model's
  defaults) and its checks (tier, item, and the first paragraph of each check's docstring);
- ``<!-- opscheck:system -->`` and ``<!-- opscheck:component -->``: the keys of ``[system]``
  and those every component has;
- ``<!-- opscheck:options -->``: every setting (option, ini key, variable, default, help);
- ``<!-- opscheck:kinds -->``: the list of kinds;
- ``<!-- opscheck:source PATH -->``: a file of the checkout, as a code block.

The checks are read with :mod:`ast` (never imported), so rendering runs no check.
"""

from __future__ import annotations

import ast
import re
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from pydantic import BaseModel
from pydantic.fields import FieldInfo
from pydantic_core import PydanticUndefined

from opscheck.components import Component
from opscheck.kinds import KINDS, model_for
from opscheck.thresholds import Threshold, Thresholds, show

CHECKS = Path(__file__).resolve().parent / "checks"
TIERS = ("critical", "standard", "deep")
MARKER = re.compile(r"<!-- opscheck:(\w+)(?: ([\w./@-]+))? -->")
LANGUAGES = {".py": "python", ".service": "ini", ".timer": "ini", ".conf": "text",
             ".cfg": "ini", ".cron": "text", ".toml": "toml"}
ROOT = Path(__file__).resolve().parent.parent  # the checkout (the site is built from it)
COMMON = set(Component.model_fields)


@dataclass(frozen=True)
class Check:
    name: str
    tier: str
    kind: str
    args: tuple[str, ...]
    doc: str
    file: str


def checks_of(folder: Path) -> Iterator[Check]:
    """The checks defined in ``folder``'s test files, in file and source order."""
    for path in sorted(folder.glob("test_*.py")):
        tree = ast.parse(path.read_text(encoding="utf-8"))
        for node in tree.body:
            if not (isinstance(node, ast.FunctionDef) and node.name.startswith("test_")):
                continue
            marks = [ast.unparse(d).removeprefix("pytest.mark.") for d in node.decorator_list]
            tier = next((t for t in TIERS if t in marks), "the entry's `tier`")
            kind = next((m for m in marks if m in KINDS), "")
            doc = (ast.get_docstring(node) or "").split("\n\n")[0].replace("\n", " ")
            yield Check(node.name, tier, kind, tuple(a.arg for a in node.args.args), doc,
                        f"{folder.name}/{path.name}")


def _cell(text: str) -> str:
    return text.replace("|", "\\|").replace("\n", " ")


def default_text(info: FieldInfo) -> str:
    """A field's default as the inventory would write it, or ``required``."""
    if info.is_required():
        return "required"
    value = info.get_default(call_default_factory=True)
    if value is None or value is PydanticUndefined or type(value) is object:  # a sentinel
        return "none"
    if isinstance(value, BaseModel):
        return "see below" if isinstance(value, Thresholds) else "(table)"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, str):
        return f'`"{value}"`'
    if isinstance(value, list | tuple):
        return "`[" + ", ".join(f'"{v}"' if isinstance(v, str) else str(v) for v in value) + "]`"
    return f"`{value}`"


def _nested(annotation: Any) -> type[BaseModel] | None:
    """The model a field holds (itself, or the items of its list), if any."""
    for candidate in (annotation, *getattr(annotation, "__args__", ())):
        if isinstance(candidate, type) and issubclass(candidate, BaseModel):
            return candidate
        inner = getattr(candidate, "__args__", ())
        found = next((a for a in inner if isinstance(a, type) and issubclass(a, BaseModel)),
                     None)
        if found is not None:
            return found
    return None


def key_rows(model: type[BaseModel], prefix: str = "", skip: set[str] | None = None
             ) -> Iterator[tuple[str, str, str]]:
    """(key, default, meaning) for every field of ``model``, nested tables flattened."""
    for name, info in model.model_fields.items():
        if name in (skip or set()):
            continue
        nested = _nested(info.annotation)
        if nested is not None and issubclass(nested, Thresholds):
            continue  # rendered in the thresholds table
        key = f"{prefix}{name}"
        yield f"`{key}`", default_text(info), _cell(info.description or "")
        if nested is not None:
            many = "list" in str(info.annotation).lower()
            yield from key_rows(nested, f"{key}[]." if many else f"{key}.")


def threshold_rows(model: type[BaseModel]) -> Iterator[tuple[str, ...]]:
    for name, info in model.model_fields.items():
        nested = _nested(info.annotation)
        if nested is None or not issubclass(nested, Thresholds):
            continue
        for level, linfo in nested.model_fields.items():
            t = linfo.get_default(call_default_factory=True)
            if not isinstance(t, Threshold):
                continue
            sign = "≥" if t.direction == "above" else "≤"
            yield (f"`{name}.{level}`", show(t.warning, t.unit), show(t.critical, t.unit), sign,
                   _cell(t.action or ""))


def table(head: tuple[str, ...], rows: Sequence[tuple[str, ...]]) -> str:
    lines = ["| " + " | ".join(head) + " |", "|" + " --- |" * len(head)]
    lines += ["| " + " | ".join(row) + " |" for row in rows]
    return "\n".join(lines)


def kind_page(kind: str) -> str:
    """The generated part of one kind's section: keys, thresholds, checks."""
    model = model_for(kind)
    parts = []
    keys = list(key_rows(model, skip=COMMON))
    if keys:
        parts.append(table(("key", "default", "meaning"), keys))
    levels = list(threshold_rows(model))
    if levels:
        parts.append("Thresholds (`[components.thresholds.NAME]`: `warning`, `critical`, "
                     "`direction`, `unit`, `action`; levels are inclusive):\n\n"
                     + table(("threshold", "warning", "critical", "fails when value",
                              "action"), levels))
    items = {arg: field for arg, field in model.ITEMS.items()}
    rows = []
    for check in checks_of(CHECKS / kind):
        item = next((items[a] for a in check.args if a in items), None)
        name = f"`{check.name}`" + (f" (per `{item}` entry)" if item else "")
        rows.append((name, check.tier, _cell(check.doc)))
    parts.append(table(("check", "tier", "what it checks"), rows))
    return "\n\n".join(parts)


def kinds_list() -> str:
    return table(("kind", "what it is"), [(f"[`{k.name}`](kinds.md#kind-{k.name})", k.help)
                                          for k in KINDS.values()])


def options_table() -> str:
    from opscheck import (
        reporting,  # noqa: F401
        settings,  # the settings of every plugin are declared at import
        waivers,  # noqa: F401
    )
    from opscheck.remediations import plugin  # noqa: F401

    rows = []
    for s in settings.SETTINGS.values():
        ini = "—" if s.cli_only else f"`{s.ini_key}`"
        env = "—" if s.cli_only else f"`{s.env_var}`"
        default = "none" if s.default in (None, ()) else f"`{s.default}`"
        rows.append((f"`{s.flag}`", ini, env, default, _cell(s.help)))
    return table(("option", "ini key", "environment", "default", "meaning"), rows)


def render(name: str, arg: str | None) -> str:
    from opscheck.inventory import System

    if name == "kind" and arg in KINDS:
        return kind_page(arg)
    if name == "kinds":
        return kinds_list()
    if name == "system":
        return table(("key", "default", "meaning"), list(key_rows(System)))
    if name == "component":
        return table(("key", "default", "meaning"), list(key_rows(Component)))
    if name == "options":
        return options_table()
    if name == "source" and arg:
        language = LANGUAGES.get(Path(arg).suffix, "text")
        text = (ROOT / arg).read_text(encoding="utf-8").rstrip()
        return f"`{arg}`:\n\n```{language}\n{text}\n```"
    raise KeyError(f"unknown docs marker opscheck:{name} {arg or ''}".strip())


def expand(markdown: str) -> str:
    """``markdown`` with every ``<!-- opscheck:… -->`` marker replaced by its rendering."""
    return MARKER.sub(lambda m: render(m.group(1), m.group(2)), markdown)
