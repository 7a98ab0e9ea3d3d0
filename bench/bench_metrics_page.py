"""Benchmark: reading a Prometheus /metrics page directly (``[[components.metrics]]``).

    .venv/bin/python bench/bench_metrics_page.py [--series 10000] [--runs 5]

Builds a page of ``--series`` series (gauges and counters with three labels each, as vLLM or
a busy orchestrator writes them), then times prometheus_client's parser over it, the
selection and aggregation of one entry, and the whole path through the http target: a GET
from a loopback server, the parse and the judgement. Prints figures; asserts nothing.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path[:0] = [str(REPO), str(REPO / "tests")]

from servers import HTTPServer  # noqa: E402

from opscheck.components.http import HttpComponent  # noqa: E402
from opscheck.readings import exposition  # noqa: E402
from opscheck.readings.scrape import ScrapeQuery  # noqa: E402
from opscheck.targets.http import HttpTarget  # noqa: E402


def page(series: int) -> str:
    lines = []
    per_family = 100
    for family in range(series // per_family):
        kind = "counter" if family % 2 else "gauge"
        name = f"app_metric_{family}" + ("_total" if kind == "counter" else "")
        lines += [f"# HELP {name} benchmark family {family}", f"# TYPE {name} {kind}"]
        lines += [f'{name}{{agent="agent-{i}",model="m{i % 7}",instance="host:{i % 3}"}} '
                  f"{i * 1.5 + family}" for i in range(per_family)]
    return "\n".join(lines) + "\n"


def timed(fn, runs: int) -> tuple[float, object]:
    times, result = [], None
    for _ in range(runs):
        start = time.perf_counter()
        result = fn()
        times.append(time.perf_counter() - start)
    return statistics.median(times), result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--series", type=int, default=10_000)
    parser.add_argument("--runs", type=int, default=5)
    args = parser.parse_args()
    if args.series < 100:
        parser.error("--series: at least 100 (one family of 100 series)")
    text = page(args.series)
    middle = args.series // 100 // 2 // 2 * 2  # a gauge family (even) in the page's middle
    body = text.encode()
    query = ScrapeQuery(name="busiest", series=f"app_metric_{middle}", match={"model": "m[0-3]"},
                        critical=1e9)
    parse_s, samples = timed(lambda: exposition.parse(body), args.runs)
    judge_s, judged = timed(lambda: exposition.judge(query, samples), args.runs)
    print(f"page: {args.series} series, {len(body) / 1e6:.2f} MB")
    print(f"parse (prometheus_client): {parse_s * 1000:.1f} ms median of {args.runs} "
          f"({args.series / parse_s:,.0f} series/s); {len(samples)} samples")
    print(f"select + aggregate one entry: {judge_s * 1000:.2f} ms -> {judged.value:g}")
    with HTTPServer() as server:
        server.metrics(text)
        component = HttpComponent(name="bench", kind="http", url=f"{server.url}/metrics",
                                  max_body=16 * 1024 * 1024, timeout=10, metrics=[query])

        def whole() -> object:
            target = HttpTarget.open(component)
            try:
                return target.metric_value(query)
            finally:
                target.close()

        whole_s, judged = timed(whole, args.runs)
        print(f"GET + parse + judge through the http target: {whole_s * 1000:.1f} ms median "
              f"of {args.runs} -> {judged.value:g}")


if __name__ == "__main__":
    main()
