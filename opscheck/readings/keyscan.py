"""A Redis key pattern scanned: its keys counted or their values aggregated (``scans``)::

    [[components.scans]]
    name = "spend-per-agent"              # id: factory-redis:spend-per-agent
    match = "dash:spend:daily:*"          # SCAN MATCH: whichever agents exist today
    exclude = ["dash:spend:daily:total"]  # globs left out
    aggregate = "max"                     # count, max, min, sum, avg of the values
    missing = "zero"                      # no key matches: 0 (a quiet day), not a failure
    critical = 10
    unit = "USD"

The scan uses ``SCAN`` and ``MGET`` (read-only commands) and is bounded: at most
``max_keys`` matching keys, and ``seconds`` for the whole scan (default: the component's
timeout); past either bound the check could not run, saying which to raise. A value that is
not a number fails, naming the key; so does a key of another type (a hash where a number is
expected). On failure the worst keys are named.
"""

from __future__ import annotations

from typing import Literal

from pydantic import Field, field_validator

from opscheck.items import Named
from opscheck.readings import Aggregate


class KeyScan(Named):
    """Keys matching a pattern (SCAN MATCH): their count, or their numbers aggregated."""

    match: str = Field(min_length=1, description="glob of the keys, as SCAN MATCH takes it, "
                       "e.g. dash:spend:daily:*")
    exclude: list[str] = Field(default_factory=list, description="globs of matching keys to "
                               "leave out, e.g. the total beside the per-agent keys")
    aggregate: Aggregate = Field(default="max", description="count the keys, or the max, min, "
                                 "sum or avg of their values (strings holding numbers)")
    missing: Literal["fail", "zero"] = Field(default="fail", description="no key matches "
                                             "(count: always 0): fail, or read 0")
    max_keys: int = Field(default=10_000, ge=1, le=1_000_000, description="most matching keys "
                          "read; more: the check could not run (raise it, or narrow match)")
    seconds: float | None = Field(default=None, gt=0, le=300, description="bound on the whole "
                                  "scan (default: the component's timeout)")
    count: int = Field(default=1000, ge=10, le=100_000, description="SCAN's COUNT hint: keys "
                       "examined per round trip")

    @field_validator("match")
    @classmethod
    def _pattern(cls, value: str) -> str:
        if not value.strip() or any(c.isspace() or not c.isprintable() for c in value):
            raise ValueError(f"match {value!r} holds a space or control character; write a "
                             "glob such as \"dash:spend:daily:*\"")
        return value
