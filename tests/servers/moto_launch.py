"""Start moto's server (``moto_server``) with a clock the tests can set back.

``python -I moto_launch.py HOST PORT CLOCK_FILE`` (-I: this folder is not on sys.path).
moto reads the time through ``moto.core.utils.utcnow``; it is replaced, before any service
is imported, by one that adds the seconds written in CLOCK_FILE (e.g. ``-93600``: what the
emulator stamps now is dated 26 h ago). Everything else is moto's own server, unchanged.
"""

from __future__ import annotations

import datetime
import sys


def main() -> None:
    host, port, clock = sys.argv[1:4]
    import moto.core.utils as utils

    real = utils.utcnow

    def shifted() -> datetime.datetime:
        try:
            with open(clock, encoding="ascii") as handle:
                offset = float(handle.read().strip() or 0)
        except (OSError, ValueError):
            offset = 0.0
        return real() + datetime.timedelta(seconds=offset)

    utils.utcnow = shifted
    from moto.server import main as serve

    serve(["-H", host, "-p", port])


if __name__ == "__main__":
    main()
