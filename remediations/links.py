"""Symbolic links on the way to a folder a remediation writes in: found, and refused.

A remediation that deletes or moves files under a folder must not be led elsewhere by a link
planted on the way (``/srv/queue/ready -> /etc``). The actions refuse such a folder at load
and again as they run; this module finds the link and words the refusal.
"""

from __future__ import annotations

import os
from pathlib import Path


def symlink_on(folder: str) -> str | None:
    """The first symlink on the way from ``/`` to ``folder`` (itself included), or None."""
    walked = Path("/")
    for part in Path(os.path.abspath(folder)).parts[1:]:
        walked /= part
        if walked.is_symlink():
            return str(walked)
        if not walked.exists():
            return None
    return None


def link_refused(folder: str, link: str) -> str:
    """The one-line refusal for ``folder``, which ``link`` (a symlink) leads to."""
    return (f"folder {folder}: {link} is a symlink (refused: it could lead anywhere); write "
            f"the real path, {os.path.realpath(folder)}")
