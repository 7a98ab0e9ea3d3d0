"""The HTML board's pieces, plain HTML from the records: the verdict banner, what changed
since the last run, the component grid, a row's cells and a value's sparkline.

No pytest here (:mod:`opscheck.reporting.html` puts the pieces into pytest-html's page).
Every text is escaped; every colour is one of :data:`COLOURS`; nothing is loaded from
outside the page (the sparklines are inline SVG).
"""

from __future__ import annotations

from collections.abc import Iterable
from html import escape
from typing import Any

from opscheck import version
from opscheck.outcomes import STATES
from opscheck.reporting.records import levels_text, value_text

COLOURS = {"passed": "#2e7d32", "warning": "#e65100", "failed": "#c62828",
           "could not run": "#6a1b9a", "skipped": "#757575", "remediated": "#1565c0",
           "waived": "#5d4037"}
VERDICT_COLOURS = {"OK": COLOURS["passed"], "WARNING": COLOURS["warning"],
                   "CRITICAL": COLOURS["failed"], "UNKNOWN": COLOURS["could not run"]}
#: the table's order: what needs a person first, passes last
ROW_ORDER = ("failed", "could not run", "warning", "remediated", "waived", "skipped", "passed")
#: a tile's worst state: skipped only where nothing else ran
TILE_ORDER = ("failed", "could not run", "warning", "remediated", "waived", "passed", "skipped")
TIERS = ("critical", "standard", "deep")
PROBLEMS = ("failed", "could not run", "warning")
NO_COMPONENT = "no component"
SHOWN = 5  # failing checks named on a tile before "+N more"


def css(state: str) -> str:
    """A state's class name: ``oc-s-could-not-run``."""
    return "oc-s-" + state.replace(" ", "-")


def counts_html(counts: dict[str, int], *, zero: bool = False) -> str:
    """``3 failed · 1 warning`` in opscheck's states, their order and colours."""
    parts = [f'<span class="oc-n {css(s)}">{counts.get(s, 0)} {escape(s)}</span>'
             for s in STATES if zero or counts.get(s)]
    return " · ".join(parts) or "no checks"


def counts_text(counts: dict[str, int]) -> str:
    return ", ".join(f"{n} {s}" for s in STATES if (n := counts.get(s)))


def banner(*, status: str, system: str, when: str, took: float, board: dict[str, Any],
           changes: str) -> str:
    """The verdict first: status, system, when, how long, the counts, what changed."""
    checks = sum(board["all"].values())
    tiers = " · ".join(f"{escape(t)} tier: {escape(counts_text(board['tier'][t]))}"
                       for t in TIERS if t in board["tier"])
    return (f'<section id="oc-banner" class="oc-banner" data-status="{status}" '
            f'style="background:{VERDICT_COLOURS[status]}">'
            f'<div class="oc-status">{status}</div><div class="oc-facts">'
            f'<div class="oc-run"><b>{escape(system)}</b> · run {escape(when)} · took '
            f'{took:.1f} s · {checks} checks · opscheck {escape(version())}</div>'
            f'<div class="oc-counts">{counts_html(board["all"])}</div>'
            f'<div class="oc-tiers">{tiers}</div></div></section>{changes}')


def when(stamp: str | None) -> str:
    """``2026-12-01 23:09:24`` of an ISO time (its offset is the banner's)."""
    return (stamp or "")[:19].replace("T", " ")


def _ids(items: list[dict[str, Any]], names: dict[str, str], how: Any = None) -> str:
    shown = ", ".join(f'<span class="oc-id {css(i["state"])}">'
                      f'{escape(names.get(i["id"], i["id"]))}</span>'
                      + (f' <small>({escape(how(i))})</small>' if how else "")
                      for i in items[:8])
    return shown + (f", +{len(items) - 8} more" if len(items) > 8 else "")


def _was(item: dict[str, Any]) -> str:
    return f"was {item['was'] or 'not seen'}"


def _turns(item: dict[str, Any]) -> str:
    return f"{item['changes']} changes in {item['runs']} runs"


def changes_html(changes: dict[str, Any] | None, note: str, names: dict[str, str]) -> str:
    """What changed since the last run, under the banner; ``names`` shows each id short."""
    if changes is None or changes["previous"] is None:
        return f'<section id="oc-changes" class="oc-changes"><b>Since the last run:</b> ' \
               f'{escape(note)}</section>'
    parts = []
    for key, one, many in (("new_failures", "new failure", "new failures"),
                           ("recoveries", "recovered", "recovered")):
        if items := changes[key]:
            parts.append(f'<span class="oc-change oc-c-{key}"><b>{len(items)} '
                         f'{one if len(items) == 1 else many}</b>: '
                         f'{_ids(items, names, _was)}</span>')
    since: dict[str, list[dict[str, Any]]] = {}
    for item in changes["still_failing"]:
        since.setdefault(item["since"], []).append(item)
    for stamp, items in sorted(since.items()):
        parts.append(f'<span class="oc-change oc-c-still_failing"><b>{len(items)} still '
                     f'failing</b> since {escape(when(stamp))}: {_ids(items, names)}</span>')
    if items := changes["flapping"]:
        parts.append(f'<span class="oc-change oc-c-flapping"><b>{len(items)} flapping</b>: '
                     f'{_ids(items, names, _turns)}</span>')
    prev = changes["previous"]
    return (f'<section id="oc-changes" class="oc-changes"><b>Since the last run</b> '
            f'({escape(when(prev["started"]))}, {escape(prev["status"] or "")}): '
            f'{"; ".join(parts) or "nothing changed"}</section>')


def worst(states: Iterable[str], order: tuple[str, ...] = TILE_ORDER) -> str:
    return min(states, key=order.index, default="skipped")


def grid(recs: list[dict[str, Any]]) -> str:
    """One tile per component: its worst state, its counts, its failing checks named."""
    by: dict[str, list[dict[str, Any]]] = {}
    for rec in recs:
        by.setdefault(rec["component"] or NO_COMPONENT, []).append(rec)
    tiles = []
    for name, own in sorted(by.items(), key=lambda kv: (
            TILE_ORDER.index(worst(r["state"] for r in kv[1])), kv[0])):
        state = worst(r["state"] for r in own)
        kinds = ", ".join(sorted({r["kind"] for r in own if r["kind"]}))
        counts: dict[str, int] = {}
        for r in own:
            counts[r["state"]] = counts.get(r["state"], 0) + 1
        bad = sorted((r for r in own if r["state"] in PROBLEMS),
                     key=lambda r: (ROW_ORDER.index(r["state"]), r["id"]))
        named = "".join(f'<li class="{css(r["state"])}">{escape(short(r))}</li>'
                        for r in bad[:SHOWN])
        more = f"<li>+{len(bad) - SHOWN} more</li>" if len(bad) > SHOWN else ""
        tiles.append(f'<div class="oc-tile {css(state)}" data-state="{escape(state)}">'
                     f'<div class="oc-tile-name">{escape(name)} <small>{escape(kinds)}'
                     f'</small></div><div class="oc-tile-state">{escape(state)}</div>'
                     f'<div class="oc-tile-counts">{escape(counts_text(counts))}</div>'
                     f'{f"<ul>{named}{more}</ul>" if named else ""}</div>')
    return f'<div id="oc-grid" class="oc-grid">{"".join(tiles)}</div>'


def short(rec: dict[str, Any]) -> str:
    """A check as a row names it: ``test_disk_used[web-1:/]``."""
    return f"{rec['check']}[{rec['params']}]" if rec["params"] else rec["check"]


def sort_key(rec: dict[str, Any]) -> str:
    """The severity order as text (pytest-html sorts a column by its cell's text; rows of one
    rank keep the run's order): ``00`` a critical-tier failure, ``61`` a standard pass."""
    tier = TIERS.index(rec["tier"]) if rec["tier"] in TIERS else len(TIERS)
    return f"{ROW_ORDER.index(rec['state'])}{tier}"


def state_cell(rec: dict[str, Any], change: str | None, flaps: int, since: str) -> str:
    tags = []
    if change == "new_failures":
        tags.append('<span class="oc-tag oc-new">new</span>')
    elif change == "still_failing":
        tags.append(f'<span class="oc-tag" title="failing since {escape(since)}">since '
                    f'{escape(when(since)[5:16])}</span>')
    elif change == "recoveries":
        tags.append('<span class="oc-tag oc-back">recovered</span>')
    if flaps:
        tags.append(f'<span class="oc-tag oc-flap">flapping ({flaps})</span>')
    return (f'<td class="col-state"><span class="oc-k" data-k="{escape(sort_key(rec))}">'
            f'</span><span class="oc-badge {css(rec["state"])}">{escape(rec["state"])}</span>'
            f'{"".join(tags)}</td>')


def value_cell(rec: dict[str, Any], values: dict[str, list[float]], key: Any) -> str:
    lines = []
    named = len(rec["measurements"]) > 1  # one value: the check's name says what it is
    for m in rec["measurements"]:
        levels = levels_text(m)
        trend = sparkline(values.get(key(rec, m), []), m.get("state") or "ok")
        metric = f'<span class="oc-metric">{escape(m["metric"])}</span> ' if named else ""
        lines.append(f'<div class="oc-m" title="{escape(m["metric"])}">{metric}'
                     f'<b>{escape(value_text(m))}</b>'
                     f'{f" <small>({escape(levels)})</small>" if levels else ""}{trend}</div>')
    return f'<td class="col-value">{"".join(lines)}</td>'


def message_cell(rec: dict[str, Any]) -> str:
    if rec["state"] == "passed":
        return '<td class="col-message"></td>'
    text = rec["message"] or ""
    if rec["action"] and rec["action"] not in text:
        text += f". Action: {rec['action']}"
    return f'<td class="col-message">{escape(text)}</td>'


SPARK_W, SPARK_H = 72, 16  # the CSS gives the same size: svg.oc-spark
LEVELS = ("ok", "warning", "critical")  # a measurement's states: the last dot's class


def _xy(x: float, y: float) -> str:
    return f"{round(x, 1):g},{round(y, 1):g}"


def sparkline(values: list[float], state: str) -> str:
    """The last values as a small inline SVG line, the latest as a dot in its state's
    colour; empty for fewer than two values. Its size and strokes are the page's CSS."""
    if len(values) < 2:
        return ""
    low, high = min(values), max(values)
    span = high - low
    step = (SPARK_W - 4) / (len(values) - 1)
    points = [(2 + i * step, SPARK_H / 2 if not span else
               SPARK_H - 2 - (v - low) / span * (SPARK_H - 4)) for i, v in enumerate(values)]
    x, y = points[-1]
    dot = state if state in LEVELS else "ok"
    return (f'<svg class="oc-spark"><title>last {len(values)} values: '
            f'{escape(", ".join(f"{v:g}" for v in values))}</title><polyline points="'
            f'{" ".join(_xy(*p) for p in points)}"/><circle class="oc-{dot}" cx="{x:.1f}" '
            f'cy="{y:.1f}" r="2.2"/></svg>')
