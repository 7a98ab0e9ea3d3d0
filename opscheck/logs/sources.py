"""Log sources on a host, read through its testinfra backend with bounded shell runs.

Files: one listing (the host's clock, then ``stat`` of every file matching each glob and its
rotated siblings ``NAME.N`` and ``NAME.N.gz``), then blocks read backwards from each file's
end (``tail -c +OFFSET | head -c LENGTH``, which seeks) until the window's start is passed.
A sibling is read only when the window reaches back into it: a file's modification time is
the latest any of its lines can carry, so a file older than the window's start is skipped
with the older ones after it. Compressed siblings are read whole (``gzip -dc``), within
``max_read``. The journal: ``journalctl -u UNIT --since @START --until @NOW -o short-unix``.
"""

from __future__ import annotations

import fnmatch
import math
import re
import shlex
import time
from dataclasses import dataclass
from pathlib import PurePosixPath
from typing import Any

from opscheck import shell
from opscheck.errors import CheckFailed, CouldNotRun
from opscheck.logs.scan import Scan, Tally, blocks_from_end, lines_newest_first
from opscheck.logs.signal import LogSignal
from opscheck.logs.stamps import parser

GLOB = re.compile(r"[*?\[]")
GLOB_SAFE = re.compile(r"^[A-Za-z0-9_.*?\[\]!+@,:%=~-]+$")


def glob_word(path: str) -> str:
    """``path`` as one sh word whose glob parts expand and whose other parts are quoted;
    ValueError when a glob part holds a character the shell would read as more."""
    parts = []
    if path.startswith("~/"):  # the target user's home: $HOME, expanded by the shell
        return "\"$HOME\"/" + glob_word(path[2:]) if path[2:] else "\"$HOME\""
    for segment in path.split("/"):
        if GLOB.search(segment):
            if not GLOB_SAFE.match(segment):
                raise ValueError(f"glob {path!r}: {segment!r} holds a character other than "
                                 "letters, digits, * ? [ ] and ._-+@,:%=~!")
            parts.append(segment)
        else:
            parts.append(shlex.quote(segment) if segment else "")
    return "/".join(parts)


@dataclass(frozen=True)
class LogFile:
    path: str
    size: int
    mtime: float

    @property
    def compressed(self) -> bool:
        return self.path.endswith(".gz")


class Reader:
    """Reads one signal's sources on one testinfra host, within a deadline and max_read."""

    def __init__(self, host: Any, signal: LogSignal, limit: float) -> None:
        self.host, self.signal = host, signal
        self.deadline = time.monotonic() + limit
        self.limit = limit
        self.spent = 0

    def sh(self, script: str, max_output: int) -> shell.Ran:
        left = self.deadline - time.monotonic()
        if left <= 0:
            raise CheckFailed(f"{self.signal.name}: reading {self.signal.source} took longer "
                              f"than {self.limit:g} s (raise the entry's timeout)")
        ran = shell.run(self.host, script, left, max_output)
        if ran.timed_out:
            raise CheckFailed(f"{self.signal.name}: reading {self.signal.source} took longer "
                              f"than {self.limit:g} s (raise the entry's timeout)")
        return ran

    def budget(self, length: int) -> None:
        self.spent += length
        if self.spent > self.signal.max_read:
            raise CouldNotRun(f"{self.signal.name}: the last {self.signal.window} of "
                              f"{self.signal.source} reach back more than max_read "
                              f"{self.signal.max_read} bytes; raise max_read or shorten "
                              "the window")

    def tally(self) -> Tally:
        return self.journal() if self.signal.unit else self.files()

    # ------------------------------------------------------------------ files
    def listing(self) -> tuple[float, list[tuple[LogFile, list[LogFile]]]]:
        words = []
        for path in self.signal.files:
            word = glob_word(path)
            words += [word, word + ".[0-9]*"] if self.signal.rotated else [word]
        script = ("date +%s; printf '%s\\n' \"$HOME\"; for f in " + " ".join(words) +
                  "; do [ -f \"$f\" ] && stat -L -c '%s %Y %n' -- \"$f\"; done; true")
        ran = self.sh(script, 4 * 1_048_576)
        if ran.exit_status != 0:
            raise CouldNotRun(f"{self.signal.name}: listing {self.signal.source} exited "
                              f"{ran.exit_status}: {ran.text('stderr').strip()[:200]}")
        rows = ran.text("stdout").splitlines()
        now, home = float(rows[0]), rows[1]
        patterns = [home + p[1:] if p.startswith("~/") else p for p in self.signal.files]
        found = {}
        for row in rows[2:]:
            size, mtime, name = row.split(" ", 2)
            found[name] = LogFile(name, int(size), float(mtime))
        bases = sorted(n for n in found if any(fnmatch.fnmatchcase(n, p) for p in patterns))
        sibling = re.compile(r"^(?P<base>.+)\.(?P<n>\d+)(?:\.gz)?$")
        chains = []
        for base in bases:
            m = sibling.match(base)
            if m and m.group("base") in found and m.group("base") in bases:
                continue  # a rotated copy of another match
            older = [(int(m.group("n")), f) for n, f in found.items()
                     if (m := sibling.match(n)) and m.group("base") == base]
            chains.append((found[base], [f for _, f in sorted(older, key=lambda t: t[0])]))
        return now, chains

    def files(self) -> Tally:
        now, chains = self.listing()
        if not chains:
            raise CheckFailed(f"{self.signal.name}: no log file matches "
                              f"{self.signal.source}")
        start = now - self.signal.seconds
        total = Tally()
        for live, older in chains:
            scan = Scan(self.signal, start)
            for file in [live, *older]:
                if scan.done or file.mtime < start:
                    break  # nothing in this file, nor in older ones, is in the window
                self.read_file(scan, file)
                scan.tally.read.append(PurePosixPath(file.path).name)
            total.merge(scan.finish(live.path))
        return total

    def read_file(self, scan: Scan, file: LogFile) -> None:
        fixed = file.mtime if self.signal.timestamp == "mtime" else None
        parse = None if fixed is not None else parser(self.signal.timestamp,
                                                      self.signal.timezone, file.mtime)
        path = shlex.quote(file.path)
        if file.compressed:
            room = self.signal.max_read - self.spent
            ran = self.sh(f"gzip -dc -- {path}", max(room, 1))
            if ran.stdout_cut:
                self.budget(room + 1)
            self.budget(len(ran.stdout))
            scan.tally.bytes_read += len(ran.stdout)
            scan.feed(lines_newest_first(ran.stdout), parse, fixed)
            return

        def read(offset: int, length: int) -> bytes:
            ran = self.sh(f"tail -c +{offset + 1} -- {path} | head -c {length}", length)
            scan.tally.bytes_read += len(ran.stdout)
            return ran.stdout

        for block in blocks_from_end(read, file.size, self.budget):
            scan.feed(block, parse, fixed)
            if scan.done:
                return

    # ------------------------------------------------------------------ journal
    def journal(self) -> Tally:
        seconds = math.ceil(self.signal.seconds)
        where = (f" -D {shlex.quote(self.signal.journal_directory)}"
                 if self.signal.journal_directory else "")
        script = (f"now=$(date +%s); echo \"$now\"; journalctl --no-pager -q -o short-unix"
                  f"{where} -u {shlex.quote(str(self.signal.unit))} "
                  f"--since \"@$((now - {seconds}))\" --until \"@$now\"")
        ran = self.sh(script, self.signal.max_read)
        said = ran.text("stderr").strip()
        if ran.exit_status != 0:
            raise CouldNotRun(f"{self.signal.name}: journalctl exited {ran.exit_status}: "
                              f"{said.splitlines()[-1] if said else 'no message'}")
        if ran.stdout_cut:
            self.budget(self.signal.max_read + 1)
        head, _, body = ran.stdout.partition(b"\n")
        scan = Scan(self.signal, float(head) - self.signal.seconds)
        scan.tally.bytes_read = len(body)
        scan.feed(lines_newest_first(body), parser("epoch"))
        scan.tally.read.append(f"journal of {self.signal.unit}")
        return scan.finish(self.signal.source)
