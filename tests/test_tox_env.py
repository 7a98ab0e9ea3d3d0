"""tox passes on every variable the profiles need: ${VARS} in their paths and *_env secrets."""

from __future__ import annotations

import configparser
import re
from fnmatch import fnmatchcase

from conftest import REPO

NAMED = re.compile(r"\$\{([A-Za-z_][A-Za-z0-9_]*)\}|_env\s*=\s*\"([A-Za-z_][A-Za-z0-9_]*)\"")


def test_every_variable_a_profile_names_reaches_tox_environments():
    tox = configparser.ConfigParser(interpolation=None)
    tox.read(REPO / "tox.ini")
    passed = [p.strip() for p in tox["testenv"]["pass_env"].replace("\n", ",").split(",")
              if p.strip()]
    needed = {name for profile in (REPO / "profiles").glob("*.toml")
              for line in profile.read_text().splitlines() if not line.lstrip().startswith("#")
              for match in NAMED.findall(line) for name in match if name}
    assert "PROJECT_PATH" in needed
    dropped = sorted(n for n in needed if not any(fnmatchcase(n, p) for p in passed))
    assert not dropped, f"tox drops {dropped}: add them to [testenv] pass_env"
