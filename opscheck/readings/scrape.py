"""A number read from a Prometheus ``/metrics`` page itself, without a Prometheus server
(``[[components.metrics]]`` on an http component whose url is the page)::

    [[components.metrics]]
    name = "agent-utilization"          # id: wave-orchestrator-metrics:agent-utilization
    series = "wave_agent_utilization_percent"
    aggregate = "max"                   # max, min, sum, avg, count of the matching series
    critical = 85
    unit = "%"

    [[components.metrics]]
    name = "error-rate"                 # a ratio of two rates, over two scrapes 30 s apart
    series = "litellm_proxy_failed_requests_metric_total"
    denominator = [{ series = "litellm_proxy_total_requests_metric_total" }]
    rate = true
    interval = 30
    min_denominator = 20                # fewer requests than this: not judged (skipped)
    scale = 100
    critical = 5
    unit = "%"

Series are selected by their sample name as the page writes it (``…_total``, ``…_bucket``)
and by labels: ``labels`` must equal, ``match`` must match a regular expression (whole
value). The page is parsed with prometheus_client's own parser.
"""

from __future__ import annotations

import re
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationInfo, field_validator, model_validator

from opscheck.items import Named
from opscheck.readings import Aggregate

SERIES = re.compile(r"^[A-Za-z_:][A-Za-z0-9_:]*$")
LABEL = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")
PER = {"s": 1.0, "min": 60.0, "h": 3600.0}


class Selector(BaseModel):
    """Series of one name, with labels equal to ``labels`` and matching ``match``."""

    model_config = ConfigDict(extra="forbid")

    series: str = Field(description="sample name as the page writes it, e.g. "
                        "wave_errors_total")
    labels: dict[str, str] = Field(default_factory=dict, description="labels that must equal "
                                   "these values, e.g. { agent = \"be-dev\" }")
    match: dict[str, str] = Field(default_factory=dict, description="labels whose whole value "
                                  "must match these regular expressions")

    @field_validator("series")
    @classmethod
    def _series(cls, value: str) -> str:
        if not SERIES.match(value):
            raise ValueError(f"series {value!r} is not a metric name; write it as the page "
                             "does, e.g. \"wave_errors_total\"")
        return value

    @field_validator("labels", "match")
    @classmethod
    def _label_names(cls, value: dict[str, str], info: ValidationInfo) -> dict[str, str]:
        for name, pattern in value.items():
            if not LABEL.match(name):
                raise ValueError(f"label {name!r} is not a label name (letters, digits, _)")
            if info.field_name == "match":
                try:
                    re.compile(pattern)
                except re.error as exc:
                    raise ValueError(f"match {name} = {pattern!r} is not a regular "
                                     f"expression ({exc})") from None
        return value

    def text(self) -> str:
        """``name{a="b",c=~"d.*"}``, as PromQL would write the selector."""
        parts = [f'{k}="{v}"' for k, v in self.labels.items()]
        parts += [f'{k}=~"{v}"' for k, v in self.match.items()]
        return f"{self.series}{{{','.join(parts)}}}" if parts else self.series


class ScrapeQuery(Named, Selector):
    """Series of the page (or a ratio of two sums), aggregated, held against levels."""

    aggregate: Aggregate | None = Field(default=None, description="how the matching series "
                                        "become one value: max (default), min, sum, avg, "
                                        "count; sum for a ratio")
    rate: bool = Field(default=False, description="judge the per-second increase between two "
                       "scrapes interval seconds apart (counters; a reset counts from 0)")
    interval: float = Field(default=10, ge=1, le=60, description="rate: seconds between the "
                            "two scrapes (the check waits that long, once per component)")
    per: Literal["s", "min", "h"] = Field(default="s", description="rate: per second, minute "
                                          "or hour")
    denominator: list[Selector] = Field(default_factory=list, description="divide by the sum "
                                        "of these series (of their rates, with rate)")
    min_denominator: float | None = Field(default=None, ge=0, description="ratio: a "
                                          "denominator (with rate: its increase between "
                                          "the scrapes) below this is too small to judge: "
                                          "the check is skipped saying so")
    scale: float = Field(default=1, gt=0, description="multiply the value, e.g. 100 for a "
                         "ratio in %")
    missing: Literal["fail", "zero"] = Field(default="fail", description="no series matches "
                                             "(count: always 0): fail, or read 0")

    @model_validator(mode="after")
    def _consistent(self) -> ScrapeQuery:
        if self.denominator:
            if self.aggregate not in (None, "sum"):
                raise ValueError(f"{self.name!r}: a ratio sums both sides; remove aggregate "
                                 f"= \"{self.aggregate}\" or the denominator")
            self.aggregate = "sum"
        elif self.min_denominator is not None:
            raise ValueError(f"{self.name!r}: min_denominator needs a denominator")
        self.aggregate = self.aggregate or "max"
        if self.rate and self.aggregate == "count":
            raise ValueError(f"{self.name!r}: count the series without rate = true")
        return self

    @property
    def numerator(self) -> Selector:
        return Selector(series=self.series, labels=self.labels, match=self.match)
