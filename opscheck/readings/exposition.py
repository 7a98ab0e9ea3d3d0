"""A Prometheus text page (``/metrics``) read without a Prometheus server.

:func:`parse` reads the exposition format with prometheus_client's own parser
(``text_string_to_metric_families``) into samples; :func:`judge` selects an entry's series
(:class:`~opscheck.readings.scrape.ScrapeQuery`), takes their increase between two scrapes
when the entry asks for a rate, divides by the denominator's, and aggregates. What cannot be
judged raises :class:`ScrapeProblem` (a CheckFailed: the check's verdict), or
:class:`~opscheck.errors.NotApplicable` (a skip saying why) when a ratio's denominator is too
small to mean anything.
"""

from __future__ import annotations

import math
import re
from collections.abc import Iterable
from dataclasses import dataclass
from functools import cache

from opscheck import secrets
from opscheck.errors import CheckFailed, NotApplicable
from opscheck.readings import Judged, Reading, aggregate
from opscheck.readings.scrape import PER, ScrapeQuery, Selector
from opscheck.thresholds import fmt

Labels = tuple[tuple[str, str], ...]


class ScrapeProblem(CheckFailed):
    """The page cannot give the entry a number; ``str()`` says why."""


@dataclass(frozen=True)
class Sample:
    name: str
    labels: Labels
    value: float
    #: a counter's other name: the parser writes a counter that the page names without
    #: ``_total`` (``jobs 3``) as ``jobs_total``; the page's own name selects it too
    alias: str | None = None

    def text(self) -> str:
        """``name{a="b"}``, or ``name`` without labels."""
        inner = ",".join(f'{k}="{v}"' for k, v in self.labels)
        return f"{self.name}{{{inner}}}" if inner else self.name


def parse(body: bytes) -> list[Sample]:
    """Every sample of the page; ScrapeProblem when it is not the text format."""
    from prometheus_client.parser import text_string_to_metric_families

    text = body.decode("utf-8", "replace")
    try:
        return [Sample(s.name, tuple(sorted(s.labels.items())), float(s.value),
                       s.name.removesuffix("_total") if family.type == "counter"
                       and s.name.endswith("_total") else None)
                for family in text_string_to_metric_families(text) for s in family.samples]
    except (ValueError, TypeError, IndexError, KeyError) as exc:
        start = secrets.excerpt(text.strip(), 60)
        raise ScrapeProblem(f"the page is not Prometheus text ({type(exc).__name__}: "
                            f"{secrets.excerpt(str(exc), 80)}; starts {start!r})") from None


@cache
def _pattern(regex: str) -> re.Pattern[str]:
    return re.compile(regex)


def select(samples: Iterable[Sample], selector: Selector) -> dict[Labels, Sample]:
    """The samples of ``selector``'s series whose labels equal and match, by their labels.
    A counter's alias selects it only where no sample bears the name itself."""
    samples = list(samples)
    named = [s for s in samples if s.name == selector.series] or \
        [s for s in samples if s.alias == selector.series]
    found: dict[Labels, Sample] = {}
    for sample in named:
        labels = dict(sample.labels)
        if any(labels.get(k) != v for k, v in selector.labels.items()):
            continue
        if any(_pattern(p).fullmatch(labels.get(k, "")) is None
               for k, p in selector.match.items()):
            continue
        found[sample.labels] = sample
    return found


def increase(first: dict[Labels, Sample], second: dict[Labels, Sample]) -> dict[Labels, Sample]:
    """Per series in both scrapes, how much it grew; a counter that went down was reset and
    counts from 0 (as Prometheus's ``increase``)."""
    grown = {}
    for labels, now in second.items():
        before = first.get(labels)
        if before is None:
            continue
        delta = now.value - before.value if now.value >= before.value else now.value
        grown[labels] = Sample(now.name, labels, delta)
    return grown


def judge(query: ScrapeQuery, first: list[Sample], second: list[Sample] | None = None,
          seconds: float | None = None) -> Judged:
    """The entry's value: from ``first`` alone, or (a rate) from ``first`` to ``second``,
    ``seconds`` apart. A ratio divides the sums of the two sides' increases (or values)."""
    def pick(selector: Selector) -> dict[Labels, Sample]:
        if second is None:
            return select(first, selector)
        return increase(select(first, selector), select(second, selector))

    numerator = pick(query.numerator)
    for sample in numerator.values():
        if math.isnan(sample.value):
            raise ScrapeProblem(f"{sample.text()} is NaN on the page")
    per = 1.0
    if second is not None and not query.denominator:
        assert seconds is not None
        per = PER[query.per] / seconds  # an increase over the interval as a rate
    readings = [Reading(s.text(), s.value * per) for s in numerator.values()]
    how = query.aggregate or "max"
    value = aggregate(readings, how)
    shown = [] if query.denominator else [  # a ratio's parts are not in its unit
        Reading(r.label, r.value * query.scale) for r in readings]
    if value is None or (not readings and how != "count"):
        if query.missing == "zero":
            return Judged(0.0, [])
        scraped = " in both scrapes" if second is not None else ""
        raise ScrapeProblem(f"no series {query.numerator.text()} on the page{scraped}; "
                            "expected it exported (set missing = \"zero\" if none means 0)")
    if query.denominator:
        value = _ratio(query, value, [pick(d) for d in query.denominator],
                       seconds if second is not None else None)
    return Judged(value * query.scale, shown)


def _ratio(query: ScrapeQuery, top: float, parts: list[dict[Labels, Sample]],
           seconds: float | None) -> float:
    bottom = sum(s.value for part in parts for s in part.values())
    names = " + ".join(d.text() for d in query.denominator)
    what = f"{fmt(bottom)} (its increase over {seconds:g} s)" if seconds else fmt(bottom)
    if not any(parts):
        raise ScrapeProblem(f"no series {names} on the page: nothing to divide by")
    least = query.min_denominator
    if least is not None and bottom < least:
        raise NotApplicable(f"{names} is {what}, below min_denominator {fmt(least)}: too few "
                            "to judge a ratio")
    if bottom == 0:
        raise NotApplicable(f"{names} is {what}: nothing to divide by, no ratio to judge")
    return top / bottom
