"""Log signals: lines matching a pattern within a time window, judged against levels.

``[[components.logs]]`` on a host (files with their rotated siblings, or a systemd unit's
journal) or on a docker engine (a container's logs through the Engine API)::

    [[components.logs]]
    name = "errors"
    files = ["/opt/orchestrator/logs/orchestrator.log"]
    pattern = "ERROR"
    window = "5m"
    type = "count"          # count | newest | absent | present
    warning = 10
    critical = 50

- ``count``: how many lines match within the window, against the levels;
- ``newest``: the age of the newest matching line, against the levels (in ``age_unit``):
  a heartbeat that stopped; no match within the window fails;
- ``absent``: no line may match within the window (``CUDA out of memory``);
- ``present``: at least one line must match within the window (a startup that finished).

Where the window starts is decided by each line's timestamp (``timestamp``: iso, syslog,
epoch, clf), never guessed: lines without one belong to the stamped line above them, a
file without any is refused unless ``timestamp = "mtime"`` dates its lines by the file's
modification time. Files are read from their end and only as far back as the window.
"""

from opscheck.logs.scan import Tally
from opscheck.logs.signal import LogSignal

__all__ = ["LogSignal", "Tally"]
