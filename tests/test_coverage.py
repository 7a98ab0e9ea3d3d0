"""profiles/coverage.toml holds true: every audit item is in it, every check it lists is
collected by its runbook's profile, and every check a profile collects is listed (under an
item, or under ``[[extra]]`` with its reason); profiles/README.md shows its generated table.

Profiles are loaded as tests/test_profiles.py loads them (a dummy value for each variable)
and collected with ``--collect-only`` over every kind's checks: nothing is contacted.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from test_profiles import CHECK_DIRS, raw, variables

from opscheck import coverage

REPO = Path(__file__).resolve().parents[1]
PROFILES = REPO / "profiles"
#: the item ids of the runbook audit (runbook-coverage.md, measured at e87bd59): each must
#: have its entry in the table, whatever its verdict
AUDIT = {
    "wave": [*(f"W{n:02d}" for n in range(1, 50) if n not in (22, 23)),
             *(f"NA-W{n}" for n in range(1, 10))],
    "coding-loops": [*(f"C{n:02d}" for n in range(1, 23) if n != 8),
                     *(f"NA-C{n}" for n in range(1, 10))],
    "self-reflexive-orchestrator": [*(f"S{n:02d}" for n in range(1, 31)),
                                    *(f"NA-S{n}" for n in range(1, 12))],
    "t-developer-v2": [*(f"T{n:02d}" for n in range(1, 30)), *(f"NA-T{n}" for n in range(1, 6))],
    "agentic-factory": [*(f"A{n:02d}" for n in range(1, 70)),
                        *(f"NA-A{n}" for n in range(1, 17))],
}
#: the audit's N/A items: they may not be counted as expressed (a display is no check)
AUDIT_NA = {"S11", "S12", "S17", "S30", "T03", "T04", "T13", "A67", "A68", "A69"}
#: the share of checkable items each runbook's profile must express (the issue's bar)
MINIMUM = 90.0


@pytest.fixture(scope="module")
def table() -> coverage.Table:
    return coverage.load()


def collected(suite, monkeypatch: pytest.MonkeyPatch, profile: Path) -> set[str]:
    """The check ids ``profile`` collects, as the table writes them: paths relative to the
    profile's folder and ``${VAR}`` for a variable's (dummy) value."""
    dummies = {}
    for name in variables(raw(profile)):
        dummies[f"/tmp/opscheck-dummy-{name.lower()}"] = f"${{{name}}}"
        monkeypatch.setenv(name, f"/tmp/opscheck-dummy-{name.lower()}")
    result = suite.run("--collect-only", "-q", "--inventory", str(profile), checks=CHECK_DIRS,
                       inventory=False)
    assert result.ret == 0, result.stdout.str()
    folder = str(profile.parent)
    ids = set()
    for line in result.stdout.lines:
        if ".py::" not in line:
            continue
        check = line.split(".py::", 1)[1]
        check = check.replace(folder + "/", "").replace(folder, ".")
        for dummy, name in dummies.items():
            check = check.replace(dummy, name)
        ids.add(check)
    return ids


def test_every_audit_item_is_in_the_table(table):
    for runbook, ids in AUDIT.items():
        listed = {i.id for i in table.of(runbook)}
        missing = [i for i in ids if i not in listed]
        assert not missing, f"{runbook}: audit items missing from coverage.toml: {missing}"


def test_every_runbook_has_its_profile(table):
    assert set(table.runbooks) == set(AUDIT)
    for book in table.runbooks.values():
        assert (PROFILES / book.profile).is_file(), book.profile


def test_audit_na_items_are_not_counted_as_expressed(table):
    counted = [i.id for i in table.items if i.id in AUDIT_NA and i.checks]
    assert not counted, f"the audit's N/A items listed with checks: {counted}"


def test_every_reason_is_given(table):
    for item in table.items:
        reason = item.not_expressible or item.not_checkable
        assert item.checks or len(reason) >= 10, f"{item.id}: give the reason in words"


@pytest.mark.parametrize("runbook", list(AUDIT))
def test_the_profile_collects_what_the_table_lists(runbook, table, suite, monkeypatch):
    """Each listed check id is collected; each collected check is listed (item or extra)."""
    book = table.runbooks[runbook]
    ids = collected(suite, monkeypatch, PROFILES / book.profile)
    listed = table.listed(runbook)
    absent = sorted(c for c in listed if c not in ids)
    assert not absent, (f"{book.profile}: checks listed in coverage.toml but not collected "
                        f"(renamed or removed? fix the table): {absent}")
    unlisted = sorted(ids - set(listed))
    assert not unlisted, (f"{book.profile}: collected checks that no coverage.toml item or "
                          f"[[extra]] lists (add them where they belong): {unlisted}")


@pytest.mark.parametrize("runbook", list(AUDIT))
def test_the_profile_expresses_most_checkable_items(runbook, table):
    figures = coverage.figures(table, runbook)
    left = [i.id for i in table.of(runbook) if i.not_expressible]
    assert figures.percent >= MINIMUM, (
        f"{runbook}: {figures.expressed} of {figures.checkable} checkable items expressed "
        f"({figures.percent:.0f} % < {MINIMUM:.0f} %); not expressible: {left}")


def test_the_readme_shows_the_generated_table(table):
    readme = coverage.README.read_text(encoding="utf-8")
    assert coverage.updated(readme, table) == readme, (
        "profiles/README.md's coverage table is stale: run python -m opscheck.coverage --write")


def test_a_malformed_entry_is_refused_naming_it(tmp_path):
    path = tmp_path / "coverage.toml"
    path.write_text('[runbooks.w]\ntitle = "W"\nfile = "w.md"\nprofile = "w.toml"\n'
                    '[[items]]\nid = "W01"\nrunbook = "w"\nchecks = ["test_x[a]"]\n'
                    'not_checkable = "a procedure"\n')
    with pytest.raises(coverage.CoverageError, match=re.escape("items[0] (W01): give exactly one")):
        coverage.load(path)


def test_the_rendered_table_counts_verdicts(tmp_path):
    path = tmp_path / "coverage.toml"
    path.write_text('[runbooks.w]\ntitle = "W"\nfile = "w.md"\nprofile = "w.toml"\n'
                    '[[items]]\nid = "W01"\nrunbook = "w"\nchecks = ["test_x[a]"]\n'
                    '[[items]]\nid = "W02"\nrunbook = "w"\nnot_expressible = "no source"\n'
                    '[[items]]\nid = "W03"\nrunbook = "w"\nchecks = ["test_y[a]"]\n'
                    '[[items]]\nid = "W04"\nrunbook = "w"\nnot_checkable = "a procedure"\n')
    text = coverage.render(coverage.load(path))
    assert "| W (`w.md`) | `w.toml` | 2 | 1 | 3 | 67 % | 1 |" in text
    assert "- W02 (no source)" in text


def test_opscheck_init_offers_profiles_not_the_coverage_table(tmp_path):
    from click.testing import CliRunner

    from opscheck.subcommands import commands

    result = CliRunner().invoke(commands, ["init", "coverage", str(tmp_path / "x.toml")])
    assert result.exit_code == 4, result.output
    assert "no profile named 'coverage'" in result.output
    assert "coding-loops, self-reflexive-orchestrator, t-developer-v2, wave" in result.output
