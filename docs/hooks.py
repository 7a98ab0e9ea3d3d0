"""MkDocs hook: fill the reference pages' ``<!-- opscheck:… -->`` markers from the code.

The tables of kinds, keys, thresholds, checks and options are rendered by
:mod:`opscheck.docgen` at every build, so the published reference matches the code.
"""

from __future__ import annotations

from typing import Any

from opscheck.docgen import expand


def on_page_markdown(markdown: str, **_: Any) -> str:
    return expand(markdown)
