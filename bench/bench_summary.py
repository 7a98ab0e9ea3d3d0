"""Benchmark summary: the figures of this run's bench_peers.py and bench_startup.py, in one
table, beside the figures measured before the sweep opened components at once (issue 19).

    .venv/bin/python bench/bench_summary.py

``make bench`` runs it last (it sorts after the other bench_*.py): it only reads
``build/bench/*.json``, and says which benchmark to run for a figure it does not find.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

OUT = Path(__file__).resolve().parents[1] / "build" / "bench"

#: measured before (2-core machine, stack host+redis+postgres+sqlite+http, timeouts 1 s)
BEFORE = {
    "critical vs testinfra": "0.66-0.73 s vs 0.46 s (1.5x)",
    "critical vs bare Python": "0.66-0.73 s vs 0.23 s (3.0x)",
    "critical vs Nagios plugins": "not measured",
    "critical vs shell script": "not measured",
    "20 dead, sequential": "21.1 s vs 1.28 s parallel (16.5x)",
    "20 dead, -n 2": "11.4 s vs 1.28 s parallel (8.9x)",
    "2,000 checks, sequential": "4.21 s, 167 MiB vs 2.39 s, 140 MiB (1.76x)",
    "2,000 checks, -n 2": "6.50 s, 280 MiB (2.72x)",
    "25 PostgreSQL, max_connections 20": "5 falsely unreachable",
    "100 SQLite on a 20 MiB file": "267 MiB (20.6 MiB file)",
    "2,000 trivial pytest tests": "not measured",
    "start-up, -m critical": "~3.2x pytest with the same plugins",
}


def load(name: str) -> dict[str, Any] | None:
    path = OUT / f"{name}.json"
    return json.loads(path.read_text()) if path.exists() else None


def rows(peers: dict[str, Any] | None, startup: dict[str, Any] | None) -> list[tuple[str, ...]]:
    found: list[tuple[str, ...]] = []
    if peers:
        c = peers["critical"]
        for label, name in (("testinfra", "testinfra used directly"),
                            ("bare Python", "bare Python"),
                            ("Nagios plugins", "Nagios plugins in a row"),
                            ("shell script", "shell script (runbook style)")):
            took = c["peers"].get(name)
            case = f"critical vs {label}"
            if took is None:
                found.append((case, f"{c['opscheck']:.2f} s", "not installed", "-"))
            else:
                found.append((case, f"{c['opscheck']:.2f} s", f"{took:.2f} s",
                              f"{c['opscheck'] / took:.2f}x"))
        d = peers["dead"]
        for key, label in (("sequential", "sequential"), ("n2", "-n 2")):
            found.append((f"20 dead, {label}", f"{d[key]:.2f} s",
                          f"bound {d['bound']:.2f} s (parallel calls {d['bare']:.2f} s)",
                          f"{d[key] / d['bound']:.2f}x bound"))
        m = peers["many"]
        for key, label in (("sequential", "sequential"), ("n2", "-n 2")):
            found.append((f"2,000 checks, {label}", f"{m[key]:.2f} s, {m[key + '_mib']:.0f} MiB",
                          f"bare loop {m['bare']:.2f} s, {m['bare_mib']:.0f} MiB",
                          f"{m[key] / m['bare']:.2f}x"))
        if "pytest" in m:  # pytest's own floor (a summary written before it has none)
            found.append(("2,000 trivial pytest tests", f"{m['pytest']:.2f} s",
                          f"bare loop {m['bare']:.2f} s", f"{m['pytest'] / m['bare']:.2f}x"))
        s = peers["sessions"]
        found.append(("25 PostgreSQL, max_connections 20",
                      f"{s['refused'] + s['unreachable']} refused or unreachable",
                      f"at most {s['peak_sessions']} sessions held", "-"))
        q = peers["sqlite"]
        found.append(("100 SQLite on a 20 MiB file", f"{q['peak_mib']:.0f} MiB",
                      "target < 100 MiB", "-"))
    if startup:
        name = next(k for k in startup["medians"] if k.startswith("opscheck -m critical ("))
        mine = startup["medians"][name]
        found.append(("start-up, -m critical", f"{mine:.3f} s", f"{startup['floor']:.3f} s "
                      "pytest, same plugins", f"{mine / startup['floor']:.2f}x"))
        models = startup["medians"].get("pytest, 1 trivial test, same plugins + pydantic")
        if models is not None:  # the validation library's share of the floor, alone
            found.append(("start-up floor with pydantic imported", f"{models:.3f} s",
                          f"{startup['floor']:.3f} s pytest, same plugins",
                          f"{models / startup['floor']:.2f}x"))
    return found


def main() -> None:
    peers, startup = load("peers"), load("startup")
    table = [("case", "opscheck", "peer", "ratio", "before")]
    table += [(*row, BEFORE.get(row[0], "")) for row in rows(peers, startup)]
    widths = [max(len(r[i]) for r in table) for i in range(5)]
    print("summary (this run; 'before' as measured before issue 19)")
    for i, row in enumerate(table):
        print("  " + " | ".join(cell.ljust(w) for cell, w in zip(row, widths, strict=True)))
        if i == 0:
            print("  " + "-+-".join("-" * w for w in widths))
    for name, data in (("bench_peers.py", peers), ("bench_startup.py", startup)):
        if data is None:
            print(f"  no figures from bench/{name} in {OUT}: run it first")


if __name__ == "__main__":
    main()
