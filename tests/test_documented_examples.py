"""The examples the README and the docs show, taken from their text and run: the waiver of a
parametrized check, one component's checks selected by its marker, the Nagios commands run
from another folder (docs/recipes, run by tests/test_install.py). An example edited in the
docs is the example tested."""

from __future__ import annotations

import datetime as dt
import json
import re
import tomllib
from pathlib import Path

from test_component_selection import REDIS, ids

DOCS = Path(__file__).resolve().parents[1] / "docs"
README = DOCS.parent / "README.md"


def block(page: Path, heading: str, language: str) -> str:
    """The first fenced ``language`` block after ``heading`` on ``page``."""
    text = page.read_text()
    after = text[text.index(heading):]
    found = re.search(rf"```{language}\n(.*?)```", after, re.S)
    assert found, f"{page.name}: no {language} block after {heading!r}"
    return found.group(1)


CPU_CHECKS = '''
import pytest

from opscheck.thresholds import Threshold


@pytest.mark.standard
@pytest.mark.host
@pytest.mark.parametrize("host", ["batch-host", "batch-host-2"])
def test_cpu_busy(measure, host):
    measure("cpu busy", 97, Threshold(warning=70, critical=85, unit="%"), component=host)
'''


def test_the_documented_waiver_waives_the_one_check_it_names(suite):
    example = block(DOCS / "reports.md", "## Waivers", "toml")
    expires = tomllib.loads(example)["waivers"][0]["expires"]
    suite.inventory('[system]\nname = "demo"\n')
    (suite.path / "waivers.toml").write_text(example)
    suite.pytester.makepyfile(test_cpu=CPU_CHECKS)
    result = suite.run_files("--waivers", "waivers.toml", "--report-json", "s.json")
    states = {c["params"]: c["state"]
              for c in json.loads((suite.path / "s.json").read_text())["checks"]}
    if dt.date.today() <= expires:  # the example's date not yet past: it waives
        assert states == {"batch-host": "waived", "batch-host-2": "failed"}, states
    else:  # past it: it fails loudly, as the page says next
        assert states == {"batch-host": "failed", "batch-host-2": "failed"}, states
        result.stdout.fnmatch_lines(["*opscheck: EXPIRED WAIVERS*"])


def test_the_documented_component_selection_picks_one_component_and_its_probes(suite,
                                                                              tmp_path):
    shown = re.findall(r'-m "(component\(name=\'wave-redis\'\))"',
                       (DOCS / "getting-started.md").read_text())
    assert shown, "docs/getting-started.md no longer shows the component selection"
    assert re.search(r'-m "component\(name=\'bus\'\)"', README.read_text())  # the same form
    suite.inventory(REDIS.format(port=1, folder=tmp_path))
    chosen = ids(suite.run("--collect-only", "-q", "-m", shown[0],
                           checks=("redis", "backup", "probes")))
    assert chosen and all(i.endswith("[wave-redis]") or "[wave-redis:" in i for i in chosen)
    assert "test_probe[wave-redis:queue-depth]" in chosen  # its probes included
    assert not [i for i in chosen if "wave-redis-backup" in i]


def test_every_nagios_command_the_docs_show_is_the_tested_recipe():
    recipe = set((DOCS / "recipes" / "nrpe.cfg").read_text().splitlines())
    shown = [line for page in [README, *DOCS.glob("*.md")]
             for line in page.read_text().splitlines() if line.startswith("command[")]
    assert shown, "no NRPE command in the docs"
    assert [line for line in shown if line not in recipe] == []
