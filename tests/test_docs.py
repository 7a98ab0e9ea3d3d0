"""The docs site: it builds with warnings as errors, and its generated reference is the code's."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from opscheck import docgen
from opscheck.kinds import KINDS, model_for

REPO = Path(__file__).resolve().parents[1]
DOCS = REPO / "docs"


@pytest.mark.parametrize("kind", sorted(KINDS))
def test_each_kinds_reference_lists_every_key_threshold_and_check(kind):
    page = docgen.kind_page(kind)
    model = model_for(kind)
    for name in set(model.model_fields) - docgen.COMMON - {"thresholds"}:
        assert f"`{name}`" in page, f"{kind}: key {name} missing from the reference"
    for name in model.model_fields.get("thresholds").annotation.model_fields \
            if "thresholds" in model.model_fields else ():
        assert f"`thresholds.{name}`" in page
    checks = list(docgen.checks_of(REPO / KINDS[kind].checks))
    assert checks
    for check in checks:
        assert f"`{check.name}`" in page and check.tier.startswith(("critical", "standard", "deep",
                                                                     "the entry"))


def test_every_marker_in_the_pages_renders_and_every_kind_has_its_section():
    text = "".join(p.read_text() for p in DOCS.glob("*.md"))
    markers = docgen.MARKER.findall(text)
    assert markers
    for name, arg in markers:
        assert docgen.render(name, arg or None)
    assert {arg for name, arg in markers if name == "kind"} == set(KINDS)
    assert not docgen.MARKER.search(docgen.expand(text))


def test_the_options_reference_lists_every_setting():
    from opscheck import settings

    table = docgen.render("options", None)
    for s in settings.SETTINGS.values():
        assert f"`{s.flag}`" in table


def test_every_page_is_in_the_nav():
    nav = (REPO / "mkdocs.yml").read_text()
    for page in DOCS.glob("*.md"):
        assert re.search(rf"\b{re.escape(page.name)}\b", nav), f"{page.name} not in the nav"


def test_the_site_builds_with_warnings_as_errors(tmp_path):
    mkdocs = shutil.which("mkdocs", path=str(Path(sys.executable).parent))
    assert mkdocs, "mkdocs is not installed: `make check` installs the test extra"
    done = subprocess.run([mkdocs, "build", "--strict", "--site-dir", str(tmp_path / "site")],
                          cwd=REPO, capture_output=True, text=True, timeout=180,
                          env={**os.environ, "NO_MKDOCS_2_WARNING": "1"})
    assert done.returncode == 0, done.stderr[-3000:]
    page = (tmp_path / "site" / "kinds" / "index.html").read_text()
    assert "test_redis_answers_ping" in page and "opscheck:kind" not in page
