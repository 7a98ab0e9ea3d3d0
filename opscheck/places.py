"""Where an installed opscheck keeps its own files (no pytest).

The state folder holds what outlives a run: the remediation store and audit log (unless
the inventory's ``[remediation]`` names other paths) and pytest's cache. It is
``/var/lib/opscheck`` for root, and the user's XDG state folder otherwise
(``$XDG_STATE_HOME/opscheck``, by default ``~/.local/state/opscheck``); ``OPSCHECK_STATE_DIR``
overrides both.
"""

from __future__ import annotations

import os
from pathlib import Path

ROOT_STATE = Path("/var/lib/opscheck")


def state_dir() -> Path:
    """The state folder in force (not created here)."""
    if os.environ.get("OPSCHECK_STATE_DIR"):
        return Path(os.environ["OPSCHECK_STATE_DIR"]).expanduser()
    if hasattr(os, "geteuid") and os.geteuid() == 0:
        return ROOT_STATE
    from platformdirs import user_state_path

    return user_state_path("opscheck")
