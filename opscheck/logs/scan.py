"""The window scan: lines fed newest first, judged until the window's start is passed.

A source (a file read backwards in growing blocks, a journal, a container's log) feeds a
:class:`Scan` with lists of lines, newest first. A line with a timestamp starts a record;
the lines below it without one (a traceback) belong to it. The scan stops at the first
record older than the window's start, so a windowed count over a 1 GB log reads only the
window's bytes (and one block more). A source with lines but not one timestamp is refused:
the window cannot be decided from it (``timestamp = "mtime"`` dates lines by the file).
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field

from opscheck.errors import CouldNotRun
from opscheck.logs.signal import LogSignal
from opscheck.logs.stamps import Parser

FIRST_BLOCK = 64 * 1024
LARGEST_BLOCK = 16 * 1_048_576
EXAMPLES = 3


@dataclass
class Tally:
    """What a scan found within the window."""

    matched: int = 0
    newest: float | None = None  # epoch seconds of the newest matching line
    examples: list[tuple[float, str]] = field(default_factory=list)  # newest first
    lines: int = 0  # lines within the window
    bytes_read: int = 0
    unjudged: int = 0  # lines above a source's first timestamp: their time is unknown
    read: list[str] = field(default_factory=list)  # the files, units or containers read

    def merge(self, other: Tally) -> None:
        self.matched += other.matched
        if other.newest is not None and (self.newest is None or other.newest > self.newest):
            self.newest = other.newest
        self.examples = sorted(self.examples + other.examples, reverse=True)[:EXAMPLES]
        self.lines += other.lines
        self.bytes_read += other.bytes_read
        self.unjudged += other.unjudged
        self.read += other.read


class Scan:
    """One newest-first pass over one source (a file and its rotated siblings, a journal)."""

    def __init__(self, signal: LogSignal, start: float) -> None:
        self.signal = signal
        self.start = start
        self.regex = re.compile(signal.pattern)
        self.early = signal.type in ("newest", "present")  # the first match is the answer
        self.pending: list[str] = []
        self.done = False
        self.stamped = 0
        self.tally = Tally()

    def feed(self, lines: list[str], parse: Parser | None, fixed: float | None = None) -> None:
        """Judge ``lines`` (newest first), each dated by ``parse`` or all at ``fixed``."""
        for line in lines:
            when = fixed if parse is None else parse(line)
            if when is None:
                self.pending.append(line)
                continue
            self.stamped += 1
            record, self.pending = [line, *self.pending], []
            if when < self.start:
                self.done = True
                return
            self._judge(record, when)
            if self.done:
                return

    def _judge(self, record: list[str], when: float) -> None:
        tally = self.tally
        tally.lines += len(record)
        for text in record:
            if self.regex.search(text):
                tally.matched += 1
                if tally.newest is None or when > tally.newest:
                    tally.newest = when
                if len(tally.examples) < EXAMPLES:
                    tally.examples.append((when, text))
                if self.early:
                    self.done = True
                    return

    def finish(self, where: str) -> Tally:
        """The tally, once the source is read (or the scan stopped); refuses a source of lines
        none of which has a timestamp."""
        if self.pending and not self.stamped:
            raise CouldNotRun(
                f"{self.signal.name}: no line of {where} has a {self.signal.timestamp} "
                "timestamp, so the window cannot be decided; set timestamp to the log's "
                "format (iso, syslog, epoch, clf), or timestamp = \"mtime\" to date every "
                "line by its file's modification time")
        self.tally.unjudged += len(self.pending)
        self.pending = []
        return self.tally


def blocks_from_end(read: Callable[[int, int], bytes], size: int,
                    budget: Callable[[int], None]) -> Iterator[list[str]]:
    """Lists of lines of a file of ``size`` bytes, newest first, read backwards in blocks
    growing from 64 KiB to 16 MiB (``read(offset, length)``; ``budget(n)`` is told of each
    block before it is read and may refuse it)."""
    pos, carry, step = size, b"", FIRST_BLOCK
    while pos > 0:
        length = min(step, pos)
        pos -= length
        budget(length)
        data = read(pos, length) + carry
        parts = data.split(b"\n")
        carry = parts.pop(0) if pos > 0 else b""
        yield [p.decode(errors="replace") for p in reversed(parts) if p.strip()]
        step = min(step * 2, LARGEST_BLOCK)


def lines_newest_first(data: bytes) -> list[str]:
    """All lines of ``data`` (oldest first on disk), newest first."""
    return [p.decode(errors="replace") for p in reversed(data.split(b"\n")) if p.strip()]
