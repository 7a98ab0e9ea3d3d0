"""The inventory: a TOML file describing one deployment, validated into typed components.

Loading never raises a traceback at an operator: every problem becomes an
:class:`InventoryError` whose one line names the file, the key and the fix.
"""

from __future__ import annotations

import reprlib
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

from opscheck import kinds, secrets
from opscheck.components import Component, plain
from opscheck.kinds import KINDS, model_for
from opscheck.tomlfile import InventoryError, parse_toml, read_text

#: pydantic's errors for a value of the right type outside its bounds (not a type error)
BOUNDS = frozenset({"greater_than", "greater_than_equal", "less_than", "less_than_equal",
                    "too_short", "too_long", "finite_number"})
_REPR = reprlib.Repr()  # a value shown in an error: a few levels and items of it
_REPR.maxlevel, _REPR.maxstring, _REPR.maxother, _REPR.maxlist, _REPR.maxdict = 3, 80, 80, 6, 6


class System(BaseModel):
    """``[system]``: the deployment as a whole."""

    model_config = ConfigDict(extra="forbid")

    name: str = Field(default="this-host", description="the system's name, shown in reports")
    description: str = ""
    timeout: float = Field(default=3.0, gt=0, le=600,
                           description="default network timeout of every component, seconds")
    emergency_stop: str | None = Field(
        default=None, description="path of the file whose presence halts the system")
    checks: list[str] = Field(default_factory=list, description=(
        "folders of the site's own checks (test_*.py), collected with the suite's; relative "
        "to the inventory's folder"))

    @field_validator("name")
    @classmethod
    def _name(cls, value: str) -> str:
        if not value.strip():
            raise ValueError("name is empty; name the system (it labels every report)")
        return plain(value, "name")


#: the core's top-level tables besides [[components]]: name -> "module:Model". Plugins add
#: theirs (``pytest_opscheck_sections``: remediation, …); an unknown table is an error.
SECTIONS: dict[str, str] = {"system": "opscheck.inventory:System",
                            "probes": "opscheck.probes:Probes"}


@dataclass
class Inventory:
    path: Path
    system: System
    components: list[Component]
    sections: dict[str, Any] = field(default_factory=dict)

    def of_kind(self, kind: str) -> list[Component]:
        return [c for c in self.components if c.kind == kind]

    def get(self, name: str) -> Component | None:
        return next((c for c in self.components if c.name == name), None)

    def section(self, name: str) -> Any:
        return self.sections.get(name)

    def resolve_path(self, path: str | Path) -> Path:
        """A path from the inventory: absolute, or relative to the inventory file's folder."""
        p = Path(path).expanduser()
        return p if p.is_absolute() else (self.path.parent / p)

    def __iter__(self) -> Iterator[Component]:
        return iter(self.components)

    def names(self) -> set[str]:
        """The names this inventory shows in ids and reports (the system, components,
        kinds, thresholds, probes and the named items of components): never masked."""
        found = {self.system.name, *KINDS}
        for component in self.components:
            found.add(component.name)
            thresholds = getattr(component, "thresholds", None)
            found.update(type(thresholds).model_fields if thresholds is not None else ())
            for arg in component.ITEMS:
                found.update(n for n in (getattr(i, "name", None) for i in component.items(arg))
                             if isinstance(n, str))
        for section in self.sections.values():
            entries = getattr(section, "root", None)
            found.update(n for n in (getattr(e, "name", None) for e in entries or ())
                         if isinstance(n, str))
        return found


def load(path: Path | str, sections: dict[str, str] | None = None) -> Inventory:
    """Read and validate the inventory at ``path``; ``sections`` are the plugins' tables
    (name -> ``"module:Model"``) besides the core's. Raises :class:`InventoryError`."""
    path = Path(path)
    source = read_text(path, "inventory", "pass --inventory PATH or set OPSCHECK_INVENTORY "
                       "to an existing file")
    return parse(parse_toml(source, path), path, sections)


def parse(raw: dict[str, Any], path: Path, sections: dict[str, str] | None = None) -> Inventory:
    tables = {**SECTIONS, **(sections or {})}
    allowed = ["components", *tables]
    for key in raw:
        if key not in allowed:
            raise InventoryError(path, key, f"unknown table '{key}'; allowed: "
                                 f"{', '.join(sorted(allowed))}")
    for where in secrets.inline_secrets(raw):
        raise InventoryError(path, where, "secret written inline; the inventory never holds "
                             "secrets: name an environment variable instead (password_env = "
                             "\"MY_PASSWORD\") and export it")
    unset: list[tuple[str, str, str, bool]] = []  # every unset variable, reported at once
    system = validate(System, raw.get("system", {}), path, "system", {"unset": unset})
    base = {"base": path.parent, "system": system, "unset": unset}
    components = _components(raw.get("components", []), path,
                             {**base, "entries": raw.get("components", [])})  # raw, for references
    loaded = {}
    for name, spec in tables.items():
        if name != "system" and name in raw:
            loaded[name] = validate(kinds.load(spec), raw[name], path, name,
                                    {**base, "components": components})
    if unset:
        raise _unset(path, unset)
    return Inventory(path=path, system=system, components=components, sections=loaded)


def _unset(path: Path, unset: list[tuple[str, str, str, bool]]) -> InventoryError:
    """One error naming every environment variable the inventory uses that is not set:
    ``unset`` holds (variable, key, the error for it alone, whether that error goes under
    the key or under its table)."""
    if len(unset) == 1:
        (_, key, problem, keyed), = unset
        return InventoryError(path, key if keyed else key.rpartition(".")[0], problem)
    names = sorted({var for var, *_ in unset})
    listed = ", ".join(f"{var} (used by {key})" for var, key, *_ in unset)
    many = len(names) > 1
    return InventoryError(path, "", f"{len(names)} environment variable{'s' if many else ''} "
                          f"{'are' if many else 'is'} not set: {listed}; export "
                          f"{' '.join(names)} before running, or remove what uses "
                          f"{'them' if many else 'it'}")


def _components(entries: Any, path: Path, context: dict[str, Any]) -> list[Component]:
    if not isinstance(entries, list):
        raise InventoryError(path, "components", "must be an array of tables: write each "
                             "component under its own [[components]] header")
    seen: dict[str, int] = {}
    result: list[Component] = []
    for i, entry in enumerate(entries):
        where = f"components[{i}]"
        if not isinstance(entry, dict):
            raise InventoryError(path, where, "must be a table with name and kind")
        label = f"{where} ({entry['name']})" if isinstance(entry.get("name"), str) else where
        kind = entry.get("kind")
        if kind is None:
            raise InventoryError(path, f"{label}.kind", "missing; add kind = one of "
                                 f"{', '.join(sorted(KINDS))}")
        if not isinstance(kind, str) or kind not in KINDS:
            raise InventoryError(path, f"{label}.kind", f"unknown kind {kind!r}; use one of "
                                 f"{', '.join(sorted(KINDS))}")
        component = validate(model_for(kind), entry, path, label, context)
        if component.name in seen:
            raise InventoryError(path, f"{label}.name", f"duplicate component name "
                                 f"{component.name!r} (also components[{seen[component.name]}]); "
                                 "give each component a unique name")
        seen[component.name] = i
        result.append(component)
    by_name = {c.name: c for c in result}
    for component in result:
        component.link(by_name)
    return result


def validate(model: type[BaseModel], data: Any, path: Path, where: str,
             context: dict[str, Any]) -> Any:
    """``data`` validated by ``model``; its first error as an :class:`InventoryError` naming
    ``path`` and the key under ``where``. Unset environment variables the model's
    validators note (:func:`opscheck.components.unset`) go to ``context["unset"]`` with
    their keys when the caller collects them there; else the first is the error."""
    noted: list[tuple[str, str, str, bool]] = []
    try:
        value = model.model_validate(data, context={**context, "unset": noted})
    except ValidationError as exc:
        errors = exc.errors(include_url=False)
        first = errors[0]
        loc = [str(p) for p in first["loc"]]
        key = ".".join([where, *loc]) if loc else where
        problem = _explain(model, first)
        if len(errors) > 1:
            problem += f" (and {len(errors) - 1} more problem{'s' if len(errors) > 2 else ''})"
        raise InventoryError(path, key, problem) from None
    found = [(var, f"{where}.{field}", problem, keyed) for var, field, problem, keyed in noted]
    if "unset" in context:
        context["unset"].extend(found)
    elif found:
        raise _unset(path, found[:1])
    return value


def _explain(model: type[BaseModel], error: Any) -> str:
    kind, msg, loc = error["type"], error["msg"], error["loc"]
    if kind == "extra_forbidden":
        parent = _model_at(model, loc[:-1])
        allowed = ", ".join(sorted(parent.model_fields)) if parent else "see the README"
        return f"unknown key {loc[-1]!r}; allowed keys here: {allowed}"
    if kind == "missing":
        return f"required key {loc[-1]!r} is missing; add it"
    if kind in ("value_error", "assertion_error"):
        return msg.removeprefix("Value error, ").removeprefix("Assertion failed, ")
    got = _REPR.repr(error.get("input"))
    fix = "set a value within the bound" if kind in BOUNDS else "fix the value's type"
    return f"{msg[0].lower()}{msg[1:]} (got {got}); {fix}"


def _model_at(model: type[BaseModel], loc: tuple[Any, ...]) -> type[BaseModel] | None:
    """The model class that owns the key at ``loc`` (for listing the allowed keys)."""
    current: Any = model
    for part in loc:
        if isinstance(part, int) or not (isinstance(current, type)
                                         and issubclass(current, BaseModel)):
            continue
        info = current.model_fields.get(str(part))
        if info is None:
            return None
        current = info.annotation
        args = getattr(current, "__args__", ())
        nested = [a for a in args if isinstance(a, type) and issubclass(a, BaseModel)]
        if nested:
            current = nested[0]
    return current if isinstance(current, type) and issubclass(current, BaseModel) else None

