"""The profiles' coverage table (``profiles/coverage.toml``): which checks express each item
of the five runbooks, and the percentages ``profiles/README.md`` shows.

Every item of the runbook audit (ids ``W01``, ``C01``, ``S01``, ``T01``, ``A01``, ``NA-W1``,
…) is one ``[[items]]`` entry of the table, with exactly one of:

- ``checks``: the check ids (``test_NAME[component:item]``) that express it in its runbook's
  profile (paths relative to the profile's folder, ``${VAR}`` for a variable's value);
- ``not_expressible``: why the profile cannot check it (a fact the runbook does not give,
  a capability the suite lacks);
- ``not_checkable``: why it is no checkable item (a procedure, a human review, a display
  with no level and no source).

``[[extra]]`` entries list the checks a profile collects that no runbook item asked for
(the kinds' defaults, derived checks), each group with its justification. The self-test
(``tests/test_coverage.py``) collects every profile and holds the table to what is
collected. Coverage of a runbook = expressed / (expressed + not expressible).

``python -m opscheck.coverage`` prints the README's table; ``--write`` rewrites it between
the README's ``<!-- opscheck:coverage -->`` and ``<!-- /opscheck:coverage -->`` markers.
"""

from __future__ import annotations

import re
import sys
import tomllib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

PROFILES = Path(__file__).resolve().parent / "profiles"
TABLE = PROFILES / "coverage.toml"
README = PROFILES / "README.md"
BEGIN, END = "<!-- opscheck:coverage -->", "<!-- /opscheck:coverage -->"
VERDICTS = ("checks", "not_expressible", "not_checkable")


class CoverageError(ValueError):
    """The table is malformed; ``str()`` names the entry and the fix."""


@dataclass(frozen=True)
class Item:
    id: str
    runbook: str
    lines: str
    what: str
    checks: tuple[str, ...] = ()
    not_expressible: str = ""
    not_checkable: str = ""

    @property
    def verdict(self) -> str:
        return next(v for v in VERDICTS if getattr(self, v))


@dataclass(frozen=True)
class Extra:
    profile: str
    why: str
    checks: tuple[str, ...]


@dataclass(frozen=True)
class Runbook:
    key: str
    title: str
    file: str
    profile: str


@dataclass
class Table:
    runbooks: dict[str, Runbook]
    items: list[Item]
    extras: list[Extra] = field(default_factory=list)

    def of(self, runbook: str) -> list[Item]:
        return [i for i in self.items if i.runbook == runbook]

    def listed(self, runbook: str) -> dict[str, list[str]]:
        """Check id -> the item ids (or ``extra``) that list it, in one runbook's profile."""
        found: dict[str, list[str]] = {}
        for item in self.of(runbook):
            for check in item.checks:
                found.setdefault(check, []).append(item.id)
        for extra in self.extras:
            if extra.profile == runbook:
                for check in extra.checks:
                    found.setdefault(check, []).append("extra")
        return found


def load(path: Path = TABLE) -> Table:
    """The table at ``path``; CoverageError naming the entry when one is malformed."""
    data: dict[str, Any] = tomllib.loads(path.read_text(encoding="utf-8"))
    runbooks = {key: Runbook(key, v["title"], v["file"], v["profile"])
                for key, v in data.get("runbooks", {}).items()}
    items: list[Item] = []
    seen: set[str] = set()
    for n, raw in enumerate(data.get("items", [])):
        where = f"{path.name}: items[{n}] ({raw.get('id', '?')})"
        if raw.get("runbook") not in runbooks:
            raise CoverageError(f"{where}: runbook {raw.get('runbook')!r} is not one of "
                                f"{', '.join(runbooks)}; name its [runbooks.KEY]")
        given = [v for v in VERDICTS if raw.get(v)]
        if len(given) != 1:
            raise CoverageError(f"{where}: give exactly one of {', '.join(VERDICTS)} "
                                f"(found {', '.join(given) or 'none'})")
        if raw["id"] in seen:
            raise CoverageError(f"{where}: id listed twice; keep one entry per item")
        seen.add(raw["id"])
        items.append(Item(id=raw["id"], runbook=raw["runbook"], lines=str(raw.get("lines", "")),
                          what=raw.get("item", ""), checks=tuple(raw.get("checks", ())),
                          not_expressible=raw.get("not_expressible", ""),
                          not_checkable=raw.get("not_checkable", "")))
    extras = []
    for n, raw in enumerate(data.get("extra", [])):
        if not raw.get("why") or not raw.get("checks"):
            raise CoverageError(f"{path.name}: extra[{n}]: give checks and why (the reason "
                                "the profile keeps checks no runbook item asked for)")
        if raw.get("profile") not in runbooks:
            raise CoverageError(f"{path.name}: extra[{n}]: profile {raw.get('profile')!r} is "
                                f"not one of {', '.join(runbooks)} (the [runbooks.KEY])")
        extras.append(Extra(raw["profile"], raw["why"], tuple(raw["checks"])))
    return Table(runbooks, items, extras)


@dataclass(frozen=True)
class Figures:
    expressed: int
    not_expressible: int
    not_checkable: int

    @property
    def checkable(self) -> int:
        return self.expressed + self.not_expressible

    @property
    def percent(self) -> float:
        return 100.0 * self.expressed / self.checkable if self.checkable else 100.0


def figures(table: Table, runbook: str) -> Figures:
    items = table.of(runbook)
    count = {v: sum(1 for i in items if i.verdict == v) for v in VERDICTS}
    return Figures(count["checks"], count["not_expressible"], count["not_checkable"])


def render(table: Table) -> str:
    """The README's coverage table, one row per runbook and a total."""
    rows = ["| runbook | profile | expressed | not expressible | checkable | coverage "
            "| not checkable |", "| --- | --- | ---: | ---: | ---: | ---: | ---: |"]
    total = Figures(0, 0, 0)
    for key, book in table.runbooks.items():
        f = figures(table, key)
        total = Figures(total.expressed + f.expressed,
                        total.not_expressible + f.not_expressible,
                        total.not_checkable + f.not_checkable)
        rows.append(f"| {book.title} (`{book.file}`) | `{book.profile}` | {f.expressed} "
                    f"| {f.not_expressible} | {f.checkable} | {f.percent:.0f} % "
                    f"| {f.not_checkable} |")
    rows.append(f"| **all five** | | **{total.expressed}** | **{total.not_expressible}** "
                f"| **{total.checkable}** | **{total.percent:.0f} %** "
                f"| **{total.not_checkable}** |")
    missing = [f"{i.id} ({i.not_expressible})" for i in table.items if i.not_expressible]
    lines = ["", *rows, ""]
    if missing:
        lines += ["Not expressible:", "", *(f"- {m}" for m in missing), ""]
    return "\n".join(lines)


def updated(readme: str, table: Table) -> str:
    """``readme`` with its coverage block replaced by the rendered table."""
    pattern = re.compile(re.escape(BEGIN) + r".*?" + re.escape(END), re.DOTALL)
    if not pattern.search(readme):
        raise CoverageError(f"{README.name}: no {BEGIN} … {END} block; add the two markers "
                            "where the table belongs")
    return pattern.sub(lambda _: BEGIN + render(table) + END, readme, count=1)


def main(argv: list[str]) -> int:
    table = load()
    if "--write" in argv:
        README.write_text(updated(README.read_text(encoding="utf-8"), table), encoding="utf-8")
        print(f"{README}: coverage table written")
    else:
        print(render(table))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
